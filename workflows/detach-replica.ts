// detachReplica: the replica stops replicating for good, becomes writable and keeps its
// data as an independent site; its replication account on the source is dropped (Trove
// leaked these), and it leaves the replication set. A relay's own replicas stay in the set,
// moved up to the relay's upstream.
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { replicationUserName } from '../lib/names';
import { detachReplicaInput, type DetachReplicaInput, type DetachReplicaResult } from '../lib/schemas';
import { downstreamOf } from '../lib/topology';
import { beginOn, errorMessage, guestActivities, upstreamMember, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { moveReplicasTo } from './move-replicas';
import { DETACH_RELAY_PATCH, FAULT_PATCH } from './patches';
import { Progress } from './progress';

export async function detachReplica(raw: DetachReplicaInput): Promise<DetachReplicaResult> {
  const input = parseInput(detachReplicaInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('detachReplica', () => `replica ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const { instance: replica, set } = await beginOn('detachReplica', input, progress, 'detach', { faultPatch: FAULT_PATCH.detachReplica });
  const setId = set!.setId;
  const source = upstreamMember(set!, replica.id);
  tagReplicationSet(setId);
  try {
    // A relay in a cascade leaves alone: its replicas move up to its own upstream first (they
    // keep their GTID position, which the upstream has too), and it drops their accounts.
    // Only a relay has replicas: 0.1.0 had none, so its histories never reach the patch.
    const below = set!.replicas.filter((m) => downstreamOf(set!.topology, replica.id).includes(m.id));
    if (below.length > 0 && patched(DETACH_RELAY_PATCH)) {
      progress.phase('moving its replicas up');
      const moved = await moveReplicasTo(source, below, { semiSync: set!.settings.semiSync && source.id === set!.source.id, tls: set!.settings.tls });
      const failed = Object.entries(moved.failed);
      if (failed.length) throw ApplicationFailure.nonRetryable(`replicas not moved up to ${source.id}: ${failed.map(([id, why]) => `${id}: ${why}`).join('; ')}`, ErrorType.GuestFailed);
      await Promise.all(below.map((m) => guestActivities(replica.novaServerId!).dropReplicationUser({ userName: replicationUserName(m.id) })));
    }
    // Writable only once it has left the set: a set never has two writable members (the
    // chaos suite caught a detached replica writable while still a member).
    progress.phase('stopping replication');
    await guestActivities(replica.novaServerId!).detachReplication({ writable: false });
    progress.phase('dropping replication user');
    const dropped = source.novaServerId ? await guestActivities(source.novaServerId).dropReplicationUser({ userName: replicationUserName(replica.id) }) : { dropped: false };
    await registry.applyTransition({ setId, transition: { kind: 'remove-member', instanceId: replica.id } });
    progress.phase('making it writable');
    await guestActivities(replica.novaServerId!).setReadOnly({ readOnly: false });
    progress.phase('detached');
    return { instanceId: replica.id, formerSourceId: source.id, replicationUserDropped: dropped.dropped };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'detach failed', ErrorType.GuestFailed);
    if (patched(FAULT_PATCH.detachReplica)) await recordFault(replica.id, failure.message);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: replica.id, setId }));
  }
}
