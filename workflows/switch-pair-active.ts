// switchPairActive (C3): the passive side of a master-master pair takes writes, losing
// nothing. Pre-flight (both sides answer, the passive replicates from the active); fence
// writes on the active (read_only, my.cnf too, client sessions ended) and note its
// position; the passive applies up to it (MASTER_GTID_WAIT); the passive opens
// (read_only off); the registry flips in the next step. At no moment are both sides
// writable: the old active is closed before the new one opens. Both links stay: the old
// active already replicates from the new one. Replicas of the old active follow the new
// one last. Until the new side opens, any failure reopens the old active.
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { stillToApply } from '../lib/gtid';
import { switchPairInput, type SwitchPairInput, type SwitchPairResult } from '../lib/schemas';
import { downstreamOf } from '../lib/topology';
import { beginOn, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { moveReplicasTo, notMoved } from './move-replicas';
import { Progress } from './progress';
import { Saga } from './saga';

export async function switchPairActive(raw: SwitchPairInput): Promise<SwitchPairResult> {
  const input = parseInput(switchPairInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('switchPairActive', () => `make ${input.instanceId} active`);
  tagOperation(input.projectId, input.instanceId);

  let view;
  try {
    view = (await beginOn('switchPairActive', input, progress, 'switch')).set!;
  } catch (err) {
    await recordFault(input.instanceId, errorMessage(err));
    throw err;
  }
  tagReplicationSet(view.setId);
  const old = view.source;
  const next = view.replicas.find((r) => r.id === input.instanceId)!;
  const followers = view.replicas.filter((r) => r.id !== next.id && downstreamOf(view.topology, old.id).includes(r.id));
  try {
    progress.phase('pre-flight');
    const [oldStatus, nextStatus] = await Promise.all([old, next].map((m) => guestProbe(m.novaServerId!).replicationStatus().catch(() => null)));
    const problems: string[] = [];
    if (!oldStatus) problems.push(`the active side ${old.name} (${old.id}) does not answer`);
    if (!nextStatus) problems.push(`${next.name} (${next.id}) does not answer`);
    else if (!nextStatus.ioRunning || !nextStatus.sqlRunning) problems.push(`${next.name} (${next.id}) does not replicate from the active side (${nextStatus.lastIoError || nextStatus.lastSqlError || 'stopped'})`);
    if (problems.length) throw ApplicationFailure.nonRetryable(`pre-flight failed, nothing was changed: ${problems.join('; ')}`, ErrorType.PreflightFailed);

    const undo = new Saga();
    let appliedUpTo: string;
    try {
      progress.phase('fencing writes on the active side');
      undo.add('reopen the old active side', () => guestActivities(old.novaServerId!).setReadOnly({ readOnly: false }));
      appliedUpTo = (await guestActivities(old.novaServerId!).fenceWrites()).gtidBinlogPos;
      progress.phase('passive side catching up');
      const { gtidBinlogPos } = await guestActivities(next.novaServerId!).gtidPosition();
      const missing = stillToApply(appliedUpTo, gtidBinlogPos);
      if (missing) await guestLong(next.novaServerId!).waitForGtid({ gtid: missing, timeoutSeconds: input.catchUpTimeoutSeconds });
      progress.phase('opening the passive side');
      await guestActivities(next.novaServerId!).setReadOnly({ readOnly: false });
    } catch (err) {
      await undo.compensate();
      throw err;
    }
    // The new side takes writes: from here on the only way is forward.
    await registry.applyTransition({ setId: view.setId, transition: { kind: 'switch-active', activeId: next.id } });
    progress.phase('moving replicas');
    const moved = await moveReplicasTo(next, followers, view.settings);
    if (Object.keys(moved.failed).length) {
      progress.fail(`replicas not moved: ${JSON.stringify(moved.failed)}`);
      await recordFault(next.id, `switched, but replicas not moved: ${notMoved(moved.failed)}`);
    } else {
      progress.phase('done');
    }
    return { activeId: next.id, formerActiveId: old.id, appliedUpTo, movedReplicas: moved.moved };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'switch failed', ErrorType.GuestFailed);
    await recordFault(next.id, failure.message);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
