// createReplicas: N read replicas of a source that already holds data, from ONE snapshot.
// Check the source and lock its replication set; confirm it can be a source; snapshot it
// once; build every replica in parallel (buildReplica children with deterministic ids);
// delete the snapshot whatever happened. Each replica reports its own outcome: the ones
// that failed cleaned up after themselves, the ones that succeeded stay.
import { CancelledFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { CancellationScope, condition, executeChild, isCancellation, ParentClosePolicy, patched, setHandler, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { monitorWorkflowId, replicaNames, replicaShape, workflowIds } from '../lib/names';
import { createReplicasInput, type CreateReplicasInput, type CreateReplicasResult, type ReplicaOutcome } from '../lib/schemas';
import { cancelled, errorMessage, guestActivities, guestLong, operationFailure, parseInput, registry, snapshots, tagOperation, tagReplicationSet, wholeIf } from './common';
import type { SnapshotMeta } from '../activities/snapshots/store';
import { buildReplica } from './build-replica';
import { monitorReplicationSet } from './monitor-replication-set';
import { Progress } from './progress';
import { doneWithSnapshot, renderReplicaTable, replicaProgressSignal, replicasQuery, settleRow, snapshotReadySignal, type ReplicaProgress } from './replica-progress';

/** Added with health monitoring: histories recorded before it never started a monitor. */
export const START_MONITOR_PATCH = '2026-11-create-replicas-starts-monitor';

/**
 * Added with the replica-build benchmark: the replicas' servers are provisioned (and their
 * guest agents boot) while the source's snapshot is being taken, instead of after it.
 */
export const PROVISION_DURING_SNAPSHOT_PATCH = '2026-11-provision-during-snapshot';

/**
 * Added with the replica-build benchmark: the snapshot is deleted as soon as every replica
 * has restored it (or failed), while they attach and catch up, instead of after the last
 * replica is ACTIVE: removing a 1 GiB snapshot took ~0.25 s at the end of every build.
 */
export const DELETE_SNAPSHOT_ONCE_RESTORED_PATCH = '2026-11-delete-snapshot-once-restored';

/**
 * Added with the replica-build benchmark: the snapshot is deleted last, once the set is
 * released. Deleting is now one rename (the store frees the space in the background), and
 * freeing it while replicas attach or the registry commits stalls their fsyncs.
 */
export const DELETE_SNAPSHOT_LAST_PATCH = '2026-11-delete-snapshot-last';

/**
 * Added with the replica-build benchmark: unbuilt replicas are discarded and the set
 * released in one registry step (finishReplicas) instead of two.
 */
export const FINISH_IN_ONE_STEP_PATCH = '2026-11-create-replicas-finishes-in-one-step';

/**
 * Added with the orchestration-overhead benchmark. The replicas' builds start beside the
 * source's preparation instead of after it, and the set's monitor starts beside
 * finishReplicas instead of before it: neither step needed the other, and each wait was a
 * round trip on the operation's critical path. It implies every patch above, so a new
 * execution records one marker instead of five (the SDK pairs each marker with a
 * search-attribute update); histories without it replay as before.
 */
export const SHORT_PATH_PATCH = '2026-11-create-replicas-short-path';

/**
 * Added when cancelling an operation was found to end it COMPLETED with its replicas FAILED
 * for no stated reason: a cancelled operation now undoes the replicas still building, keeps
 * the ones already ACTIVE (and starts their set's monitor all the same), releases the set,
 * deletes the snapshot and ends CANCELLED. Its set lock is taken whole even if the cancel
 * comes meanwhile, so the release always sees it; and the snapshot is deleted even when the
 * set cannot be released (the registry gone). Implies SHORT_PATH_PATCH: one marker.
 */
export const CANCELS_CLEANLY_PATCH = '2026-11-create-replicas-cancels-cleanly';

/** Every set with replicas has its monitor; one already running is left alone. */
async function ensureMonitor(setId: string, projectId: string): Promise<void> {
  try {
    await startChild(monitorReplicationSet, {
      workflowId: monitorWorkflowId(setId),
      args: [{ setId, projectId, waitBeforeFirstPoll: true }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

export async function createReplicas(raw: CreateReplicasInput): Promise<CreateReplicasResult> {
  const spec = parseInput(createReplicasInput, raw);
  const operationId = workflowInfo().workflowId;
  const replicaIds = spec.replicaIds ?? Array.from({ length: spec.count }, () => uuid4());
  const rows: ReplicaProgress[] = [];
  const progress = new Progress('createReplicas', () => `${spec.count} replica(s) of ${spec.sourceInstanceId}\n\n${renderReplicaTable(rows)}`);
  setHandler(replicasQuery, () => rows);
  // Replicas whose end is known: a progress signal sent before the end may arrive after it.
  const settled = new Set<string>();
  setHandler(replicaProgressSignal, (p) => {
    const i = rows.findIndex((r) => r.replicaId === p.replicaId);
    if (i >= 0 && !settled.has(p.replicaId)) rows[i] = { ...rows[i]!, ...p };
    progress.render();
  });
  tagOperation(spec.projectId, spec.sourceInstanceId);

  const cancelsCleanly = patched(CANCELS_CLEANLY_PATCH);
  progress.phase('checking source');
  let source;
  try {
    source = await wholeIf(cancelsCleanly, () => registry.beginReplicas({ sourceId: spec.sourceInstanceId, projectId: spec.projectId, count: spec.count, operationId }));
  } catch (err) {
    await CancellationScope.nonCancellable(() => registry.discardUnbuiltReplicas(replicaIds));
    throw operationFailure(err, 'createReplicas refused', ErrorType.InvalidInput);
  }
  const setId = source.replicationSetId!;
  tagReplicationSet(setId);
  const names = replicaNames(source.name, spec.template.name, spec.count);
  const shape = replicaShape(spec.template, source);
  replicaIds.forEach((replicaId, i) => rows.push({ replicaId, name: names[i]!, phase: 'pending' }));

  const snapshotId = uuid4();
  // One deletion, started early or in the finally below, whichever comes first.
  let deletingSnapshot: Promise<unknown> | undefined;
  const deleteSnapshot = () => (deletingSnapshot ??= CancellationScope.nonCancellable(() => snapshots.deleteSnapshot(snapshotId)));
  // Asked here, where histories recorded without CANCELS_CLEANLY_PATCH hold its marker.
  const shortPath = cancelsCleanly || patched(SHORT_PATH_PATCH);
  const deleteLast = shortPath || patched(DELETE_SNAPSHOT_LAST_PATCH);
  // Awaited once the set is released (a failure to start it fails the operation there).
  let monitorStart: Promise<void> | undefined;
  try {
    const childInput = (replicaId: string, i: number, snapshotGtid?: string) => ({
      replicaId,
      projectId: spec.projectId,
      name: names[i]!,
      ...shape,
      readOnly: spec.readOnly,
      snapshotId,
      snapshotGtid,
      setId,
      source: { instanceId: source.id, novaServerId: source.novaServerId!, address: source.address!, port: source.port ?? 3306 },
    });
    const failed = (replicaId: string, i: number) => (err: unknown): ReplicaOutcome => ({
      replicaId,
      name: names[i]!,
      status: 'FAILED',
      error: cancelsCleanly && isCancellation(err) ? 'cancelled' : errorMessage(err),
    });
    // A replica's row ends with its outcome: the build reports only the phases that last.
    const settle = (outcome: ReplicaOutcome): ReplicaOutcome => {
      settled.add(outcome.replicaId);
      const i = rows.findIndex((r) => r.replicaId === outcome.replicaId);
      if (i >= 0) rows[i] = settleRow(rows[i]!, outcome);
      progress.render();
      return outcome;
    };

    // Servers boot while the source streams its backup (and, on the short path, while it is
    // prepared); each child waits for the snapshot's GTID, or the reason there is none,
    // before it restores.
    const startBuilds = () =>
      Promise.all(replicaIds.map((replicaId, i) => startChild(buildReplica, { workflowId: workflowIds.buildReplica(replicaId), args: [childInput(replicaId, i)] })));
    type Builds = Awaited<ReturnType<typeof startBuilds>>;
    const follow = (children: Builds) => children.map((c, i) => c.result().catch(failed(replicaIds[i]!, i)).then(settle));
    const abandon = async (children: Builds, results: Promise<ReplicaOutcome>[], err: unknown) => {
      await Promise.all(children.map((c) => c.signal(snapshotReadySignal, { error: errorMessage(err) }).catch(() => undefined)));
      await Promise.all(results);
    };

    progress.phase('preparing source');
    const startingBuilds = shortPath ? startBuilds() : undefined;
    startingBuilds?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    let prepared: { restarted: boolean };
    try {
      prepared = await guestActivities(source.novaServerId!).ensureReplicationSource();
    } catch (err) {
      if (startingBuilds) {
        const children = await startingBuilds;
        await abandon(children, follow(children), err);
      }
      throw err;
    }

    progress.phase('snapshot');
    let snapshot: SnapshotMeta;
    let outcomes: ReplicaOutcome[];
    try {
      if (startingBuilds || patched(PROVISION_DURING_SNAPSHOT_PATCH)) {
        const children = await (startingBuilds ?? startBuilds());
        const results = follow(children);
        try {
          snapshot = await guestLong(source.novaServerId!).createSnapshot({ snapshotId });
        } catch (err) {
          await abandon(children, results, err);
          throw err;
        }
        progress.phase('building replicas');
        await Promise.all(children.map((c) => c.signal(snapshotReadySignal, { gtid: snapshot.binlog.gtid }).catch(() => undefined)));
        if (!deleteLast && patched(DELETE_SNAPSHOT_ONCE_RESTORED_PATCH)) {
          // Awaited in the finally; a failure here surfaces there.
          condition(() => rows.every((r) => doneWithSnapshot(r.phase)))
            .then(deleteSnapshot)
            .catch(() => undefined);
        }
        outcomes = await Promise.all(results);
      } else {
        snapshot = await guestLong(source.novaServerId!).createSnapshot({ snapshotId });
        progress.phase('building replicas');
        outcomes = await Promise.all(
          replicaIds.map((replicaId, i): Promise<ReplicaOutcome> =>
            executeChild(buildReplica, { workflowId: workflowIds.buildReplica(replicaId), args: [childInput(replicaId, i, snapshot.binlog.gtid)] })
              .catch(failed(replicaId, i))
              .then(settle),
          ),
        );
      }
      if (outcomes.some((o) => o.status === 'ACTIVE') && (shortPath || patched(START_MONITOR_PATCH))) {
        if (shortPath) {
          // Not cancellable: replicas that are ACTIVE keep their failover, cancelled or not.
          monitorStart = wholeIf(cancelsCleanly, () => ensureMonitor(setId, spec.projectId));
          monitorStart.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
        } else await ensureMonitor(setId, spec.projectId);
      }
      // The replicas already ACTIVE stay; the others were undone by their builds (the
      // `replicas` query shows which: a cancelled workflow carries no result).
      if (cancelsCleanly && CancellationScope.current().consideredCancelled) throw new CancelledFailure('createReplicas cancelled');
      progress.phase(outcomes.every((o) => o.status === 'ACTIVE') ? 'done' : 'done with failures');
      return {
        sourceInstanceId: source.id,
        replicationSetId: setId,
        snapshotId,
        snapshotBytes: snapshot.dataset.sizeBytes,
        sourceRestarted: prepared.restarted,
        replicas: outcomes,
      };
    } finally {
      // Always: on success, failure and cancellation (Trove bug 1359354 leaked these).
      if (!deleteLast) await deleteSnapshot();
    }
  } catch (err) {
    const cancelledNow = cancelsCleanly && cancelled(err);
    progress.fail(cancelledNow ? 'cancelled' : errorMessage(err));
    if (cancelledNow) throw err;
    throw operationFailure(err, 'createReplicas failed', ErrorType.GuestFailed);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      const finish = async () => {
        if (shortPath || patched(FINISH_IN_ONE_STEP_PATCH)) {
          await registry.finishReplicas({ replicaIds, setId, operationId });
        } else {
          await registry.discardUnbuiltReplicas(replicaIds);
          await registry.releaseSet({ setId, operationId });
        }
      };
      if (cancelsCleanly) {
        // The snapshot goes even if the registry cannot be reached (Trove bug 1359354).
        try {
          await finish();
        } finally {
          await deleteSnapshot();
        }
      } else {
        await finish();
        if (deleteLast) await deleteSnapshot();
      }
    });
    await monitorStart;
  }
}
