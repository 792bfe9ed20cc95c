// A set that is TLS from its first replica: what a request for TLS replicas means, given the
// set as it stands. One rule, asked by the API (a 400 before the 202) and by createReplicas
// under the set's lock (the set may have changed between the two).

/** What the request's `replication.tls` does to the set: nothing, start it TLS, or a refusal. */
export type TlsFromStart = { kind: 'inherit' } | { kind: 'start' } | { kind: 'refused'; message: string };

/**
 * `set` is the source's set as the registry knows it (absent: no set yet); `links` counts the
 * links that replicate today (replicas being built by this very request do not count).
 * A set already TLS gives its replicas TLS anyway. A set with no link yet starts TLS with
 * these replicas: no link ever runs in clear text. A set that already replicates in clear
 * text is refused: its links are changed by enableReplicationTls (all of them, under a
 * check that every member answers), not as a side effect of adding one replica.
 */
export function tlsFromStart(set: { tls: boolean; links: number } | undefined): TlsFromStart {
  if (set?.tls) return { kind: 'inherit' };
  if (!set || set.links === 0) return { kind: 'start' };
  return {
    kind: 'refused',
    message: `the replication set already replicates in plain text (${set.links} link(s)); turn TLS on for the whole set with PATCH /instances/{id}/replication {"replication": {"tls": true}}`,
  };
}
