// deleteInstance: take the instance's lock (and its set's, for a replica or a pair's passive side), delete its server (every process and the
// disk go with it), then forget the instance. Deleting an already-deleted server is a
// no-op, so the workflow converges whatever step a crash interrupted.
import { CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { novaServerName, replicationUserName } from '../lib/names';
import { deleteInstanceInput, type DeleteInstanceInput, type DeleteInstanceResult } from '../lib/schemas';
import { beginOn, compute, errorMessage, guestActivities, upstreamMember, operationFailure, parseInput, registry, tagOperation } from './common';
import { peerOf } from '../lib/topology';
import { DELETE_PAIR_SIDE_PATCH, FAULT_PATCH } from './patches';
import { Progress } from './progress';

export async function deleteInstance(raw: DeleteInstanceInput): Promise<DeleteInstanceResult> {
  const input = parseInput(deleteInstanceInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('deleteInstance', () => `instance ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const { instance, set } = await beginOn('deleteInstance', input, progress, 'delete', { fallbackType: ErrorType.OperationConflict, faultPatch: FAULT_PATCH.deleteInstance });
  // The set's lock is held only when a replica is deleted: released whatever happens next.
  const setId = set?.setId ?? null;
  try {
    // A replica leaves its set first, taking its replication account on the source with it.
    if (set) {
      progress.phase('leaving replication set');
      const upstream = upstreamMember(set, instance.id);
      // A pair's passive side: the active side stops replicating from it first (the pair dissolves).
      if (peerOf(set.topology, instance.id) !== undefined && patched(DELETE_PAIR_SIDE_PATCH) && upstream.novaServerId) {
        await guestActivities(upstream.novaServerId).detachReplication({ writable: true });
      }
      if (upstream.novaServerId) await guestActivities(upstream.novaServerId).dropReplicationUser({ userName: replicationUserName(instance.id) });
      await registry.applyTransition({ setId: set.setId, transition: { kind: 'remove-member', instanceId: instance.id } });
    }
    await registry.updateInstance({ instanceId: input.instanceId, status: 'SHUTDOWN' });
    progress.phase('deleting server');
    // The set's server group goes with its last member (0.1.0 summaries have none).
    const group = instance.serverGroupId ? { serverGroupId: instance.serverGroupId } : {};
    const deletedServers = await compute.deleteServer({ novaServerId: instance.novaServerId, name: novaServerName(input.instanceId), ...group });
    progress.phase('forgetting instance');
    await registry.forgetInstance(input.instanceId);
    progress.phase('deleted');
    return { instanceId: input.instanceId, deletedServers };
  } catch (err) {
    const reason = errorMessage(err);
    progress.fail(reason);
    await CancellationScope.nonCancellable(async () => {
      await registry.updateInstance({ instanceId: input.instanceId, status: 'ERROR', fault: `delete failed: ${reason}` });
      await registry.endOperation({ operationId, instanceId: input.instanceId });
    });
    throw operationFailure(err, 'delete failed', ErrorType.DeleteFailed);
  } finally {
    if (setId) await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId }));
  }
}
