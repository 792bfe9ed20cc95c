// What the registry activities hand to workflows: an instance's summary and a set's view,
// both read through the topology model (roles come from the links).
import type { Locality } from '../../lib/placement';
import { roleOf, sourceOf, type Role, type Topology } from '../../lib/topology';
import type { ReplicationSettings } from '../../lib/schemas';
import type { LockState } from '../../lib/rules';
import type { InstanceRecord, InstanceStatus, Registry } from '../../registry';

export interface InstanceSummary {
  id: string;
  projectId: string;
  name: string;
  status: InstanceStatus;
  novaServerId: string | null;
  mysqlServerId: number | null;
  address: string | null;
  port: number | null;
  flavorId: string;
  volumeSize: number;
  availabilityZone: string | null;
  /** Trove's locality and the Nova server group the set's members share (absent in 0.1.0 histories). */
  locality?: Locality | null;
  serverGroupId?: string | null;
  replicaOf: string | null;
  replicationSetId: string | null;
  replicas: string[];
}

export const summary = (r: InstanceRecord): InstanceSummary => ({
  id: r.id,
  projectId: r.projectId,
  name: r.name,
  status: r.status,
  novaServerId: r.novaServerId,
  mysqlServerId: r.mysqlServerId,
  address: r.address,
  port: r.port,
  flavorId: r.flavorId,
  volumeSize: r.volumeSize,
  availabilityZone: r.availabilityZone,
  locality: r.locality,
  serverGroupId: r.serverGroupId,
  replicaOf: r.replicaOf,
  replicationSetId: r.replicationSetId,
  replicas: r.replicas,
});

export interface SetView {
  setId: string;
  projectId: string;
  topology: Topology;
  /** The member taking the set's writes. */
  source: InstanceSummary;
  /** Every other member, in the order they joined. */
  replicas: InstanceSummary[];
  roles: Record<string, Role>;
  settings: ReplicationSettings;
  lock: LockState;
  /** The zone profile the set follows (DR): failover prefers its zones in order. Absent in older histories. */
  zoneProfile?: { id: string; name: string; primaryZone: string; drZones: string[]; autoRebuild?: boolean } | null;
}

export async function setView(registry: Registry, setId: string): Promise<SetView | undefined> {
  return (await setViews(registry, [setId])).get(setId);
}

/**
 * Many sets' views in one batch of queries, whatever their number (the watch reads every set a
 * worker watches once a poll: per set it would be ten queries). A set absent or without its
 * source is left out.
 */
export async function setViews(registry: Registry, setIds: string[]): Promise<Map<string, SetView>> {
  const ids = [...new Set(setIds)];
  const [topologies, membersBySet, settingsBySet, locks] = await Promise.all([
    registry.sets.topologies(ids),
    registry.instances.listMembersOfSets(ids),
    registry.health.getSettingsMany(ids),
    registry.locks.getMany('set', ids),
  ]);
  const views = new Map<string, SetView>();
  for (const setId of ids) {
    const topology = topologies.get(setId);
    const settings = settingsBySet.get(setId);
    const lock = locks.get(setId);
    if (!topology || !settings || !lock) continue;
    const members = membersBySet.get(setId) ?? [];
    const sourceId = sourceOf(topology);
    const source = members.find((m) => m.id === sourceId);
    if (!source) continue;
    const profile = settings.zoneProfileId ? await registry.profiles.get(settings.zoneProfileId) : undefined;
    views.set(setId, {
      setId,
      projectId: source.projectId,
      topology,
      source: summary(source),
      replicas: members.filter((m) => m.id !== source.id).map(summary),
      roles: Object.fromEntries(topology.members.map((m) => [m.id, roleOf(topology, m.id)])),
      settings,
      lock,
      zoneProfile: profile ? { id: profile.id, name: profile.name, primaryZone: profile.primaryZone, drZones: profile.drZones, ...(profile.autoRebuild ? { autoRebuild: true } : {}) } : null,
    });
  }
  return views;
}
