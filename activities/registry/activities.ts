// Registry activities: the workflows' only way to read or change the topology records.
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/errors';
import type { ProvisionInstanceSpec } from '../../lib/schemas';
import type { InstanceRecord, InstanceStatus, RegistryStore } from '../../registry/store';

export interface InstanceSummary {
  id: string;
  projectId: string;
  name: string;
  status: InstanceStatus;
  novaServerId: string | null;
  mysqlServerId: number | null;
}

const summary = (r: InstanceRecord): InstanceSummary => ({
  id: r.id,
  projectId: r.projectId,
  name: r.name,
  status: r.status,
  novaServerId: r.novaServerId,
  mysqlServerId: r.mysqlServerId,
});

export function createRegistryActivities(store: RegistryStore) {
  return {
    /** Records the instance (idempotent) and takes its operation lock for this workflow. */
    async registerInstance(input: { spec: ProvisionInstanceSpec; operationId: string }): Promise<InstanceSummary> {
      const { spec, operationId } = input;
      const existing = await store.getInstance(spec.instanceId);
      if (existing && existing.projectId !== spec.projectId) {
        throw ApplicationFailure.nonRetryable(`instanceId: ${spec.instanceId} belongs to another project`, ErrorType.InvalidInput);
      }
      if (!existing) {
        await store.insertInstance({
          id: spec.instanceId,
          projectId: spec.projectId,
          name: spec.name,
          flavorId: spec.flavorId,
          volumeSize: spec.volumeSizeGb,
          availabilityZone: spec.availabilityZone,
          databases: spec.databases,
          users: spec.users.map((u) => ({ name: u.name, host: u.host })),
          operationId,
          operationType: 'provisionInstance',
        });
      }
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
      const lock = await store.acquireOperation(input.instanceId, input.operationId, input.operationType);
      if (!lock.acquired) {
        throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} is busy with operation ${lock.heldBy} (${lock.type})`, ErrorType.OperationConflict);
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

    async setInstanceStatus(input: { instanceId: string; status: InstanceStatus; port?: number; fault?: string | null }): Promise<void> {
      await store.setStatus(input.instanceId, input.status, { port: input.port, fault: input.fault });
    },

    async removeInstance(instanceId: string): Promise<void> {
      await store.removeInstance(instanceId);
    },
  };
}

export type RegistryActivities = ReturnType<typeof createRegistryActivities>;
