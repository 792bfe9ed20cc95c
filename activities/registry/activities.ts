// Registry activities: the workflows' only way to read or change the topology records.
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, waitsForSetLock } from '../../lib/errors';
import { replicationUserName } from '../../lib/names';
import type { ProvisionInstanceSpec } from '../../lib/schemas';
import type { MemberHealth, ReplicationSettings, SettingsPatch } from '../../lib/schemas';
import { randomPassword, sealSecret } from '../../lib/secrets';
import { newInstanceFromSpec, newReplicaRecord, type InstanceRecord, type InstanceStatus, type RegistryStore } from '../../registry/store';

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
  replicaOf: string | null;
  replicationSetId: string | null;
  replicas: string[];
}

const summary = (r: InstanceRecord): InstanceSummary => ({
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
  replicaOf: r.replicaOf,
  replicationSetId: r.replicationSetId,
  replicas: r.replicas,
});

export interface SetView {
  setId: string;
  projectId: string;
  source: InstanceSummary;
  replicas: InstanceSummary[];
  settings: ReplicationSettings;
  lock: { operationId: string | null; operationType: string | null };
}

export interface RegistryOptions {
  secretKey: Buffer;
  maxReplicas: number;
}

export { replicationUserName } from '../../lib/names';

const nonRetryable = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

