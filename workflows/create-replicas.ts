// createReplicas: N read replicas of a source that already holds data, from ONE snapshot.
// Check the source and lock its replication set; confirm it can be a source; snapshot it
// once; build every replica in parallel (buildReplica children with deterministic ids);
// delete the snapshot whatever happened. Each replica reports its own outcome: the ones
// that failed cleaned up after themselves, the ones that succeeded stay.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { CancellationScope, isCancellation, patched, setHandler, startChild, uuid4, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { instanceNameAttribute, replicaShape, workflowIds } from '../lib/names';
import { operationMetadata } from '../lib/summaries';
import { createReplicasInput, type CreateReplicasInput, type CreateReplicasResult, type ReplicaOutcome } from '../lib/schemas';
import { authority, cancelled, errorMessage, guestActivities, guestLong, monitors, operationFailure, parseInput, recordFault, registry, snapshots, tagOperation, tagReplicationSet } from './common';
import { FAULT_PATCH, TLS_FROM_START } from './patches';
import { tlsFromStart } from '../lib/tls-from-start';
import { issueCertificate } from './certificates';
import type { SnapshotMeta } from '../activities/snapshots/store';
import { buildReplica } from './build-replica';
import { Progress } from './progress';
import { renderReplicaTable, replicaProgressSignal, replicasQuery, settleRow, snapshotReadySignal, type ReplicaProgress } from './replica-progress';

