// promoteToReplicaSource: a planned switchover that loses nothing. Pre-flight (every member
// answers, every replica replicates); fence writes on the old source (read_only and end
// client sessions) and note its position; the candidate applies up to it and takes
// writes; the other replicas move first, then the old source follows as a read-only
// replica (Trove bug 1754539's order). Until the candidate takes writes, any failure
// makes the old source writable again: no outage is left behind.
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { promotePreflight } from '../lib/health';
import { promoteInput, type PromoteInput, type PromoteResult } from '../lib/schemas';
import { beginOn, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { dropOwnAccount, moveReplicasTo, notMoved } from './move-replicas';
import { FAULT_PATCH } from './patches';
import { Progress } from './progress';
import { Saga } from './saga';

export async function promoteToReplicaSource(raw: PromoteInput): Promise<PromoteResult> {
  const input = parseInput(promoteInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('promoteToReplicaSource', () => `candidate ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const view = (await beginOn('promoteToReplicaSource', input, progress, 'promote', { faultPatch: FAULT_PATCH.promoteToReplicaSource })).set!;
  tagReplicationSet(view.setId);
  const old = view.source;
  const candidate = view.replicas.find((r) => r.id === input.instanceId)!;
  const others = view.replicas.filter((r) => r.id !== candidate.id);

  try {
    progress.phase('pre-flight');
    const members = [old, ...view.replicas];
    const statuses = await Promise.all(members.map((m) => guestProbe(m.novaServerId!).replicationStatus().catch(() => null)));
    const problems = promotePreflight(members.map((m, i) => ({ id: m.id, name: m.name, isSource: m.id === old.id, status: statuses[i] ?? null })));
    if (problems.length) throw ApplicationFailure.nonRetryable(`pre-flight failed, nothing was changed: ${problems.sort().join('; ')}`, ErrorType.PreflightFailed);

    const undo = new Saga();
    let appliedUpTo: string;
    try {
      progress.phase('fencing writes on the old source');
      undo.add('make the old source writable again', () => guestActivities(old.novaServerId!).setReadOnly({ readOnly: false }));
      const fenced = await guestActivities(old.novaServerId!).fenceWrites();
      appliedUpTo = fenced.gtidBinlogPos;
      progress.phase('candidate catching up');
      await guestLong(candidate.novaServerId!).waitForGtid({ gtid: appliedUpTo, timeoutSeconds: input.catchUpTimeoutSeconds });
      // The others too, so the candidate's binlog holds everything they still need.
      await Promise.all(others.map((o) => guestLong(o.novaServerId!).waitForGtid({ gtid: appliedUpTo, timeoutSeconds: input.catchUpTimeoutSeconds })));
      progress.phase('promoting the candidate');
      await guestActivities(candidate.novaServerId!).detachReplication();
    } catch (err) {
      await undo.compensate();
      throw err;
    }

    // The candidate takes writes now: from here on the only way is forward. The registry (and
    // so the API) names it the source at once; the former source is read-only already.
    const promote = { setId: view.setId, transition: { kind: 'promote' as const, newSourceId: candidate.id } };
    const flipped = input.flipSourceEarly;
    if (flipped) await registry.applyTransition(promote);
    progress.phase('moving replicas');
    const moved = await moveReplicasTo(candidate, others, view.settings);
    progress.phase('demoting the former source');
    const credential = await registry.replicationCredential({ replicaId: old.id, sourceId: candidate.id });
    // A TLS set's former source follows over TLS like every other member (tls absent: a set before TLS).
    const tls = view.settings.tls ?? false;
    await guestActivities(candidate.novaServerId!).createReplicationUser({ ...credential, requireSsl: tls });
    const former = guestActivities(old.novaServerId!);
    await former.startReplication({ source: { host: candidate.address!, port: candidate.port ?? 3306, ...credential, tls }, fromOwnBinlog: true });
    await former.setReadOnly({ readOnly: true });
    if (view.settings.semiSync) await former.configureSemiSync({ role: 'replica' });
    await dropOwnAccount(candidate);
    if (!flipped) await registry.applyTransition(promote);
    if (Object.keys(moved.failed).length) {
      progress.fail(`replicas not moved: ${JSON.stringify(moved.failed)}`);
      if (flipped || patched(FAULT_PATCH.promoteToReplicaSource)) await recordFault(candidate.id, `promoted, but replicas not moved: ${notMoved(moved.failed)}`);
    } else {
      progress.phase('done');
    }
    return { newSourceId: candidate.id, formerSourceId: old.id, movedReplicas: moved.moved, appliedUpTo };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'promote failed', ErrorType.GuestFailed);
    if (patched(FAULT_PATCH.promoteToReplicaSource)) await recordFault(candidate.id, failure.message);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
