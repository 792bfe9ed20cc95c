// Registry activities: the workflows' only way to read or change the registry. A small
// generic set (begin and end an operation, record and change an instance, apply a topology
// transition, record health) rather than one per workflow step.
import { ApplicationFailure } from '@temporalio/common';
import { drProblems, drZoneOf } from '../../lib/dr';
import { ErrorType } from '../../lib/errors';
import { replicationUserName } from '../../lib/names';
import type { NewInstance } from '../../lib/records';
import type { PlacementReader } from '../../lib/placement-check';
import type { Limits } from '../../lib/rules';
import type { MemberHealth, ReplicationSettings, SettingsPatch } from '../../lib/schemas';
import { randomPassword, sealSecret } from '../../lib/secrets';
import { TopologyError, type Transition } from '../../lib/topology';
import type { BackupChange, BackupRecord, InstanceChange, Registry } from '../../registry';
import { createOperationActivities } from './operations';
import { setView, summary, type InstanceSummary, type SetView } from './views';

export type { InstanceSummary, SetView } from './views';

/** The profile DR follows, as enableDr needs it (no secret: zone names and settings). */
export interface DrProfileChoice {
  id: string;
  name: string;
  primaryZone: string;
  drZone: string;
  semiSync: boolean;
  autoFailover: boolean;
  sourceName: string;
}
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

    /** A backup's progress (Trove's NEW, BUILDING, COMPLETED, FAILED) and what its snapshot holds. */
    async updateBackup(input: BackupChange & { backupId: string }): Promise<{ backupId: string; changed: string[] }> {
      const { backupId, ...change } = input;
      await registry.backups.update(backupId, change);
      return { backupId, changed: Object.keys(change) };
    },

    async getBackup(backupId: string): Promise<BackupRecord | null> {
      return (await registry.backups.get(backupId)) ?? null;
    },

    /** The backup's record goes, once its snapshot is deleted. */
    async forgetBackup(backupId: string): Promise<{ forgotten: string }> {
      await registry.backups.remove(backupId);
      return { forgotten: backupId };
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
    async applyTransition(input: { setId: string; transition: Transition; fault?: string; faults?: Record<string, string> }): Promise<{ setId: string; applied: Transition['kind'] }> {
      await applyTransition(input.setId, input.transition, input.fault, input.faults);
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

    /**
     * The zone profile DR is set up with on the instance, after the same rule the API applied
     * before its 202 (lib/dr.ts drProblems): a direct start meets the same refusals.
     */
    async drProfileFor(input: { projectId: string; instanceId: string; profile: string }): Promise<DrProfileChoice> {
      const [rec, profile] = await Promise.all([instances.getInProject(input.projectId, input.instanceId), registry.profiles.get(input.profile)]);
      if (!rec) throw ApplicationFailure.nonRetryable(`instanceId: instance ${input.instanceId} not found in project ${input.projectId}`, ErrorType.InvalidInput);
      const followed = rec.replicationSetId ? (await health.getSettings(rec.replicationSetId))?.zoneProfileId : null;
      const zoneProfileName = followed ? ((await registry.profiles.get(followed))?.name ?? followed) : null;
      // Without a Nova reader (tests of the registry alone) the profile's zones are taken as they are.
      const zones = options.placement ? await options.placement.listZoneHosts() : [...new Set([profile?.primaryZone ?? '', ...(profile?.drZones ?? [])])].map((name) => ({ name, hosts: [] }));
      const problems = drProblems({ profileRef: input.profile, profile, zones, instance: { id: rec.id, name: rec.name, replicaOf: rec.replicaOf, zoneProfileName } }, 'profile');
      if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), ErrorType.InvalidInput);
      const p = profile!;
      return { id: p.id, name: p.name, primaryZone: p.primaryZone, drZone: drZoneOf(p), semiSync: p.semiSync, autoFailover: p.autoFailover, sourceName: rec.name };
    },

    async updateSettings(input: { setId: string; patch: SettingsPatch }): Promise<ReplicationSettings> {
      await health.updateSettings(input.setId, input.patch);
      return (await health.getSettings(input.setId))!;
    },
  };

  async function applyTransition(setId: string, transition: Transition, fault?: string, faults?: Record<string, string>): Promise<void> {
    try {
      await sets.apply(setId, transition, { limits: options, fault, faults });
    } catch (err) {
      // A transition the model refuses is a bug or a stale view, never fixed by a retry.
      if (err instanceof TopologyError) throw ApplicationFailure.nonRetryable(`set ${setId}: ${err.message}`, ErrorType.InvalidInput);
      throw err;
    }
  }
}

export type RegistryActivities = ReturnType<typeof createRegistryActivities>;
