// failOverPair: the active side of a master-master pair died. Refused while it is healthy
// (unless forced: the eject rule); the dead side is fenced through Nova first, so it can
// never take writes again; the passive side applies everything it received (its relay log),
// stops replicating and takes writes; replicas of the dead side follow it; the dead side
// leaves the set, shown ERROR with a fault. The set is then a source with its replicas (or a
// standalone instance): bringing the lost side back is making a new pair.
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { formatGtidPosition, parseGtidPosition, stillToApply, union } from '../lib/gtid';
import { assessSource, summarizeHealth } from '../lib/health';
import { replicationUserName } from '../lib/names';
import { judgesOfSource } from '../lib/pair-failover';
import { ejectAllowed } from '../lib/rules';
import { ejectInput, type EjectInput, type PairFailoverResult } from '../lib/schemas';
import { downstreamOf, peerOf } from '../lib/topology';
import { beginOn, compute, computeProbe, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { moveReplicasTo, notMoved } from './move-replicas';
import { Progress } from './progress';

export async function failOverPair(raw: EjectInput): Promise<PairFailoverResult> {
  const input = parseInput(ejectInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('failOverPair', () => `active side ${input.instanceId}${input.automatic ? ' (automatic failover)' : ''}`);
  tagOperation(input.projectId, input.instanceId);

  let view;
  try {
    view = (await beginOn('failOverPair', input, progress, 'pair failover')).set!;
  } catch (err) {
    await recordFault(input.instanceId, errorMessage(err));
    throw err;
  }
  tagReplicationSet(view.setId);
  const dead = view.source;
  const next = view.replicas.find((r) => r.id === peerOf(view.topology, dead.id))!;
  const followers = view.replicas.filter((r) => r.id !== next.id && downstreamOf(view.topology, dead.id).includes(r.id));
  let fenced = false;
  try {
    progress.phase('checking the active side');
    const judges = view.replicas.filter((r) => judgesOfSource(view.topology)(r.id));
    const [probes, statuses] = await Promise.all([
      computeProbe.probeMembers([{ instanceId: dead.id, address: dead.address!, port: dead.port ?? 3306 }]),
      Promise.all(judges.map((r) => guestProbe(r.novaServerId!).replicationStatus().catch(() => null))),
    ]);
    const health = summarizeHealth(
      [{ instanceId: dead.id, name: dead.name, role: 'source' }, ...judges.map((r) => ({ instanceId: r.id, name: r.name, role: 'replica' as const }))],
      probes,
      Object.fromEntries(judges.map((r, i) => [r.id, statuses[i]])),
      new Date().toISOString(),
    );
    const healthy = ejectAllowed(assessSource(health), input.force);
    if (healthy) throw ApplicationFailure.nonRetryable(`${dead.id}: ${healthy.message}`, ErrorType.SourceHealthy);

    progress.phase('fencing the active side');
    await compute.fenceServer(dead.novaServerId!);
    fenced = true;

    progress.phase('applying the relay log');
    // Read after fencing: nothing more can arrive, so the position is final.
    const s = await guestActivities(next.novaServerId!).replicationStatus();
    const received = formatGtidPosition(union(parseGtidPosition(s.gtidIoPos), parseGtidPosition(s.gtidSlavePos)));
    const missing = stillToApply(received, s.gtidBinlogPos);
    if (missing) await guestLong(next.novaServerId!).waitForGtid({ gtid: missing, timeoutSeconds: 300 });
    progress.phase('opening the passive side');
    await guestActivities(next.novaServerId!).detachReplication();
    // The account the dead side replicated back with: no one may log in with it any more.
    await guestActivities(next.novaServerId!).dropReplicationUser({ userName: replicationUserName(dead.id) });

    progress.phase('moving replicas');
    const moved = await moveReplicasTo(next, followers, view.settings);
    const replaced = `fenced by ${operationId}: the pair's other side ${next.id} took over`;
    const failed = Object.keys(moved.failed).length > 0;
    await registry.applyTransition({
      setId: view.setId,
      transition: { kind: 'pair-failover', activeId: next.id },
      fault: failed ? `${replaced}; replicas not moved: ${notMoved(moved.failed)}` : replaced,
    });
    if (failed) progress.fail(`not moved: ${JSON.stringify(moved.failed)}`);
    else progress.phase('done');
    return { activeId: next.id, fencedInstanceId: dead.id, movedReplicas: moved.moved, notMoved: moved.failed };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'pair failover failed', ErrorType.GuestFailed);
    await recordFault(dead.id, failure.message, fenced ? 'ERROR' : undefined);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
