// Whether Nova can place the servers a request asks for, decided before anything is built:
// a request Nova would put in ERROR minutes later ("No valid host") is refused at once,
// naming the rule. Pure: the API and the operation's first activity gather the zones, their
// hosts and the hosts the set's server group already holds from Nova, and ask this.
// Nova's own scheduler (nova/placement.ts) stays the last word; this is the same rule read
// ahead for a whole request, where Nova sees one server at a time.

/** Trove's `locality`: the set's members share one Nova server group with this policy. */
export const LOCALITIES = ['affinity', 'anti-affinity'] as const;
export type Locality = (typeof LOCALITIES)[number];

export interface ZoneHosts {
  name: string;
  hosts: readonly string[];
}

export interface PlacementAsk {
  /** Every zone Nova has, with its hosts. */
  zones: readonly ZoneHosts[];
  /** The zone the new servers go to; null: any zone. */
  zone: string | null;
  /** How many servers the request adds. */
  count: number;
  /** The server group they join: its policy and the hosts its members run on now. */
  group?: { policy: Locality; memberHosts: readonly string[] };
}

/** The caller's names of the fields a refusal is about (instance.availability_zone, replicate.count...). */
export interface PlacementFields {
  zone: string;
  count: string;
}

/** What stops the request from being placed, each led by the field it is about; empty: it can be placed. */
export function placementProblems(ask: PlacementAsk, fields: PlacementFields): string[] {
  const known = ask.zones.map((z) => z.name);
  if (ask.zone !== null && !known.includes(ask.zone)) {
    return [`${fields.zone}: zone "${ask.zone}" does not exist (zones: ${known.join(', ')})`];
  }
  const where = ask.zone === null ? 'any zone' : `zone ${ask.zone}`;
  const hosts = ask.zones.filter((z) => ask.zone === null || z.name === ask.zone).flatMap((z) => z.hosts);
  if (hosts.length === 0) return [`${fields.zone}: ${where} has no hosts`];
  if (!ask.group) return [];

  const taken = new Set(ask.group.memberHosts);
  if (ask.group.policy === 'anti-affinity') {
    const free = hosts.filter((h) => !taken.has(h));
    if (ask.count > free.length) {
      const held = hosts.length - free.length;
      return [
        `${fields.count}: anti-affinity puts every member of the set on its own host; ${where} has ${hosts.length} host(s)` +
          `${held ? `, ${held} already holding a member` : ''}, so ${ask.count} more cannot be placed (at most ${free.length})`,
      ];
    }
    return [];
  }
  // Affinity: the first member chose the host; every later one must be able to go there.
  const host = ask.group.memberHosts[0];
  if (host !== undefined && !hosts.includes(host)) {
    const home = ask.zones.find((z) => z.hosts.includes(host))?.name ?? 'no zone';
    return [`${fields.zone}: affinity keeps every member of the set on one host (${host}, in ${home}); ${where} cannot take one`];
  }
  return [];
}
