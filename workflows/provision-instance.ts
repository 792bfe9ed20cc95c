// provisionInstance: register the instance, boot its server through Nova, and have the
// server's guest agent set up MariaDB with the requested databases and users. A failure
// at any step deletes the server and leaves the instance in ERROR with the reason.
import { CancellationScope, executeChild, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { instanceNameAttribute, novaServerName, serverGroupName, workflowIds } from '../lib/names';
import { newInstanceFromSpec } from '../lib/records';
import { provisionInstanceInput, type ProvisionInstanceInput, type ProvisionInstanceResult } from '../lib/schemas';
import { compute, computeWait, errorMessage, guestActivities, guestLong, operationFailure, parseInput, registry, tagOperation } from './common';
import { Progress } from './progress';
import { Saga } from './saga';

export async function provisionInstance(raw: ProvisionInstanceInput): Promise<ProvisionInstanceResult> {
  const spec = parseInput(provisionInstanceInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('provisionInstance', () => `instance \`${spec.name}\` (${spec.instanceId}), flavor ${spec.flavorId}`);
  tagOperation(spec.projectId, spec.instanceId);

  progress.phase('registering');
  try {
    await registry.recordInstance({ record: newInstanceFromSpec(spec, operationId) });
  } catch (err) {
    throw operationFailure(err, 'provisioning refused', ErrorType.OperationConflict);
  }

  const saga = new Saga();
  try {
    const flavor = await compute.getFlavor(spec.flavorId);
    const mysqlServerId = await registry.allocateServerId(spec.instanceId);

    // Only an input that asks for a locality has this step, and no 0.1.0 input can: its
    // histories replay without it (docs/patches.md, "New input, new steps").
    let serverGroupId: string | undefined;
    if (spec.locality) {
      progress.phase('creating server group');
      const groupName = serverGroupName(spec.instanceId);
      saga.add('delete server group', () => compute.deleteServerGroup({ name: groupName }));
      serverGroupId = await compute.ensureServerGroup({ name: groupName, policy: spec.locality });
    }

    progress.phase('creating server');
    const name = novaServerName(spec.instanceId);
    // Registered before the call: Nova may have created the server even if the
    // activity's answer was lost, and deleting by name finds it either way.
    saga.add('delete server', () => compute.deleteServer({ name }));
    const novaServerId = await compute.createServer({
      name,
      flavorId: spec.flavorId,
      availabilityZone: spec.availabilityZone,
      metadata: { trove_instance_id: spec.instanceId, trove_project_id: spec.projectId },
      ...(serverGroupId ? { group: serverGroupId } : {}),
    });
    const ready = await computeWait.waitForServerActive(novaServerId);
    // The zone Nova chose is recorded, so that replicas follow the source there when none is asked.
    await registry.updateInstance({
      instanceId: spec.instanceId,
      novaServerId,
      address: ready.address,
      ...(ready.availabilityZone && !spec.availabilityZone ? { availabilityZone: ready.availabilityZone } : {}),
      ...(serverGroupId ? { serverGroupId } : {}),
    });

    // From a backup (Trove's restorePoint): its data, databases and users are the new master's.
    // Only an input that names a backup has this step (no 0.1.0 input can: docs/patches.md,
    // "New input, new steps").
    let prepared: { port: number };
    if (spec.restoreBackupId) {
      progress.phase('restoring backup');
      await guestLong(novaServerId).restoreSnapshot({ snapshotId: spec.restoreBackupId, mysqlServerId, readOnly: false });
      prepared = { port: 3306 };
    } else {
      progress.phase('preparing database');
      prepared = await guestActivities(novaServerId).prepare({
        mysqlServerId,
        readOnly: false,
        databases: spec.databases,
        users: spec.users,
      });
    }
    await registry.updateInstance({ instanceId: spec.instanceId, status: 'ACTIVE', port: prepared.port, fault: null });
    progress.phase('active');
    return { instanceId: spec.instanceId, status: 'ACTIVE', novaServerId, address: ready.address, port: prepared.port, mysqlServerId, flavorRamMb: flavor.ram };
  } catch (err) {
    const reason = errorMessage(err);
    progress.fail(reason);
    await CancellationScope.nonCancellable(async () => {
      const failed = await saga.compensate();
      const fault = failed.length ? `${reason} (cleanup failed: ${failed.join(', ')})` : reason;
      await registry.updateInstance({ instanceId: spec.instanceId, status: 'ERROR', fault });
    });
    throw operationFailure(err, 'provisioning failed', ErrorType.ServerBuildFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: spec.instanceId }));
  }
}

/**
 * A create-time option (a DR profile, a pair) provisions the instance first, as a child, and
 * then builds on it. Its own failure is already the instance's fault (provisionInstance records it).
 */
export async function provisionAsChild(instanceId: string, provision: ProvisionInstanceInput): Promise<void> {
  await executeChild(provisionInstance, {
    workflowId: workflowIds.provisionInstance(instanceId),
    args: [provision],
    typedSearchAttributes: instanceNameAttribute(provision.name),
  });
}
