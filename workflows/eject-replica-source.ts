// ejectReplicaSource: unplanned failover. Refuse while the source is healthy (unless
// forced); fence it through Nova first so it cannot take writes again; choose the most
// advanced replica by GTID (received, then executed; errant ones refused); let it apply
// its relay log; promote it; move the others to it. The fenced source leaves the set
// and is reported. Trove shipped eject without fencing or a real GTID comparison.
import { ApplicationFailure, CancellationScope, ParentClosePolicy, patched, startChild, workflowInfo, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { InstanceSummary } from '../activities/registry/activities';
import { ErrorType } from '../lib/errors';
import { chooseCandidate, inLostZone, lostZoneReplicas, lostZones, type ReplicaObservation } from '../lib/failover';
import { workflowIds } from '../lib/names';
import { formatGtidPosition, parseGtidPosition, union } from '../lib/gtid';
import { upstreamOf } from '../lib/topology';
import { assessSource, summarizeHealth } from '../lib/health';
import { ejectAllowed } from '../lib/rules';
import { ejectInput, type EjectInput, type EjectResult } from '../lib/schemas';
import { beginOn, compute, computeProbe, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { dropOwnAccount, moveReplicasTo, notMoved } from './move-replicas';
import { FAULT_PATCH, FENCE_LOST_ZONE_PATCH, PROMOTE_IN_ONE_CALL_PATCH } from './patches';
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
      return { instanceId: r.id, order: i, reachable: s !== null, ioPos: s?.gtidIoPos ?? '', slavePos: s?.gtidSlavePos ?? '', binlogPos: s?.gtidBinlogPos ?? '', zone: r.availabilityZone };
    });
    // A set following a zone profile (DR): its zones in the profile's order, and the zones
    // lost whole (the source's, when nothing there answers) are not promoted into. Data only:
    // a history without a profile chooses as before.
    const profile = view.zoneProfile;
    const zones = profile
      ? { order: [profile.primaryZone, ...profile.drZones], lost: lostZones([{ zone: old.availabilityZone, reachable: health[0]?.reachable ?? false }, ...observations]) }
      : undefined;
    const choice = chooseCandidate(observations, zones);
    if (!choice.candidate) {
      throw ApplicationFailure.nonRetryable(`no replica can take over (the old source stays fenced): ${JSON.stringify(choice.excluded)}`, ErrorType.NoCandidate);
    }
    const candidate = view.replicas.find((r) => r.id === choice.candidate)!;
    const obs = observations.find((o) => o.instanceId === candidate.id)!;
    const received = formatGtidPosition(union(parseGtidPosition(obs.ioPos), parseGtidPosition(obs.slavePos)));

    if (patched(PROMOTE_IN_ONE_CALL_PATCH)) {
      progress.phase('applying the relay log and promoting the candidate');
      await guestLong(candidate.novaServerId!).promoteWhenCaughtUp({ gtid: received, timeoutSeconds: 300 });
    } else {
      progress.phase('applying the relay log');
      await guestLong(candidate.novaServerId!).waitForGtid({ gtid: received, timeoutSeconds: 300 });
      progress.phase('promoting the candidate');
      await guestActivities(candidate.novaServerId!).detachReplication();
    }
    const replaced = `fenced by ${operationId}: replaced as replication source by ${candidate.id}`;
    const eject = { setId: view.setId, transition: { kind: 'eject' as const, newSourceId: candidate.id } };
    // The candidate takes writes now: the registry (and so the API) names it at once.
    // Not when a zone was lost: its replicas leave the set with the old source in one transition, at the end.
    const flipped = input.flipSourceEarly && !zones?.lost.length;
    if (flipped) await registry.applyTransition({ ...eject, fault: replaced });

    progress.phase('moving replicas');
    const eligible = view.replicas.filter((r) => r.id !== candidate.id && !choice.excluded[r.id]);
    const moved = await moveReplicasTo(candidate, eligible, view.settings);
    await dropOwnAccount(candidate);
    const excluded = { ...choice.excluded, ...moved.failed };
    // The lost zone's replicas may come back with it, replicating from the fenced source and
    // counted as members: fence them too (through Nova, which answers for a dead zone) and
    // take them out of the set, each with its reason. Asked only when a zone was lost.
    const lostZone = zones ? lostZoneReplicas(observations, zones.lost) : {};
    const sourceZoneLost = Boolean(zones && inLostZone(old.availabilityZone, zones.lost));
    const zonePath = (Object.keys(lostZone).length > 0 || sourceZoneLost) && patched(FENCE_LOST_ZONE_PATCH);
    const fencedReplicas: Record<string, string> = {};
    if (zonePath && Object.keys(lostZone).length) {
      progress.phase('fencing the lost zone');
      await Promise.all(
        Object.entries(lostZone).map(async ([id, why]) => {
          const r = view.replicas.find((m) => m.id === id)!;
          const outcome = await compute.fenceServer(r.novaServerId!).then(
            () => 'fenced',
            (err: unknown) => `fence failed (${errorMessage(err)}), out of the set`,
          );
          fencedReplicas[id] = `${outcome} by ${operationId}: ${why} when ${candidate.id} replaced ${old.id} as source`;
        }),
      );
    }
    const fencedIds = Object.keys(fencedReplicas).sort();
    if (flipped) {
      // The source flipped early (no zone lost, so nothing was fenced here): only the fault of replicas left behind.
      if (Object.keys(excluded).length > 0) await recordFault(old.id, `${replaced}; replicas not moved: ${notMoved(excluded)}`, 'ERROR');
    } else {
      const leftBehind = Object.keys(excluded).length > 0 && patched(FAULT_PATCH.ejectReplicaSource);
      await registry.applyTransition({
        setId: view.setId,
        transition: fencedIds.length ? { kind: 'eject', newSourceId: candidate.id, fenced: fencedIds } : { kind: 'eject', newSourceId: candidate.id },
        fault: leftBehind ? `${replaced}; replicas not moved: ${notMoved(excluded)}` : replaced,
        ...(fencedIds.length ? { faults: fencedReplicas } : {}),
      });
    }
    // The profile's auto_rebuild: once the zone is back, its fenced members are rebuilt as
    // replicas by a workflow of their own, which outlives this one.
    let rebuildAfterZoneReturn: string | undefined;
    if (zonePath && sourceZoneLost && profile?.autoRebuild) {
      rebuildAfterZoneReturn = workflowIds.rebuildAfterZoneReturn(old.id);
      await startChild('rebuildAfterZoneReturn', {
        workflowId: rebuildAfterZoneReturn,
        args: [
          {
            projectId: input.projectId,
            zone: old.availabilityZone!,
            instanceIds: [old.id, ...fencedIds],
            setId: view.setId,
            follow: { zoneProfileId: profile.id, semiSync: view.settings.semiSync, autoFailover: view.settings.autoFailover },
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
    }
    if (Object.keys(excluded).length) progress.fail(`not moved: ${JSON.stringify(excluded)}`);
    else progress.phase('done');
    return { newSourceId: candidate.id, fencedInstanceId: old.id, movedReplicas: moved.moved, excluded, ranking: choice.ranking, ...(fencedIds.length ? { fencedReplicas } : {}), ...(rebuildAfterZoneReturn ? { rebuildAfterZoneReturn } : {}) };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'eject failed', ErrorType.GuestFailed);
    if (patched(FAULT_PATCH.ejectReplicaSource)) await recordFault(old.id, failure.message, fenced ? 'ERROR' : undefined);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
