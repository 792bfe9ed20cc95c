// The placement check with what it reads: Nova's zones and hosts, and the hosts the set's
// server group already holds (gather), then the pure rule (lib/placement.ts decides). The
// API runs it before answering; createReplicas' first activity runs it again under the
// set's lock, where a direct start of the workflow meets it too.
import { placementProblems, type Locality, type PlacementFields, type ZoneHosts } from './placement';

/** What the check reads from Nova (NovaClient has both). */
export interface PlacementReader {
  listZoneHosts(): Promise<ZoneHosts[]>;
  groupPlacement(groupId: string): Promise<{ policy: Locality; memberHosts: string[] } | undefined>;
}

export interface PlacementRequest {
  /** Where the new servers go; null: any zone. */
  zone: string | null;
  count: number;
  /** The group they join (a replica: its source's). */
  serverGroupId?: string | null;
  /** A new set's locality: its group does not exist yet, so it holds no host. */
  locality?: Locality | null;
}

export async function checkPlacement(nova: PlacementReader, r: PlacementRequest, fields: PlacementFields): Promise<string[]> {
  const [zones, existing] = await Promise.all([nova.listZoneHosts(), r.serverGroupId ? nova.groupPlacement(r.serverGroupId) : undefined]);
  const group = existing ?? (r.locality ? { policy: r.locality, memberHosts: [] } : undefined);
  return placementProblems({ zones, zone: r.zone, count: r.count, ...(group ? { group } : {}) }, fields);
}
