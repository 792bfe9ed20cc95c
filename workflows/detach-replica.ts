// detachReplica: the replica stops replicating for good, becomes writable and keeps its
// data as an independent site; its replication account on the source is dropped (Trove
// leaked these), and it leaves the replication set.
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { detachReplicaInput, type DetachReplicaInput, type DetachReplicaResult } from '../lib/schemas';
import { errorMessage, guestActivities, operationFailure, parseInput, registry, tagOperation, tagReplicationSet } from './common';
import { Progress } from './progress';

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
    // Writable only once it has left the set: a set never has two writable members (the
    // chaos suite caught a detached replica writable while still a member).
    progress.phase('stopping replication');
    await guestActivities(replica.novaServerId!).detachReplication({ writable: false });
    progress.phase('dropping replication user');
    const dropped = userName && source.novaServerId ? await guestActivities(source.novaServerId).dropReplicationUser({ userName }) : { dropped: false };
    await registry.finishDetach({ instanceId: replica.id });
    progress.phase('making it writable');
    await guestActivities(replica.novaServerId!).setReadOnly({ readOnly: false });
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
