// detachReplica: the replica stops replicating for good, becomes writable and keeps its
// data as an independent site; its replication account on the source is dropped (Trove
// leaked these), and it leaves the replication set.
import { CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { detachReplicaInput, type DetachReplicaInput, type DetachReplicaResult } from '../lib/schemas';
import { errorMessage, guestActivities, operationFailure, parseInput, registry, tagOperation, tagReplicationSet } from './common';
import { Progress } from './progress';

/** Found by the chaos suite: before it, the replica became writable while still a member. */
export const DETACH_WRITABLE_LAST_PATCH = '2026-11-detach-writable-last';

export async function detachReplica(raw: DetachReplicaInput): Promise<DetachReplicaResult> {
  const input = parseInput(detachReplicaInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('detachReplica', () => `replica ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  progress.phase('locking');
  let found;
  try {
    found = await registry.beginDetach({ ...input, operationId, operationType: 'detachReplica' });
  } catch (err) {
    throw operationFailure(err, 'detach refused', ErrorType.InvalidInput);
  }
  const { replica, source, userName } = found;
  const setId = replica.replicationSetId!;
  tagReplicationSet(setId);
  try {
    // Writable only once it has left the set: a set never has two writable members.
    const writableLast = patched(DETACH_WRITABLE_LAST_PATCH);
    progress.phase('stopping replication');
    await guestActivities(replica.novaServerId!).detachReplication(writableLast ? { writable: false } : undefined);
    progress.phase('dropping replication user');
    const dropped = userName && source.novaServerId ? await guestActivities(source.novaServerId).dropReplicationUser({ userName }) : { dropped: false };
    await registry.finishDetach({ instanceId: replica.id });
    if (writableLast) {
      progress.phase('making it writable');
      await guestActivities(replica.novaServerId!).setReadOnly({ readOnly: false });
    }
    progress.phase('detached');
    return { instanceId: replica.id, formerSourceId: source.id, replicationUserDropped: dropped.dropped };
  } catch (err) {
    progress.fail(errorMessage(err));
    throw operationFailure(err, 'detach failed', ErrorType.GuestFailed);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      await registry.releaseInstance({ instanceId: replica.id, operationId });
      await registry.releaseSet({ setId, operationId });
    });
  }
}
