// Registry activities: the workflows' only way to read or change the registry. A small
// generic set (begin and end an operation, record and change an instance, apply a topology
// transition, record health) rather than one per workflow step.
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/errors';
import { replicationUserName } from '../../lib/names';
import type { NewInstance } from '../../lib/records';
import type { PlacementReader } from '../../lib/placement-check';
import type { Limits } from '../../lib/rules';
import type { MemberHealth, ReplicationSettings, SettingsPatch } from '../../lib/schemas';
import { randomPassword, sealSecret } from '../../lib/secrets';
import { TopologyError, type Transition } from '../../lib/topology';
import type { InstanceChange, Registry } from '../../registry';
import { createOperationActivities } from './operations';
import { setView, summary, type InstanceSummary, type SetView } from './views';

export type { InstanceSummary, SetView } from './views';
export type { BeginInput, BeginResult, EndInput } from './operations';

export interface RegistryOptions extends Limits {
  secretKey: Buffer;
  /** Nova's zones and server groups: createReplicas' placement is checked under the set's lock. */
  placement?: PlacementReader;
}

export function createRegistryActivities(registry: Registry, options: RegistryOptions) {
  const { instances, sets, accounts, health } = registry;
  return {
    ...createOperationActivities(registry, options, options.placement),

    /**
     * Records an instance the operation creates (idempotent), holding the operation's lock;
     * with `setId`, the new replica joins that set in the same step.
     */
    async recordInstance(input: { record: NewInstance; setId?: string }): Promise<InstanceSummary> {
      const { record } = input;
      const existing = await instances.get(record.id);
      if (existing && existing.projectId !== record.projectId) {
        throw ApplicationFailure.nonRetryable(`instanceId: ${record.id} belongs to another project`, ErrorType.InvalidInput);
      }
      if (!existing) await instances.insert(record);
      const lock = await registry.locks.acquire('instance', record.id, record.operationId, record.operationType);
      if (!lock.acquired) throw ApplicationFailure.nonRetryable(`instance ${record.id} is busy with operation ${lock.heldBy}`, ErrorType.OperationConflict);
      if (input.setId && record.replicaOf) {
        await applyTransition(input.setId, { kind: 'add-replica', replicaId: record.id, sourceId: record.replicaOf, writable: !record.readOnly });
      }
      return summary((await instances.get(record.id))!);
    },

    /** releaseOperationId: the operation's lock on the instance goes in the same step (its last). */
    async updateInstance(input: InstanceChange & { instanceId: string; releaseOperationId?: string }): Promise<{ instanceId: string; changed: string[]; lockReleased: boolean }> {
      const { instanceId, releaseOperationId, ...change } = input;
      await instances.update(instanceId, change);
      if (releaseOperationId) await registry.locks.release('instance', instanceId, releaseOperationId);
      return { instanceId, changed: Object.keys(change), lockReleased: Boolean(releaseOperationId) };
    },

    /** The instance leaves no record: its row, link, account and health, at once. */
    async forgetInstance(instanceId: string): Promise<{ forgotten: string }> {
      await instances.remove(instanceId);
      return { forgotten: instanceId };
    },

    async allocateServerId(instanceId: string): Promise<number> {
      return instances.allocateServerId(instanceId);
    },

    /** The replica's account on its source: created once, password sealed, reused by retries. */
    async replicationCredential(input: { replicaId: string; sourceId: string }): Promise<{ userName: string; sealedPassword: string }> {
      const existing = await accounts.get(input.replicaId);
      const account =
        existing ??
        (await accounts.put({ replicaId: input.replicaId, sourceId: input.sourceId, userName: replicationUserName(input.replicaId), sealedPassword: sealSecret(options.secretKey, randomPassword()) }));
      return { userName: account.userName, sealedPassword: account.sealedPassword };
    },

    /** The member's monitoring account password: issued once, sealed, reused by retries (migration 011). */
    async monitorCredential(input: { instanceId: string }): Promise<{ sealedPassword: string }> {
      const sealed = await registry.monitorAccounts.issue(input.instanceId, sealSecret(options.secretKey, randomPassword()));
      if (!sealed) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} does not exist`, ErrorType.NotFound);
      return { sealedPassword: sealed };
    },

    /** The members' agents made their monitoring accounts: the watch reads them directly from now on. */
    async monitorAccountsReady(input: { instanceIds: string[] }): Promise<{ ready: string[] }> {
      await registry.monitorAccounts.markReady(input.instanceIds);
      return { ready: input.instanceIds };
    },

    async describeSet(setId: string): Promise<SetView | undefined> {
      return setView(registry, setId);
    },

    /** One topology transition (lib/topology.ts), validated, in one transaction. */
    async applyTransition(input: { setId: string; transition: Transition; fault?: string }): Promise<{ setId: string; applied: Transition['kind'] }> {
      await applyTransition(input.setId, input.transition, input.fault);
      return { setId: input.setId, applied: input.transition.kind };
    },

    async recordHealth(input: { setId: string; health: MemberHealth[] }): Promise<{ setId: string; members: number }> {
      await health.store(input.setId, input.health);
      return { setId: input.setId, members: input.health.length };
    },

    async recordAutomaticFailover(input: { setId: string; operationId: string }): Promise<{ setId: string; operationId: string }> {
      await health.recordAutomaticFailover(input.setId, input.operationId, new Date());
      return { setId: input.setId, operationId: input.operationId };
    },

    async updateSettings(input: { setId: string; patch: SettingsPatch }): Promise<ReplicationSettings> {
      await health.updateSettings(input.setId, input.patch);
      return (await health.getSettings(input.setId))!;
    },
  };

  async function applyTransition(setId: string, transition: Transition, fault?: string): Promise<void> {
    try {
      await sets.apply(setId, transition, { limits: options, fault });
    } catch (err) {
      // A transition the model refuses is a bug or a stale view, never fixed by a retry.
      if (err instanceof TopologyError) throw ApplicationFailure.nonRetryable(`set ${setId}: ${err.message}`, ErrorType.InvalidInput);
      throw err;
    }
  }
}

export type RegistryActivities = ReturnType<typeof createRegistryActivities>;
