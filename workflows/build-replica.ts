// buildReplica (child of createReplicas): one replica from the shared snapshot. Provision
// a server with its own server_id, restore the snapshot, give it its own replication
// account on the source, replicate from the snapshot's GTID, wait until it has caught up.
// A failure undoes everything this replica created: account, server, record.
import { ApplicationFailure } from '@temporalio/common';
import { CancellationScope, condition, getExternalWorkflowHandle, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { novaServerName } from '../lib/names';
import { buildReplicaInput, type BuildReplicaInput, type ReplicaOutcome, type ReplicaPhase } from '../lib/schemas';
import { cancelled, compute, computeWait, errorMessage, guestActivities, guestLong, operationFailure, parseInput, registry, tagOperation, tagReplicationSet, wholeIf } from './common';
import { Progress } from './progress';
import { LastingPhaseReporter, replicaProgressSignal, snapshotReadySignal, type ReplicaProgress, type SnapshotOutcome } from './replica-progress';
import { Saga } from './saga';

/**
 * Added with the replica-build benchmark: a replica's server is created with the snapshot
 * in its metadata, so its guest starts extracting it at boot rather than when the agent's
 * worker has loaded and picked up restoreSnapshot.
 */
export const RESTORE_ON_BOOT_PATCH = '2026-11-restore-on-boot';

/**
 * Added with the replica-build benchmark: the source's replication account for this replica
 * is made while the snapshot is restored, and the source's position is read while the
 * replica attaches, so the restore is followed by two round trips to the replica instead
 * of six in a row.
 */
export const ATTACH_WHILE_RESTORING_PATCH = '2026-11-attach-while-restoring';

/**
 * Added with the replica-build benchmark: a built replica's record turns ACTIVE and its
 * lock is released in one registry step, while the parent is told, instead of three
 * steps in a row.
 */
export const FINISH_IN_ONE_STEP_PATCH = '2026-11-build-replica-finishes-in-one-step';

/**
 * Added with the orchestration-overhead benchmark: the two shortest phases (registering,
 * ~20 ms; attaching, ~50 ms) stay in the replica's own progress but are no longer signalled
 * to the parent: each signal costs a workflow task on both workflows (~10 ms each), about a
 * tenth of an operation's orchestration latency.
 */
export const QUIET_SHORT_PHASES_PATCH = '2026-11-quiet-short-phases';
const SHORT_PHASES: ReplicaPhase[] = ['registering', 'attaching'];

/**
 * Added with the orchestration-overhead benchmark: the parent hears of a phase only once it
 * has lasted REPORT_AFTER, and of the end (active, cleaned up) from this workflow's result.
 * With no-op guests the four remaining signals cost a third of an operation's CPU
 * (bench/improvements.md §8); a real build's restore and catch-up still show in the parent.
 */
export const REPORT_LASTING_PHASES_PATCH = '2026-11-report-lasting-phases';
const REPORT_AFTER = '1s';
const FINAL_PHASES: ReplicaPhase[] = ['active', 'cleaned up'];

/**
 * Added with the orchestration-overhead benchmark. It implies every patch above, so a new
 * execution records one marker instead of five (the SDK pairs each marker with a
 * search-attribute update), and it tags the execution in one update instead of two;
 * histories without it replay as before.
 */
export const ONE_MARKER_PATCH = '2026-11-build-replica-one-marker';

/**
 * Added with createReplicas' short path (builds start beside the source's preparation): a
 * restore that follows the snapshot waits for its file to appear, so a build told there will
 * be no snapshot cancels its restore instead of waiting up to ten minutes for the file. It
 * implies ONE_MARKER_PATCH (and so every patch above): still one marker per new execution.
 */
export const NO_SNAPSHOT_CANCELS_RESTORE_PATCH = '2026-11-build-replica-no-snapshot-cancels-restore';

/**
 * Added when a cancelled build was found to orphan what it was creating: a step whose undo is
 * already on the saga (the registry row, the Nova server, the account on the source) now
 * finishes even if the build is cancelled meanwhile, so its undo cannot run before it and
 * find nothing; and a cancelled build ends CANCELLED, once undone, instead of FAILED. Implies
 * NO_SNAPSHOT_CANCELS_RESTORE_PATCH: still one marker per new execution.
 */
export const CANCELS_CLEANLY_PATCH = '2026-11-build-replica-cancels-cleanly';

export async function buildReplica(raw: BuildReplicaInput): Promise<ReplicaOutcome> {
  const spec = parseInput(buildReplicaInput, raw);
  const { workflowId: operationId, parent } = workflowInfo();
  const progress = new Progress('buildReplica', () => `replica \`${spec.name}\` (${spec.replicaId}) of ${spec.source.instanceId}`);
  const cancelsCleanly = patched(CANCELS_CLEANLY_PATCH);
  const cancelsRestore = cancelsCleanly || patched(NO_SNAPSHOT_CANCELS_RESTORE_PATCH);
  const current = cancelsRestore || patched(ONE_MARKER_PATCH);
  if (current) tagOperation(spec.projectId, spec.replicaId, spec.setId);
  else {
    tagOperation(spec.projectId, spec.replicaId);
    tagReplicationSet(spec.setId);
  }
  let snapshot: SnapshotOutcome | undefined = spec.snapshotGtid === undefined ? undefined : { gtid: spec.snapshotGtid };
  setHandler(snapshotReadySignal, (outcome) => {
    snapshot ??= outcome;
  });

  const quietShortPhases = current || patched(QUIET_SHORT_PHASES_PATCH);
  const lastingOnly = current || patched(REPORT_LASTING_PHASES_PATCH);
  const toParent = (p: ReplicaProgress) => getExternalWorkflowHandle(parent!.workflowId, parent!.runId).signal(replicaProgressSignal, p);
  const lasting = new LastingPhaseReporter(REPORT_AFTER, toParent);
  const report = async (phase: ReplicaPhase, extra: Partial<ReplicaProgress> = {}) => {
    progress.phase(phase);
    if (!parent) return;
    const p = { replicaId: spec.replicaId, name: spec.name, phase, ...extra };
    if (lastingOnly) {
      if (FINAL_PHASES.includes(phase)) lasting.end();
      else lasting.phase(p);
    } else if (!(quietShortPhases && SHORT_PHASES.includes(phase))) {
      // Progress is informative: a parent that is gone must not fail the build.
      await toParent(p).catch(() => undefined);
    }
  };

  const saga = new Saga();
  // A step whose undo is already on the saga: a cancel must not leave it running behind the undo.
  const whole = <T>(step: () => Promise<T>) => wholeIf(cancelsCleanly, step);
  let released = false;
  try {
    await report('registering');
    saga.add('remove record', () => registry.removeFailedReplica(spec.replicaId));
    await whole(() => registry.registerReplica({
      replicaId: spec.replicaId,
      projectId: spec.projectId,
      name: spec.name,
      flavorId: spec.flavorId,
      volumeSize: spec.volumeSizeGb,
      availabilityZone: spec.availabilityZone,
      sourceId: spec.source.instanceId,
      setId: spec.setId,
      readOnly: spec.readOnly,
      operationId,
    }));
    const mysqlServerId = await registry.allocateServerId(spec.replicaId);

    await report('creating server');
    const name = novaServerName(spec.replicaId);
    saga.add('delete server', () => compute.deleteServer({ name }));
    const novaServerId = await whole(() => compute.createServer({
      name,
      flavorId: spec.flavorId,
      availabilityZone: spec.availabilityZone ?? undefined,
      metadata: {
        trove_instance_id: spec.replicaId,
        trove_project_id: spec.projectId,
        trove_replica_of: spec.source.instanceId,
        // The guest starts extracting the snapshot as it boots (see restoreSnapshot).
        ...(current || patched(RESTORE_ON_BOOT_PATCH) ? { trove_restore_snapshot: spec.snapshotId } : {}),
      },
    }));
    const ready = await computeWait.waitForServerActive(novaServerId);
    await registry.recordServer({ instanceId: spec.replicaId, novaServerId, address: ready.address });

    await report('restoring');
    const sourceGuest = guestActivities(spec.source.novaServerId);
    const replicaGuest = guestActivities(novaServerId);
    // The source's account for this replica: a saga step before it is created.
    const createAccount = async () => {
      const credential = await registry.replicationCredential({ replicaId: spec.replicaId, sourceId: spec.source.instanceId });
      saga.add('drop replication user', () => sourceGuest.dropReplicationUser({ userName: credential.userName }));
      await whole(() => sourceGuest.createReplicationUser(credential));
      return credential;
    };
    const attachWhileRestoring = current || patched(ATTACH_WHILE_RESTORING_PATCH);
    // Started while the source's snapshot is still being taken (createReplicas), the
    // restore follows the snapshot as it is written; the GTID comes with the parent's signal.
    const restoreScope = new CancellationScope();
    const restoring = restoreScope.run(() =>
      guestLong(novaServerId).restoreSnapshot({ snapshotId: spec.snapshotId, mysqlServerId, readOnly: spec.readOnly, follow: snapshot === undefined }),
    );
    const noSnapshot = (): string | undefined => (snapshot && 'error' in snapshot ? snapshot.error : undefined);
    const noSnapshotFailure = (reason: string) => ApplicationFailure.nonRetryable(`no snapshot: ${reason}`, ErrorType.GuestFailed);
    // Caught: a cancelled build rejects this wait, and an unhandled rejection would fail every
    // workflow task (on replay too), so the saga below would never run.
    if (cancelsRestore) void condition(() => noSnapshot() !== undefined).then(() => restoreScope.cancel()).catch(() => undefined);
    let restored: Awaited<typeof restoring>;
    let early: Awaited<ReturnType<typeof createAccount>> | undefined;
    if (attachWhileRestoring) {
      // Both settle before a failure is thrown: the saga must not drop an account that is
      // still being created.
      try {
        [restored, early] = await allSettledOrThrow([restoring, createAccount()]);
      } catch (err) {
        const reason = cancelsRestore ? noSnapshot() : undefined;
        if (reason !== undefined) throw noSnapshotFailure(reason);
        throw err;
      }
    } else {
      restored = await restoring;
    }
    if (!snapshot) {
      await report('waiting for snapshot');
      await condition(() => snapshot !== undefined);
    }
    const reason = noSnapshot();
    if (reason !== undefined) throw noSnapshotFailure(reason);
    const snapshotGtid = (snapshot as { gtid: string }).gtid;

    let caughtUp: Awaited<ReturnType<typeof replicaGuest.waitForGtid>>;
    if (attachWhileRestoring) {
      const startReplication = replicaGuest.startReplication({ source: { host: spec.source.address, port: spec.source.port, ...early! }, gtid: snapshotGtid });
      const [, , { gtidBinlogPos }] = await Promise.all([report('attaching', { restoredBytes: restored.bytes }), startReplication, sourceGuest.gtidPosition()]);
      [, caughtUp] = await Promise.all([
        report('catching up', { restoredBytes: restored.bytes }),
        guestLong(novaServerId).waitForGtid({ gtid: gtidBinlogPos, timeoutSeconds: spec.catchUpTimeoutSeconds }),
      ]);
    } else {
      await report('attaching', { restoredBytes: restored.bytes });
      const credential = await createAccount();
      await replicaGuest.startReplication({ source: { host: spec.source.address, port: spec.source.port, ...credential }, gtid: snapshotGtid });
      await report('catching up', { restoredBytes: restored.bytes });
      const { gtidBinlogPos } = await sourceGuest.gtidPosition();
      caughtUp = await guestLong(novaServerId).waitForGtid({ gtid: gtidBinlogPos, timeoutSeconds: spec.catchUpTimeoutSeconds });
    }

    if (current || patched(FINISH_IN_ONE_STEP_PATCH)) {
      await Promise.all([
        registry.setInstanceStatus({ instanceId: spec.replicaId, status: 'ACTIVE', port: 3306, fault: null, releaseOperationId: operationId }),
        report('active', { restoredBytes: restored.bytes, secondsBehind: caughtUp.secondsBehind }),
      ]);
      released = true;
    } else {
      await registry.setInstanceStatus({ instanceId: spec.replicaId, status: 'ACTIVE', port: 3306, fault: null });
      await report('active', { restoredBytes: restored.bytes, secondsBehind: caughtUp.secondsBehind });
    }
    return {
      replicaId: spec.replicaId,
      name: spec.name,
      status: 'ACTIVE',
      novaServerId,
      address: ready.address,
      mysqlServerId,
      restoredBytes: restored.bytes,
      secondsBehind: caughtUp.secondsBehind,
    };
  } catch (err) {
    const reason = errorMessage(err);
    progress.fail(reason);
    // Undoing can take a while: a parent that only reads the end would show the last phase meanwhile.
    if (lastingOnly) await report('failed', { error: reason });
    await saga.compensate();
    await CancellationScope.nonCancellable(() => report('cleaned up', { error: reason }));
    if (cancelsCleanly && cancelled(err)) throw err;
    throw operationFailure(err, `replica ${spec.name} failed`, ErrorType.ServerBuildFailed);
  } finally {
    if (!released) await CancellationScope.nonCancellable(() => registry.releaseInstance({ instanceId: spec.replicaId, operationId }));
  }
}

/** Waits for every promise; then throws the first failure, if any, or returns the values. */
async function allSettledOrThrow<T extends readonly unknown[]>(promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
