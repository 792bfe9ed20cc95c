// Disaster recovery (issue 18, use cases B1 and B4): a set following a zone profile has its
// source in the profile's primary zone and a replica in its first DR zone. Pure rules over
// what the API (before its 202) and the enableDr workflow (under way) gathered, so both
// refuse the same requests with the same words; table-tested.
import type { ZoneHosts } from './placement';
import type { ZoneProfile } from './zone-profiles';

/** What the rules read of the instance DR is asked for; absent: it is being created. */
export interface DrInstance {
  id: string;
  name: string;
  replicaOf: string | null;
  /** The profile its set follows already, if any. */
  zoneProfileName?: string | null;
}

export interface DrAsk {
  /** The name or id the request gave, and the profile it names (undefined: none such). */
  profileRef: string;
  profile: Pick<ZoneProfile, 'name' | 'primaryZone' | 'drZones'> | undefined;
  zones: readonly ZoneHosts[];
  instance?: DrInstance;
}

/** Why DR cannot be set up as asked, each led by the field it is about; empty: it can. */
export function drProblems(a: DrAsk, field: string): string[] {
  if (!a.profile) return [`${field}: zone profile "${a.profileRef}" does not exist (an administrator defines them; list them with zone-profile-list)`];
  const known = a.zones.map((z) => z.name);
  // The profile was valid when stored; Nova's zones may have changed since.
  const gone = [a.profile.primaryZone, ...a.profile.drZones].filter((z) => !known.includes(z));
  const problems = gone.map((z) => `${field}: zone profile "${a.profile!.name}" names zone "${z}", which does not exist (zones: ${known.join(', ')})`);
  const i = a.instance;
  if (i?.replicaOf) problems.push(`${field}: instance ${i.name} (${i.id}) is a replica of ${i.replicaOf}; DR is set up on the replication set's source`);
  if (i?.zoneProfileName) problems.push(`${field}: the replication set of ${i.name} already follows zone profile "${i.zoneProfileName}"; disable DR first`);
  return problems;
}

/** The zone the DR replica goes to: the profile's first DR zone. */
export const drZoneOf = (profile: Pick<ZoneProfile, 'drZones'>): string => profile.drZones[0]!;

/** The DR replica's name: the source's, marked, cut to the name rule's 64 characters. */
export const drReplicaName = (sourceName: string): string => `${sourceName.slice(0, 61)}-dr`;

export interface DrMember {
  id: string;
  zone: string | null;
  /** Its upstream; null for the source. */
  replicaOf: string | null;
  /** Its own replicas (a relay cannot be removed under them). */
  replicas: readonly string[];
}

/**
 * What dr-disable removes: the set's replicas in the profile's DR zones that replicate from
 * the source and feed nobody (the DR replicas dr_profile and dr-enable built). A set left
 * with no replica also gives up semi-sync and automatic failover, which the profile turned
 * on and which mean nothing without a replica.
 */
export function drDisablePlan(members: readonly DrMember[], profile: Pick<ZoneProfile, 'drZones'>): { remove: string[]; keepsReplicas: boolean } {
  const source = members.find((m) => m.replicaOf === null);
  const remove = members.filter((m) => m.replicaOf !== null && m.replicaOf === source?.id && m.replicas.length === 0 && m.zone !== null && profile.drZones.includes(m.zone)).map((m) => m.id);
  const keepsReplicas = members.some((m) => m.replicaOf !== null && !remove.includes(m.id));
  return { remove, keepsReplicas };
}