export function createRegistryActivities(store: RegistryStore, options: RegistryOptions) {
  async function setView(setId: string, sourceHint?: string): Promise<SetView | undefined> {
    const members = await store.listSetMembers(setId);
    const settings = await store.getSettings(setId);
    const lock = await store.getSetLock(setId);
    if (!settings || !lock) return undefined;
    const source = members.find((m) => m.id === sourceHint) ?? members.find((m) => !m.replicaOf && m.replicas.length > 0) ?? members.find((m) => !m.replicaOf);
    if (!source) return undefined;
    return { setId, projectId: source.projectId, source: summary(source), replicas: members.filter((m) => m.replicaOf === source.id).map(summary), settings, lock };
  }

  /** The operation's lock on the set goes; a set left with one member is dissolved. */
  async function releaseSet(input: { setId: string; operationId: string }): Promise<void> {
    await store.releaseSet(input.setId, input.operationId);
    await store.dissolveSetIfAlone(input.setId);
  }

  async function lockSet(setId: string, operationId: string, operationType: string): Promise<void> {
    const lock = await store.acquireSet(setId, operationId, operationType);
    if (!lock.acquired) {
      throw nonRetryable(`replication set ${setId} is busy with operation ${lock.heldBy} (${lock.type})`, ErrorType.OperationConflict);
    }
  }

  return {
    /** Records the instance (idempotent) and takes its operation lock for this workflow. */
    async registerInstance(input: { spec: ProvisionInstanceSpec; operationId: string }): Promise<InstanceSummary> {
      const { spec, operationId } = input;
      const existing = await store.getInstance(spec.instanceId);
      if (existing && existing.projectId !== spec.projectId) {
        throw ApplicationFailure.nonRetryable(`instanceId: ${spec.instanceId} belongs to another project`, ErrorType.InvalidInput);
      }
      if (!existing) await store.insertInstance(newInstanceFromSpec(spec, operationId));
      const lock = await store.acquireOperation(spec.instanceId, operationId, 'provisionInstance');
      if (!lock.acquired) {
        throw ApplicationFailure.nonRetryable(`instance ${spec.instanceId} is busy with operation ${lock.heldBy}`, ErrorType.OperationConflict);
      }
      return summary((await store.getInstance(spec.instanceId))!);
    },

    /** Takes the lock of an existing instance of the project; NotFound hides other projects' ids. */
    async lockInstance(input: { instanceId: string; projectId: string; operationId: string; operationType: string }): Promise<InstanceSummary> {
      const rec = await store.getProjectInstance(input.projectId, input.instanceId);
      if (!rec) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} not found`, ErrorType.NotFound);
      if (input.operationType === 'deleteInstance' && rec.replicas.length > 0) {
        // Trove's rule (ReplicaSourceDeleteForbidden): a source outlives its replicas.
        throw nonRetryable(`instance ${rec.id} is the source of ${rec.replicas.length} replica(s); detach or delete them first`, ErrorType.InvalidInput);
      }
      const lock = await store.acquireOperation(input.instanceId, input.operationId, input.operationType);
      if (!lock.acquired) {
        throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} is busy with operation ${lock.heldBy} (${lock.type})`, ErrorType.OperationConflict);
      }
      // Deleting a replica changes its set too: hold both locks, or neither, before any change.
      if (input.operationType === 'deleteInstance' && rec.replicaOf && rec.replicationSetId) {
        const set = await store.acquireSet(rec.replicationSetId, input.operationId, input.operationType);
        if (!set.acquired) {
          await store.releaseOperation(input.instanceId, input.operationId);
          const busy = `replication set ${rec.replicationSetId} is busy with operation ${set.heldBy} (${set.type})`;
          if (waitsForSetLock(input.operationType, set.type)) throw ApplicationFailure.retryable(busy, ErrorType.SetBusyWithDelete);
          throw nonRetryable(busy, ErrorType.OperationConflict);
        }
      }
      return summary(rec);
    },

    async releaseInstance(input: { instanceId: string; operationId: string }): Promise<void> {
      await store.releaseOperation(input.instanceId, input.operationId);
    },

    async allocateServerId(instanceId: string): Promise<number> {
      return store.allocateServerId(instanceId);
    },

    async recordServer(input: { instanceId: string; novaServerId: string; address: string | null }): Promise<void> {
      await store.setServer(input.instanceId, input.novaServerId, input.address);
    },

    /** releaseOperationId: the operation's lock on the instance goes in the same step (its last). */
    async setInstanceStatus(input: { instanceId: string; status: InstanceStatus; port?: number; fault?: string | null; releaseOperationId?: string }): Promise<void> {
      await store.setStatus(input.instanceId, input.status, { port: input.port, fault: input.fault });
      if (input.releaseOperationId) await store.releaseOperation(input.instanceId, input.releaseOperationId);
    },

    async removeInstance(instanceId: string): Promise<void> {
      await store.removeInstance(instanceId);
    },

    /** createReplicas' first step: checks the source and takes its replication set's lock. */
    async beginReplicas(input: { sourceId: string; projectId: string; count: number; operationId: string }): Promise<InstanceSummary> {
      const src = await store.getProjectInstance(input.projectId, input.sourceId);
      if (!src) throw nonRetryable(`sourceInstanceId: instance ${input.sourceId} not found`, ErrorType.NotFound);
      if (src.replicaOf) {
        throw nonRetryable(`sourceInstanceId: instance ${src.id} is itself a replica of ${src.replicaOf}; replicas of replicas are not supported`, ErrorType.InvalidInput);
      }
      if (input.count > options.maxReplicas) throw nonRetryable(`count: must be at most ${options.maxReplicas} (TROVE_MAX_REPLICAS)`, ErrorType.InvalidInput);
      if (src.status !== 'ACTIVE') throw nonRetryable(`sourceInstanceId: instance ${src.id} is ${src.status}, not ACTIVE`, ErrorType.InvalidInput);
      if (src.operationId) throw nonRetryable(`instance ${src.id} is busy with operation ${src.operationId} (${src.operationType})`, ErrorType.OperationConflict);
      const setId = await store.ensureReplicationSet(src.id, src.projectId);
      await lockSet(setId, input.operationId, 'createReplicas');
      return summary((await store.getInstance(src.id))!);
    },

    /** Records a replica (BUILD, its builder holding its lock) as a member of the set. */
    async registerReplica(input: {
      replicaId: string;
      projectId: string;
      name: string;
      flavorId: string;
      volumeSize: number;
      availabilityZone: string | null;
      sourceId: string;
      setId: string;
      readOnly: boolean;
      operationId: string;
    }): Promise<InstanceSummary> {
      await store.insertInstance(newReplicaRecord({ ...input, volumeSizeGb: input.volumeSize }));
      const lock = await store.acquireOperation(input.replicaId, input.operationId, 'buildReplica');
      if (!lock.acquired) throw nonRetryable(`instance ${input.replicaId} is busy with operation ${lock.heldBy}`, ErrorType.OperationConflict);
      // A row the API recorded ahead of time does not know the set yet.
      await store.setMembership(input.replicaId, { replicaOf: input.sourceId, replicationSetId: input.setId, readOnly: input.readOnly });
      return summary((await store.getInstance(input.replicaId))!);
    },

    /** The replica's account on its source: created once, password sealed, reused by retries. */
    async replicationCredential(input: { replicaId: string; sourceId: string }): Promise<{ userName: string; sealedPassword: string }> {
      const existing = await store.getReplicationUser(input.replicaId);
      if (existing) return { userName: existing.userName, sealedPassword: existing.sealedPassword };
      const created = await store.putReplicationUser({
        replicaId: input.replicaId,
        sourceId: input.sourceId,
        userName: replicationUserName(input.replicaId),
        sealedPassword: sealSecret(options.secretKey, randomPassword()),
      });
      return { userName: created.userName, sealedPassword: created.sealedPassword };
    },

    /** A failed replica leaves no record: its outcome is reported by createReplicas instead. */
    async removeFailedReplica(replicaId: string): Promise<void> {
      await store.deleteReplicationUser(replicaId);
      await store.removeInstance(replicaId);
    },

    async discardUnbuiltReplicas(replicaIds: string[]): Promise<number> {
      return store.removeUnbuilt(replicaIds);
    },

    async releaseSet(input: { setId: string; operationId: string }): Promise<void> {
      await releaseSet(input);
    },

    /** createReplicas' last registry step: discardUnbuiltReplicas, then releaseSet. */
    async finishReplicas(input: { replicaIds: string[]; setId: string; operationId: string }): Promise<void> {
      await store.removeUnbuilt(input.replicaIds);
      await releaseSet(input);
    },

    /** detachReplica's first step: the instance must be a replica of this project. */
    async beginDetach(input: { instanceId: string; projectId: string; operationId: string; operationType: string }): Promise<{ replica: InstanceSummary; source: InstanceSummary; userName: string | null }> {
      const rec = await store.getProjectInstance(input.projectId, input.instanceId);
      if (!rec) throw nonRetryable(`instance ${input.instanceId} not found`, ErrorType.NotFound);
      if (!rec.replicaOf || !rec.replicationSetId) throw nonRetryable(`instance ${rec.id} is not a replica; there is nothing to detach`, ErrorType.InvalidInput);
      const source = await store.getInstance(rec.replicaOf);
      if (!source) throw nonRetryable(`the source ${rec.replicaOf} of instance ${rec.id} no longer exists`, ErrorType.NotFound);
      await lockSet(rec.replicationSetId, input.operationId, input.operationType);
      const lock = await store.acquireOperation(rec.id, input.operationId, input.operationType);
      if (!lock.acquired) {
        await store.releaseSet(rec.replicationSetId, input.operationId);
        throw nonRetryable(`instance ${rec.id} is busy with operation ${lock.heldBy} (${lock.type})`, ErrorType.OperationConflict);
      }
      const cred = await store.getReplicationUser(rec.id);
      return { replica: summary(rec), source: summary(source), userName: cred?.userName ?? replicationUserName(rec.id) };
    },

    /** Promote (of a replica) and eject (of a source) start here: validate, lock the set, describe it. */
    async beginSetChange(input: { instanceId: string; projectId: string; operationId: string; operationType: 'promoteToReplicaSource' | 'ejectReplicaSource' }): Promise<SetView> {
      const rec = await store.getProjectInstance(input.projectId, input.instanceId);
      if (!rec) throw nonRetryable(`instance ${input.instanceId} not found`, ErrorType.NotFound);
      let sourceId: string;
      if (input.operationType === 'promoteToReplicaSource') {
        if (!rec.replicaOf) throw nonRetryable(`instance ${rec.id} is not a replica; only a replica can be promoted to replica source`, ErrorType.InvalidInput);
        sourceId = rec.replicaOf;
      } else {
        if (rec.replicaOf) throw nonRetryable(`instance ${rec.id} is a replica; eject the source it replicates from (${rec.replicaOf})`, ErrorType.InvalidInput);
        if (rec.replicas.length === 0) throw nonRetryable(`instance ${rec.id} has no replicas to fail over to`, ErrorType.InvalidInput);
        sourceId = rec.id;
      }
      const setId = rec.replicationSetId!;
      await lockSet(setId, input.operationId, input.operationType);
      return (await setView(setId, sourceId))!;
    },

    async describeSet(setId: string): Promise<SetView | undefined> {
      return setView(setId);
    },

    async applyNewSource(input: { setId: string; newSourceId: string; formerSourceId: string; formerSource: 'replica' | 'fenced'; fault?: string }): Promise<void> {
      await store.applyNewSource(input);
    },

    async storeHealth(input: { setId: string; health: MemberHealth[] }): Promise<void> {
      await store.storeHealth(input.setId, input.health);
    },

    async recordAutomaticFailover(input: { setId: string; operationId: string }): Promise<void> {
      await store.recordAutomaticFailover(input.setId, input.operationId, new Date());
    },

    async updateSettings(input: { setId: string; patch: SettingsPatch }): Promise<ReplicationSettings> {
      await store.updateSettings(input.setId, input.patch);
      return (await store.getSettings(input.setId))!;
    },

    /** The replica leaves the set: no source, writable, no account on the old source. */
    async finishDetach(input: { instanceId: string }): Promise<void> {
      await store.setMembership(input.instanceId, { replicaOf: null, replicationSetId: null, readOnly: false });
      await store.deleteReplicationUser(input.instanceId);
    },
  };
}

export type RegistryActivities = ReturnType<typeof createRegistryActivities>;
