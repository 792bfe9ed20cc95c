// Zone profiles (use case B2): an administrator's named choice of where a replication set
// lives for disaster recovery (a primary zone, DR zones), how its members are spread, and
// its replication settings. Pure rules over what the API gathered (Nova's zones, the names
// taken, the sets following a profile), table-tested; the API answers their refusals.
import type { Locality, ZoneHosts } from './placement';

export interface ZoneProfileSpec {
  name: string;
  description?: string | null;
  primaryZone: string;
  drZones: string[];
  /** How the set's members share hosts (its Nova server group's policy); null: no group. */
  locality: Locality | null;
  semiSync: boolean;
  autoFailover: boolean;
  /**
   * After a failover that lost the primary zone: once Nova reports that zone available again,
   * rebuild its fenced members as replicas of the new source (rebuildAsReplica), unasked.
   */
  autoRebuild?: boolean;
}

export interface ZoneProfile extends ZoneProfileSpec {
  id: string;
  created: Date;
}

/** Field names as the API body spells them, so each refusal names what to change. */
const FIELD = {
  name: 'zone_profile.name',
  primaryZone: 'zone_profile.primary_zone',
  drZones: 'zone_profile.dr_zones',
  locality: 'zone_profile.locality',
};

/** What makes the profile unusable, each led by its field; empty: it may be stored. */
export function zoneProfileProblems(p: ZoneProfileSpec, zones: readonly ZoneHosts[], takenNames: readonly string[]): string[] {
  const problems: string[] = [];
  const known = zones.map((z) => z.name);
  const unknown = (zone: string) => `zone "${zone}" does not exist (zones: ${known.join(', ')})`;
  // The registry compares names without case, as it does instance names.
  if (takenNames.some((n) => n.toLowerCase() === p.name.toLowerCase())) problems.push(`${FIELD.name}: a profile named "${p.name}" already exists`);
  if (!known.includes(p.primaryZone)) problems.push(`${FIELD.primaryZone}: ${unknown(p.primaryZone)}`);
  if (p.drZones.length === 0) problems.push(`${FIELD.drZones}: name at least one zone for the DR replica`);
  p.drZones.forEach((zone, i) => {
    const at = `${FIELD.drZones}[${i}]`;
    if (!known.includes(zone)) problems.push(`${at}: ${unknown(zone)}`);
    else if (zone === p.primaryZone) problems.push(`${at}: must differ from primary_zone (a DR zone survives the primary zone's loss)`);
    else if (p.drZones.indexOf(zone) < i) problems.push(`${at}: zone "${zone}" is listed twice`);
  });
  // One server group spans the set; its DR member is in another zone, so on another host.
  if (p.locality === 'affinity') {
    problems.push(`${FIELD.locality}: affinity keeps every member on one host, so none could be in a DR zone; use anti-affinity or null`);
  }
  return problems;
}

/** Whether the profile may go: not while a set follows it (it says where that set's members live). */
export function zoneProfileDeletion(profile: Pick<ZoneProfile, 'name'>, followedBy: readonly string[]): { status: 409; message: string } | undefined {
  if (followedBy.length === 0) return undefined;
  return { status: 409, message: `zone profile "${profile.name}" is in use by ${followedBy.length} replication set(s) (${followedBy.join(', ')}); disable DR on them first` };
}
