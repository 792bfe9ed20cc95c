// ejectReplicaSource: unplanned failover. Refuse while the source is healthy (unless
// forced); fence it through Nova first so it cannot take writes again; choose the most
// advanced replica by GTID (received, then executed; errant ones refused); let it apply
// its relay log; promote it; move the others to it. The fenced source leaves the set
// and is reported. Trove shipped eject without fencing or a real GTID comparison.
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import type { InstanceSummary } from '../activities/registry/activities';
import { ErrorType } from '../lib/errors';
import { chooseCandidate, type ReplicaObservation } from '../lib/failover';
import { formatGtidPosition, parseGtidPosition, union } from '../lib/gtid';
import { upstreamOf } from '../lib/topology';
import { assessSource, summarizeHealth } from '../lib/health';
import { ejectAllowed } from '../lib/rules';
import { ejectInput, type EjectInput, type EjectResult } from '../lib/schemas';
import { beginOn, compute, computeProbe, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { dropOwnAccount, moveReplicasTo, notMoved } from './move-replicas';
import { FAULT_PATCH } from './patches';
import { Progress } from './progress';

export async function ejectReplicaSource(raw: EjectInput): Promise<EjectResult> {
  const input = parseInput(ejectInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('ejectReplicaSource', () => `source ${input.instanceId}${input.automatic ? ' (automatic failover)' : ''}`);
  tagOperation(input.projectId, input.instanceId);

  const view = (await beginOn('ejectReplicaSource', input, progress, 'eject', { faultPatch: FAULT_PATCH.ejectReplicaSource })).set!;
  tagReplicationSet(view.setId);
  const old = view.source;
  const statusOf = (m: InstanceSummary) => guestProbe(m.novaServerId!).replicationStatus().catch(() => null);
  // Once fenced, the old source is out of service whatever happens next.
  let fenced = false;

  try {
    progress.phase('checking the source');
    const [probes, statuses] = await Promise.all([
      computeProbe.probeMembers([{ instanceId: old.id, address: old.address!, port: old.port ?? 3306 }]),
      Promise.all(view.replicas.map(statusOf)),
    ]);
    const health = summarizeHealth(
      [{ instanceId: old.id, name: old.name, role: 'source' }, ...view.replicas.map((r) => ({ instanceId: r.id, name: r.name, role: 'replica' as const }))],
      probes,
      Object.fromEntries(view.replicas.map((r, i) => [r.id, statuses[i]])),
      new Date().toISOString(),
    );
    const assessment = assessSource(health, (id) => upstreamOf(view.topology, id) === old.id);
    // The rulebook's rule, as the API applies it to the monitor's last look; here, to a fresh one.
    const healthy = ejectAllowed(assessment, input.force);
    if (healthy) throw ApplicationFailure.nonRetryable(`${old.id}: ${healthy.message}`, ErrorType.SourceHealthy);

    progress.phase('fencing the old source');
    await compute.fenceServer(old.novaServerId!);
    fenced = true;

    progress.phase('choosing a candidate');
    // Read after fencing: nothing more can arrive, so the positions are final.
    const final = await Promise.all(view.replicas.map(statusOf));
    const observations: ReplicaObservation[] = view.replicas.map((r, i) => {
      const s = final[i];
      return { instanceId: r.id, order: i, reachable: s !== null, ioPos: s?.gtidIoPos ?? '', slavePos: s?.gtidSlavePos ?? '', binlogPos: s?.gtidBinlogPos ?? '' };
    });
    const choice = chooseCandidate(observations);
    if (!choice.candidate) {
      throw ApplicationFailure.nonRetryable(`no replica can take over (the old source stays fenced): ${JSON.stringify(choice.excluded)}`, ErrorType.NoCandidate);
    }
    const candidate = view.replicas.find((r) => r.id === choice.candidate)!;
    const obs = observations.find((o) => o.instanceId === candidate.id)!;
    const received = formatGtidPosition(union(parseGtidPosition(obs.ioPos), parseGtidPosition(obs.slavePos)));

    progress.phase('applying the relay log');
    await guestLong(candidate.novaServerId!).waitForGtid({ gtid: received, timeoutSeconds: 300 });
    progress.phase('promoting the candidate');
    await guestActivities(candidate.novaServerId!).detachReplication();
    const replaced = `fenced by ${operationId}: replaced as replication source by ${candidate.id}`;
    const eject = { setId: view.setId, transition: { kind: 'eject' as const, newSourceId: candidate.id } };
    // The candidate takes writes now: the registry (and so the API) names it at once.
    const flipped = input.flipSourceEarly;
    if (flipped) await registry.applyTransition({ ...eject, fault: replaced });

    progress.phase('moving replicas');
    const eligible = view.replicas.filter((r) => r.id !== candidate.id && !choice.excluded[r.id]);
    const moved = await moveReplicasTo(candidate, eligible, view.settings);
    await dropOwnAccount(candidate);
    const excluded = { ...choice.excluded, ...moved.failed };
    if (flipped) {
      if (Object.keys(excluded).length > 0) await recordFault(old.id, `${replaced}; replicas not moved: ${notMoved(excluded)}`, 'ERROR');
    } else {
      const leftBehind = Object.keys(excluded).length > 0 && patched(FAULT_PATCH.ejectReplicaSource);
      await registry.applyTransition({ ...eject, fault: leftBehind ? `${replaced}; replicas not moved: ${notMoved(excluded)}` : replaced });
    }
    if (Object.keys(excluded).length) progress.fail(`not moved: ${JSON.stringify(excluded)}`);
    else progress.phase('done');
    return { newSourceId: candidate.id, fencedInstanceId: old.id, movedReplicas: moved.moved, excluded, ranking: choice.ranking };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'eject failed', ErrorType.GuestFailed);
    if (patched(FAULT_PATCH.ejectReplicaSource)) await recordFault(old.id, failure.message, fenced ? 'ERROR' : undefined);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
