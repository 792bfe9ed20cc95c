// rebuildAsReplica: restore the master side after a failover (use case B3). The source an
// eject fenced (powered off, locked, out of its set, ERROR) is powered on again, made
// read-only at once, and compared with the set's current source by GTID: what it wrote
// that the set never received (errant GTIDs) is reported on the instance and in this
// operation's result before anything is discarded. Then its data is replaced by a fresh
// snapshot of the source and it replicates from it, as a replica build does (the same
// guest activities: snapshot, restore, account, attach, catch up), rejoining the set
// read-only. promoteToReplicaSource can then switch back (fail back). With `pair`, the side of
// a master-master pair that failOverPair lost rejoins as the pair's passive side (the same
// pair step as createPair, under the same lock): the set's source is its active side.
import { CancellationScope, uuid4, workflowInfo } from '@temporalio/workflow';
import type { InstanceSummary } from '../activities/registry/activities';
import { ErrorType } from '../lib/errors';
import { errantTransactions, parseGtidList } from '../lib/gtid';
import { rebuildAsReplicaInput, type RebuildAsReplicaInput, type RebuildAsReplicaResult } from '../lib/schemas';
import { issueCertificate } from './certificates';
import { linkPair } from './pair-link';
import { beginOn, compute, computeWait, errorMessage, guestActivities, guestLong, monitors, operationFailure, parseInput, recordFault, registry, snapshots, tagOperation, tagReplicationSet } from './common';
import { Progress } from './progress';
import { Saga } from './saga';

export async function rebuildAsReplica(raw: RebuildAsReplicaInput): Promise<RebuildAsReplicaResult> {
  const input = parseInput(rebuildAsReplicaInput, raw);
  const operationId = workflowInfo().workflowId;
  let errant: string[] | undefined;
  // The Web UI's current details carry the errant GTIDs as soon as they are known.
  const progress = new Progress('rebuildAsReplica', () =>
    [`former source ${input.instanceId}`, errant === undefined ? '' : `errant GTIDs (discarded): ${errant.length ? errant.join(', ') : 'none'}`].filter(Boolean).join('\n\n'),
  );
  tagOperation(input.projectId, input.instanceId);

  // A new workflow type: a refusal after the 202 is the instance's fault without a patch.
  let begun;
  try {
    begun = await beginOn(input.pair ? 'rejoinPair' : 'rebuildAsReplica', input, progress, input.pair ? 'rejoin pair' : 'rebuild as replica');
  } catch (err) {
    await recordFault(input.instanceId, errorMessage(err));
    throw err;
  }
  const view = begun.set!;
  tagReplicationSet(view.setId);
  const old: InstanceSummary = begun.instance;
  const source = view.source;
  const oldGuest = guestActivities(old.novaServerId!);
  const sourceGuest = guestActivities(source.novaServerId!);
  const snapshotId = uuid4();
  const undo = new Saga();
  let monitorStart: Promise<unknown> | undefined;

  try {
    progress.phase('powering the former source on');
    await compute.unfenceServer(old.novaServerId!);
    await computeWait.waitForServerActive(old.novaServerId!);
    // It boots as it was fenced, writable: nobody may write to it from here on.
    progress.phase('fencing writes on the former source');
    await oldGuest.fenceWrites();

    progress.phase('comparing GTIDs');
    const [mine, theirs] = await Promise.all([oldGuest.gtidPosition(), sourceGuest.gtidPosition()]);
    const ranges = errantTransactions(parseGtidList(mine.gtidBinlogState), [...parseGtidList(theirs.gtidBinlogState), ...parseGtidList(theirs.gtidSlavePos)]);
    errant = ranges.map((r) => r.gtids);
    // Recorded before anything is discarded: a rebuild that fails later still leaves the report.
    await registry.updateInstance({
      instanceId: old.id,
      errantGtids: { gtids: errant, formerState: mine.gtidBinlogState, sourceState: theirs.gtidBinlogState, sourceId: source.id, operationId, recorded: new Date().toISOString() },
    });
    progress.render();

    progress.phase('snapshot of the source');
    const snapshot = await guestLong(source.novaServerId!).createSnapshot({ snapshotId });
    progress.phase('restoring');
    const mysqlServerId = await registry.allocateServerId(old.id);
    await guestLong(old.novaServerId!).restoreSnapshot({ snapshotId, mysqlServerId, readOnly: true });

    progress.phase('attaching');
    const tls = view.settings.tls === true;
    const credential = await registry.replicationCredential({ replicaId: old.id, sourceId: source.id });
    undo.add('drop replication user', () => sourceGuest.dropReplicationUser({ userName: credential.userName }));
    await CancellationScope.nonCancellable(() => sourceGuest.createReplicationUser({ ...credential, requireSsl: tls }));
    if (tls) await issueCertificate(view.setId, { id: old.id, novaServerId: old.novaServerId! });
    await oldGuest.startReplication({ source: { host: source.address!, port: source.port ?? 3306, ...credential, tls }, gtid: snapshot.binlog.gtid });
    const { gtidBinlogPos } = await sourceGuest.gtidPosition();
    progress.phase('catching up');
    await guestLong(old.novaServerId!).waitForGtid({ gtid: gtidBinlogPos, timeoutSeconds: input.catchUpTimeoutSeconds });

    await registry.applyTransition({ setId: view.setId, transition: { kind: 'add-replica', replicaId: old.id, sourceId: source.id, writable: false } });
    let pair: RebuildAsReplicaResult['pair'];
    if (input.pair) {
      // A GTID domain no server ever wrote in, not its old one: the errant GTIDs just discarded
      // were in its old domain, and a server still holding one of them (a replica that got it
      // before the failover) would take a new write with the same GTID for applied.
      const domainId = await registry.allocateServerId(uuid4());
      pair = { activeId: source.id, passiveId: old.id, gtidDomains: await linkPair(view, { member: source, domainId: source.mysqlServerId! }, { member: { ...old, mysqlServerId }, domainId }, progress) };
    }
    // No longer a former source: it is a member again (a second rebuild is refused).
    await registry.updateInstance({ instanceId: old.id, status: 'ACTIVE', fault: null, replacedBy: null });
    // A set that dissolved at the failover was founded anew: it needs its monitor again.
    monitorStart = CancellationScope.nonCancellable(() => monitors.ensureMonitor({ setId: view.setId, projectId: input.projectId, sourceName: source.name }));
    monitorStart.catch(() => undefined); // awaited below
    progress.phase('done');
    return {
      instanceId: old.id,
      sourceId: source.id,
      replicationSetId: view.setId,
      errantGtids: errant,
      formerState: mine.gtidBinlogState,
      sourceState: theirs.gtidBinlogState,
      snapshotId,
      snapshotBytes: snapshot.dataset.sizeBytes,
      ...(pair ? { pair } : {}),
    };
  } catch (err) {
    progress.fail(errorMessage(err));
    await undo.compensate();
    const failure = operationFailure(err, 'rebuild as replica failed', ErrorType.GuestFailed);
    // Still out of the set and still a former source: fix the cause and rebuild again.
    await recordFault(old.id, failure.message, 'ERROR');
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(async () => {
      try {
        await registry.endOperation({ operationId, instanceId: old.id, setId: view.setId });
      } finally {
        await snapshots.deleteSnapshot(snapshotId);
      }
    });
    await monitorStart;
  }
}
