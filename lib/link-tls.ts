// Whether a replication link runs as its set asks: in a TLS set every link connects with TLS
// and verifies its source's certificate (SHOW SLAVE STATUS: Master_SSL_Allowed and
// Master_SSL_Verify_Server_Cert). One rule, for `show`'s health and the Web UI's table.
import type { MemberHealth } from './schemas';

/** What a member's link says about TLS: 'tls', 'plain', or '-' (no link, or not read). */
export function linkTls(h: Pick<MemberHealth, 'tls'>): 'tls' | 'plain' | '-' {
  return h.tls === true ? 'tls' : h.tls === false ? 'plain' : '-';
}

/** The health problem of a link that should be TLS and is not; null when there is none (or nothing was read). */
export function linkTlsProblem(setTls: boolean, h: Pick<MemberHealth, 'tls'>): string | null {
  if (!setTls || linkTls(h) !== 'plain') return null;
  return 'the set replicates over TLS but this link does not (it connects without TLS or does not verify its source\'s certificate)';
}
