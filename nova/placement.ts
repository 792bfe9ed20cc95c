// Host selection kept pure (no state, no I/O) so every scheduling rule can be
// tested as a table of cases, the way Nova's filter scheduler is reasoned about.
export interface ZoneConfig {
  name: string;
  hosts: string[];
}

export type GroupPolicy = 'affinity' | 'anti-affinity';

export interface PlacementRequest {
  zones: readonly ZoneConfig[];
  /** Requested availability zone; any zone when absent. */
  availabilityZone?: string;
  /** Server group of the new server, with the hosts its current members run on. */
  group?: { policy: GroupPolicy; memberHosts: readonly string[] };
  /** Number of servers currently placed per host; missing hosts count as 0. */
  load: Readonly<Record<string, number>>;
}

export type PlacementError =
  | { kind: 'UnknownZone'; reason: string }
  | { kind: 'NoValidHost'; reason: string };

export type PlacementResult =
  | { ok: true; zone: string; host: string }
  | { ok: false; error: PlacementError };

export function placeServer(req: PlacementRequest): PlacementResult {
  const zones = req.availabilityZone === undefined
    ? req.zones
    : req.zones.filter((z) => z.name === req.availabilityZone);
  if (zones.length === 0) {
    return fail('UnknownZone', `Availability zone '${req.availabilityZone}' does not exist.`);
  }
  // Config order is kept so that ties resolve deterministically.
  let candidates = zones.flatMap((z) => z.hosts.map((host) => ({ zone: z.name, host })));
  const where = req.availabilityZone === undefined ? 'any zone' : `zone ${req.availabilityZone}`;
  if (candidates.length === 0) return fail('NoValidHost', `There are no hosts in ${where}.`);

  if (req.group?.policy === 'anti-affinity') {
    const taken = new Set(req.group.memberHosts);
    candidates = candidates.filter((c) => !taken.has(c.host));
    if (candidates.length === 0) {
      return fail('NoValidHost', `Anti-affinity: every host in ${where} already holds a member of the server group.`);
    }
  } else if (req.group?.policy === 'affinity' && req.group.memberHosts.length > 0) {
    const wanted = new Set(req.group.memberHosts);
    candidates = candidates.filter((c) => wanted.has(c.host));
    if (candidates.length === 0) {
      const hosts = [...wanted].join(', ');
      return fail('NoValidHost', `Affinity: the server group's host (${hosts}) is not in ${where}.`);
    }
  }

  const loadOf = (host: string): number => req.load[host] ?? 0;
  // reduce keeps the first of equal candidates: ties go to config order.
  const best = candidates.reduce((a, b) => (loadOf(b.host) < loadOf(a.host) ? b : a));
  return { ok: true, zone: best.zone, host: best.host };
}

function fail(kind: PlacementError['kind'], reason: string): PlacementResult {
  return { ok: false, error: { kind, reason } };
}