export async function createReplicas(raw: CreateReplicasInput): Promise<CreateReplicasResult> {
  const spec = parseInput(createReplicasInput, raw);
  const operationId = workflowInfo().workflowId;
  const replicaIds = spec.replicaIds ?? Array.from({ length: spec.count }, () => uuid4());
  const rows: ReplicaProgress[] = [];
  const progress = new Progress('createReplicas', () => renderReplicaTable(rows));
  setHandler(replicasQuery, () => rows);
  // Replicas whose end is known: a progress signal sent before the end may arrive after it.
  const settled = new Set<string>();
  setHandler(replicaProgressSignal, (p) => {
    const i = rows.findIndex((r) => r.replicaId === p.replicaId);
    if (i >= 0 && !settled.has(p.replicaId)) rows[i] = { ...rows[i]!, ...p };
    progress.render();
  });
  tagOperation(spec.projectId, spec.sourceInstanceId);

  progress.phase('checking source');
  let begun;
  try {
    // Taken whole even if a cancel comes meanwhile, so that the release below always sees it.
    begun = await CancellationScope.nonCancellable(() =>
      registry.beginOperation({ operation: { id: operationId, type: 'createReplicas' }, projectId: spec.projectId, instanceId: spec.sourceInstanceId, count: spec.count, replicas: { ids: replicaIds, name: spec.template.name, ...(spec.template.availabilityZone ? { availabilityZone: spec.template.availabilityZone } : {}) } }),
    );
  } catch (err) {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, discardUnbuilt: replicaIds }));
    const failure = operationFailure(err, 'createReplicas refused', ErrorType.InvalidInput);
    if (patched(FAULT_PATCH.createReplicas)) await recordFault(spec.sourceInstanceId, failure.message);
    throw failure;
  }
  const source = begun.instance;
  const setId = source.replicationSetId!;
  tagReplicationSet(setId);
  const names = begun.replicaNames!;
  const shape = replicaShape(spec.template, source);
  // TLS from the first replica: asked again under the set's lock (the API asked before the 202).
  const tlsStart = spec.tls && patched(TLS_FROM_START) ? tlsFromStart(begun.set ? { tls: begun.set.settings.tls, links: begun.set.topology.links.length } : undefined) : undefined;
  if (tlsStart?.kind === 'refused') {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId, discardUnbuilt: replicaIds }));
    const failure = ApplicationFailure.nonRetryable(`createReplicas refused: replication.tls: ${tlsStart.message}`, ErrorType.InvalidInput);
    await recordFault(source.id, failure.message);
    throw failure;
  }
  replicaIds.forEach((replicaId, i) => rows.push({ replicaId, name: names[i]!, phase: 'pending' }));

  const snapshotId = uuid4();
  // Awaited once the set is released (a failure to start it fails the operation there).
  let monitorStart: Promise<unknown> | undefined;
  try {
    const childInput = (replicaId: string, i: number) => ({
      replicaId,
      projectId: spec.projectId,
      name: names[i]!,
      ...shape,
      // Replicas join their source's server group (Trove's locality); 0.1.0 summaries have none.
      ...(source.serverGroupId ? { serverGroupId: source.serverGroupId, ...(source.locality ? { locality: source.locality } : {}) } : {}),
      readOnly: spec.readOnly,
      snapshotId,
      setId,
      source: { instanceId: source.id, novaServerId: source.novaServerId!, address: source.address!, port: source.port ?? 3306 },
      // Replicas inherit the set's TLS (Trove: a replica inherits its source's configuration);
      // absent for a plain set, so its builds' inputs are as before.
      ...(begun.set?.settings.tls || tlsStart?.kind === 'start' ? { tls: true } : {}),
    });
    const failed = (replicaId: string, i: number) => (err: unknown): ReplicaOutcome => ({
      replicaId,
      name: names[i]!,
      status: 'FAILED',
      error: isCancellation(err) ? 'cancelled' : errorMessage(err),
    });
    // A replica's row ends with its outcome: the build reports only the phases that last.
    const settle = (outcome: ReplicaOutcome): ReplicaOutcome => {
      settled.add(outcome.replicaId);
      const i = rows.findIndex((r) => r.replicaId === outcome.replicaId);
      if (i >= 0) rows[i] = settleRow(rows[i]!, outcome);
      progress.render();
      return outcome;
    };
    type Builds = ChildWorkflowHandle<typeof buildReplica>[];
    const follow = (children: Builds) => children.map((c, i) => c.result().catch(failed(replicaIds[i]!, i)).then(settle));
    const abandon = async (children: Builds, results: Promise<ReplicaOutcome>[], err: unknown) => {
      await Promise.all(children.map((c) => c.signal(snapshotReadySignal, { error: errorMessage(err) }).catch(() => undefined)));
      await Promise.all(results);
    };

    progress.phase('preparing source');
    // The builds start beside the source's preparation (nothing in a build needs it): servers
    // boot while the source is prepared and streams its backup; each child waits for the
    // snapshot's GTID, or the reason there is none, before it restores.
    // The summaries are metadata on the command, not part of it: 0.1.0 histories replay without them.
    const startingBuilds = Promise.all(
      replicaIds.map((replicaId, i) => {
        const input = childInput(replicaId, i);
        return startChild(buildReplica, {
          workflowId: workflowIds.buildReplica(replicaId),
          args: [input],
          typedSearchAttributes: instanceNameAttribute(input.name),
          ...operationMetadata('buildReplica', input, { sourceName: source.name }),
        });
      }),
    );
    startingBuilds.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    let prepared: { restarted: boolean };
    try {
      prepared = await guestActivities(source.novaServerId!).ensureReplicationSource();
      if (tlsStart?.kind === 'start') {
        // Before the snapshot is announced, so before any replica attaches: every link of the
        // set verifies the source's certificate from its first byte.
        progress.phase('certificate authority');
        await authority.ensureSetAuthority({ setId });
        await issueCertificate(setId, { id: source.id, novaServerId: source.novaServerId! });
        await registry.updateSettings({ setId, patch: { tls: true } });
      }
    } catch (err) {
      const children = await startingBuilds;
      await abandon(children, follow(children), err);
      throw err;
    }

    progress.phase('snapshot');
    const children = await startingBuilds;
    const results = follow(children);
    let snapshot: SnapshotMeta;
    try {
      snapshot = await guestLong(source.novaServerId!).createSnapshot({ snapshotId });
    } catch (err) {
      await abandon(children, results, err);
      throw err;
    }
    progress.phase('building replicas');
    await Promise.all(children.map((c) => c.signal(snapshotReadySignal, { gtid: snapshot.binlog.gtid }).catch(() => undefined)));
    const outcomes = await Promise.all(results);
    if (outcomes.some((o) => o.status === 'ACTIVE')) {
      // Every set with replicas has its monitor (monitorReplicationSet, id monitorWorkflowId),
      // started by an activity: a startChild of one already running would fail, a failed child
      // in the Web UI on every operation of the set. Beside the set's release, not before it
      // (neither needs the other). Not cancellable: replicas that are ACTIVE keep their
      // failover, cancelled or not. Named after the set's source (a relay's set has another).
      const sourceName = begun.set?.source.name;
      monitorStart = CancellationScope.nonCancellable(() => monitors.ensureMonitor({ setId, projectId: spec.projectId, sourceName }));
      monitorStart.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    }
    // The replicas already ACTIVE stay; the others were undone by their builds (the
    // `replicas` query shows which: a cancelled workflow carries no result).
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('createReplicas cancelled');
    const failedBuilds = outcomes.filter((o) => o.status !== 'ACTIVE');
    if (failedBuilds.length && patched(FAULT_PATCH.createReplicas)) await recordFault(source.id, notBuilt(failedBuilds, outcomes.length));
    progress.phase(outcomes.every((o) => o.status === 'ACTIVE') ? 'done' : 'done with failures');
    return {
      sourceInstanceId: source.id,
      replicationSetId: setId,
      snapshotId,
      snapshotBytes: snapshot.dataset.sizeBytes,
      sourceRestarted: prepared.restarted,
      replicas: outcomes,
    };
  } catch (err) {
    const cancelledNow = cancelled(err);
    progress.fail(cancelledNow ? 'cancelled' : errorMessage(err));
    if (cancelledNow) throw err;
    const failure = operationFailure(err, 'createReplicas failed', ErrorType.GuestFailed);
    if (patched(FAULT_PATCH.createReplicas)) await recordFault(source.id, failure.message);
    throw failure;
  } finally {
    // Unbuilt replicas discarded and the set released in one registry step; the snapshot
    // deleted last, on success, failure and cancellation, even if the registry cannot be
    // reached (Trove bug 1359354 leaked these). Deleting is one rename: the store frees the
    // space later, off the operation's path.
    await CancellationScope.nonCancellable(async () => {
      try {
        await registry.endOperation({ operationId, setId, discardUnbuilt: replicaIds });
      } finally {
        await snapshots.deleteSnapshot(snapshotId);
      }
    });
    await monitorStart;
  }
}

/** The source's fault when some replicas were not built (each undid itself): which, and why. */
function notBuilt(failed: ReplicaOutcome[], of: number): string {
  const each = failed.map((o) => `${o.name} (${o.replicaId}): ${o.status === 'FAILED' ? o.error : o.status}`);
  return `createReplicas: ${failed.length} of ${of} replica(s) not built: ${each.join('; ')}`;
}
