// Backups (Trove's /backups) as kept snapshots. createBackup: under the instance's lock,
// stream a snapshot of it into the snapshot store under the backup's id and record it
// COMPLETED; a failure deletes what was written and records FAILED. deleteBackup: the
// snapshot leaves the store, then the record, so a backup is never orphaned either way.
// provisionInstance restores a new master from one (restoreBackupId).
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { createBackupInput, deleteBackupInput, type CreateBackupInput, type CreateBackupResult, type DeleteBackupInput } from '../lib/schemas';
import { beginOn, errorMessage, guestLong, operationFailure, parseInput, recordFault, registry, snapshots, tagOperation } from './common';
import { Progress } from './progress';

export async function createBackup(raw: CreateBackupInput): Promise<CreateBackupResult> {
  const input = parseInput(createBackupInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('createBackup', () => `backup ${input.backupId} of instance ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  let begun;
  try {
    begun = await beginOn('createBackup', input, progress, 'backup');
  } catch (err) {
    // Refused after the 202 (another operation took the instance meanwhile): the backup says why.
    await CancellationScope.nonCancellable(() => registry.updateBackup({ backupId: input.backupId, status: 'FAILED', failReason: errorMessage(err) }));
    throw err;
  }
  try {
    await registry.updateBackup({ backupId: input.backupId, status: 'BUILDING' });
    progress.phase('snapshot');
    const snapshot = await guestLong(begun.instance.novaServerId!).createSnapshot({ snapshotId: input.backupId });
    await registry.updateBackup({ backupId: input.backupId, status: 'COMPLETED', sizeBytes: snapshot.dataset.sizeBytes, gtid: snapshot.binlog.gtid });
    progress.phase('done');
    return { backupId: input.backupId, instanceId: input.instanceId, sizeBytes: snapshot.dataset.sizeBytes, gtid: snapshot.binlog.gtid };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'backup failed', ErrorType.GuestFailed);
    await CancellationScope.nonCancellable(async () => {
      // Nothing half-written stays in the store: a FAILED backup holds no snapshot.
      await snapshots.deleteSnapshot(input.backupId);
      await registry.updateBackup({ backupId: input.backupId, status: 'FAILED', failReason: failure.message });
    });
    await recordFault(input.instanceId, failure.message);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: input.instanceId }));
  }
}

export async function deleteBackup(raw: DeleteBackupInput): Promise<{ backupId: string; deleted: boolean }> {
  const input = parseInput(deleteBackupInput, raw);
  const progress = new Progress('deleteBackup', () => `backup ${input.backupId}`);
  progress.phase('deleting snapshot');
  // Idempotent: a retry, or a backup already gone, finds nothing more to do.
  await snapshots.deleteSnapshot(input.backupId);
  const existed = (await registry.getBackup(input.backupId)) !== null;
  if (existed) await registry.forgetBackup(input.backupId);
  progress.phase('done');
  return { backupId: input.backupId, deleted: existed };
}
