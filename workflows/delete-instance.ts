// deleteInstance: take the instance's lock, delete its server (every process and the
// disk go with it), then forget the instance. Deleting an already-deleted server is a
// no-op, so the workflow converges whatever step a crash interrupted.
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { novaServerName } from '../lib/names';
import { deleteInstanceInput, type DeleteInstanceInput, type DeleteInstanceResult } from '../lib/schemas';
import { compute, errorMessage, guestActivities, operationFailure, parseInput, registry, tagOperation } from './common';
import { Progress } from './progress';

export async function deleteInstance(raw: DeleteInstanceInput): Promise<DeleteInstanceResult> {
  const input = parseInput(deleteInstanceInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('deleteInstance', () => `instance ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  progress.phase('locking');
  let instance;
  try {
    instance = await registry.lockInstance({ ...input, operationId, operationType: 'deleteInstance' });
  } catch (err) {
    throw operationFailure(err, 'delete refused', ErrorType.OperationConflict);
  }
  let setId: string | null = null;
  try {
    // A replica leaves its set first, taking its replication account on the source with it.
    if (instance.replicaOf) {
      // lockInstance already took the set's lock: release it whatever happens next.
      setId = instance.replicationSetId;
      progress.phase('leaving replication set');
      const { source, userName } = await registry.beginDetach({ ...input, operationId, operationType: 'deleteInstance' });
      if (userName && source.novaServerId) await guestActivities(source.novaServerId).dropReplicationUser({ userName });
      await registry.finishDetach({ instanceId: input.instanceId });
    }
    await registry.setInstanceStatus({ instanceId: input.instanceId, status: 'SHUTDOWN' });
    progress.phase('deleting server');
    const deletedServers = await compute.deleteServer({ novaServerId: instance.novaServerId, name: novaServerName(input.instanceId) });
    progress.phase('forgetting instance');
    await registry.removeInstance(input.instanceId);
    progress.phase('deleted');
    return { instanceId: input.instanceId, deletedServers };
  } catch (err) {
    const reason = errorMessage(err);
    progress.fail(reason);
    await CancellationScope.nonCancellable(async () => {
      await registry.setInstanceStatus({ instanceId: input.instanceId, status: 'ERROR', fault: `delete failed: ${reason}` });
      await registry.releaseInstance({ instanceId: input.instanceId, operationId });
    });
    throw operationFailure(err, 'delete failed', ErrorType.DeleteFailed);
  } finally {
    if (setId) {
      const lockedSet = setId;
      await CancellationScope.nonCancellable(() => registry.releaseSet({ setId: lockedSet, operationId }));
    }
  }
}
