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
  const [topology, members, settings, lock] = await Promise.all([
    registry.sets.topology(setId),
    registry.instances.listSetMembers(setId),
    registry.health.getSettings(setId),
    registry.locks.get('set', setId),
  ]);
  if (!topology || !settings || !lock) return undefined;
  const sourceId = sourceOf(topology);
  const source = members.find((m) => m.id === sourceId);
  if (!source) return undefined;
  const profile = settings.zoneProfileId ? await registry.profiles.get(settings.zoneProfileId) : undefined;
  return {
    setId,
    projectId: source.projectId,
    topology,
    source: summary(source),
    replicas: members.filter((m) => m.id !== source.id).map(summary),
    roles: Object.fromEntries(topology.members.map((m) => [m.id, roleOf(topology, m.id)])),
    settings,
    lock,
    zoneProfile: profile ? { id: profile.id, name: profile.name, primaryZone: profile.primaryZone, drZones: profile.drZones, ...(profile.autoRebuild ? { autoRebuild: true } : {}) } : null,
  };
}
