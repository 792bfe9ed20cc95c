// buildReplica (child of createReplicas): one replica from the shared snapshot. Provision
// a server with its own server_id, restore the snapshot, give it its own replication
// account on the source, replicate from the snapshot's GTID, wait until it has caught up.
// A failure undoes everything this replica created: account, server, record.
import { ApplicationFailure } from '@temporalio/common';
import { CancellationScope, condition, getExternalWorkflowHandle, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { novaServerName } from '../lib/names';
import { newReplicaRecord } from '../lib/records';
import { buildReplicaInput, type BuildReplicaInput, type ReplicaOutcome, type ReplicaPhase } from '../lib/schemas';
import { cancelled, compute, computeWait, errorMessage, guestActivities, guestLong, operationFailure, parseInput, recordFault, registry, tagOperation } from './common';
import { issueCertificate } from './certificates';
import { FAULT_PATCH, TLS_REPLICAS } from './patches';
import { Progress } from './progress';
import { LastingPhaseReporter, replicaProgressSignal, snapshotReadySignal, type ReplicaProgress, type SnapshotOutcome } from './replica-progress';
import { Saga } from './saga';

/**
 * The parent hears of a phase only once it has lasted this long, and of the end (active,
 * cleaned up) from this workflow's result: each signal wakes both workflows, a third of an
 * operation's CPU with quick phases (bench/improvements.md §8).
 */
const REPORT_AFTER = '1s';
const FINAL_PHASES: ReplicaPhase[] = ['active', 'cleaned up'];

export async function buildReplica(raw: BuildReplicaInput): Promise<ReplicaOutcome> {
  const spec = parseInput(buildReplicaInput, raw);
  const { workflowId: operationId, parent } = workflowInfo();
  const progress = new Progress('buildReplica', () => `replica \`${spec.name}\` of \`${spec.source.instanceId}\``);
  tagOperation(spec.projectId, spec.replicaId, spec.setId);
  // A replica inherits its set's TLS: a certificate from the set's CA before it attaches, a
  // verified TLS link, an account that requires TLS. Asked only of a TLS set's builds, so a
  // plain build records no marker (0.1.0 histories never carry tls).
  const tls = spec.tls === true && patched(TLS_REPLICAS);
  let snapshot: SnapshotOutcome | undefined = spec.snapshotGtid === undefined ? undefined : { gtid: spec.snapshotGtid };
  setHandler(snapshotReadySignal, (outcome) => {
    snapshot ??= outcome;
  });

  const toParent = (p: ReplicaProgress) => getExternalWorkflowHandle(parent!.workflowId, parent!.runId).signal(replicaProgressSignal, p);
  const lasting = new LastingPhaseReporter(REPORT_AFTER, toParent);
  const report = async (phase: ReplicaPhase, extra: Partial<ReplicaProgress> = {}) => {
    progress.phase(phase);
    if (!parent) return;
    if (FINAL_PHASES.includes(phase)) lasting.end();
    else lasting.phase({ replicaId: spec.replicaId, name: spec.name, phase, ...extra });
  };

  const saga = new Saga();
  // A step whose undo is already on the saga: a cancel must not leave it running behind the
  // undo, which would find nothing to undo (a cancelled build orphaned its server so).
  const whole = <T>(step: () => Promise<T>) => CancellationScope.nonCancellable(step);
  let released = false;
  try {
    await report('registering');
    saga.add('remove record', () => registry.forgetInstance(spec.replicaId));
    const record = newReplicaRecord({ ...spec, sourceId: spec.source.instanceId, operationId });
    await whole(() => registry.recordInstance({ record, setId: spec.setId }));
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
        trove_restore_snapshot: spec.snapshotId,
      },
      // The source's server group: Nova places the replica by its policy.
      ...(spec.serverGroupId ? { group: spec.serverGroupId } : {}),
    }));
    const ready = await computeWait.waitForServerActive(novaServerId);
    await registry.updateInstance({
      instanceId: spec.replicaId,
      novaServerId,
      address: ready.address,
      ...(ready.availabilityZone && !spec.availabilityZone ? { availabilityZone: ready.availabilityZone } : {}),
    });

    await report('restoring');
    const sourceGuest = guestActivities(spec.source.novaServerId);
    const replicaGuest = guestActivities(novaServerId);
    // The source's account for this replica: a saga step before it is created.
    const createAccount = async () => {
      const credential = await registry.replicationCredential({ replicaId: spec.replicaId, sourceId: spec.source.instanceId });
      saga.add('drop replication user', () => sourceGuest.dropReplicationUser({ userName: credential.userName }));
      await whole(() => sourceGuest.createReplicationUser({ ...credential, requireSsl: tls }));
      return credential;
    };
    // Started while the source's snapshot is still being taken (createReplicas), the
    // restore follows the snapshot as it is written; the GTID comes with the parent's signal.
    const restoreScope = new CancellationScope();
    const restoring = restoreScope.run(() =>
      guestLong(novaServerId).restoreSnapshot({ snapshotId: spec.snapshotId, mysqlServerId, readOnly: spec.readOnly, follow: snapshot === undefined }),
    );
    const noSnapshot = (): string | undefined => (snapshot && 'error' in snapshot ? snapshot.error : undefined);
    const noSnapshotFailure = (reason: string) => ApplicationFailure.nonRetryable(`no snapshot: ${reason}`, ErrorType.GuestFailed);
    // A restore following the snapshot waits for its file: told there will be none, it is
    // cancelled rather than left waiting up to ten minutes. Caught: a cancelled build rejects
    // this wait, and an unhandled rejection would fail every workflow task (on replay too), so
    // the saga below would never run.
    void condition(() => noSnapshot() !== undefined).then(() => restoreScope.cancel()).catch(() => undefined);
    // The source's account is made while the snapshot is restored (and its position read while
    // the replica attaches), so two round trips follow the restore instead of six in a row.
    // Both settle before a failure is thrown: the saga must not drop an account that is still
    // being created.
    let restored: Awaited<typeof restoring>;
    let credential: Awaited<ReturnType<typeof createAccount>>;
    try {
      [restored, credential] = await allSettledOrThrow([restoring, createAccount()]);
    } catch (err) {
      const reason = noSnapshot();
      if (reason !== undefined) throw noSnapshotFailure(reason);
      throw err;
    }
    if (!snapshot) {
      await report('waiting for snapshot');
      await condition(() => snapshot !== undefined);
    }
    const reason = noSnapshot();
    if (reason !== undefined) throw noSnapshotFailure(reason);
    const snapshotGtid = (snapshot as { gtid: string }).gtid;

    // Restored and started: the certificate is loaded by FLUSH SSL, the link verifies the source's.
    if (tls) await issueCertificate(spec.setId, { id: spec.replicaId, novaServerId });
    const startReplication = replicaGuest.startReplication({ source: { host: spec.source.address, port: spec.source.port, ...credential, tls }, gtid: snapshotGtid });
    const [, , { gtidBinlogPos }] = await Promise.all([report('attaching', { restoredBytes: restored.bytes }), startReplication, sourceGuest.gtidPosition()]);
    const [, caughtUp] = await Promise.all([
      report('catching up', { restoredBytes: restored.bytes }),
      guestLong(novaServerId).waitForGtid({ gtid: gtidBinlogPos, timeoutSeconds: spec.catchUpTimeoutSeconds }),
    ]);

    // ACTIVE and the replica's lock released in one registry step, while the parent is told.
    await Promise.all([
      registry.updateInstance({ instanceId: spec.replicaId, status: 'ACTIVE', port: 3306, fault: null, releaseOperationId: operationId }),
      report('active', { restoredBytes: restored.bytes, secondsBehind: caughtUp.secondsBehind }),
    ]);
    released = true;
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
    await report('failed', { error: reason });
    const undoFailed = await saga.compensate();
    // A replica that could not be undone stays recorded: in ERROR with the reason, as a failed provisioning.
    if (undoFailed.length && patched(FAULT_PATCH.buildReplica)) await recordFault(spec.replicaId, `${reason} (cleanup failed: ${undoFailed.join(', ')})`, 'ERROR');
    await CancellationScope.nonCancellable(() => report('cleaned up', { error: reason }));
    // Cancelled, it ends CANCELLED once undone (not FAILED).
    if (cancelled(err)) throw err;
    throw operationFailure(err, `replica ${spec.name} failed`, ErrorType.ServerBuildFailed);
  } finally {
    if (!released) await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: spec.replicaId }));
  }
}

/** Waits for every promise; then throws the first failure, if any, or returns the values. */
async function allSettledOrThrow<T extends readonly unknown[]>(promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
