// createBackup, deleteBackup and provisionInstance from a backup against a real Temporal
// server with mocked activities: a kept snapshot, FAILED with nothing left in the store, the
// delete taking the snapshot first, a restore instead of a fresh database.
import { randomUUID } from 'node:crypto';
import { newWorld, sampleProvisionSpec, seedSource } from '../helpers/fake-activities';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

const run = (taskQueue: string, type: string, arg: unknown) => ctx.env.temporal.workflow.execute(type, { taskQueue, workflowId: `${type}-${randomUUID()}`, args: [arg] });

test('createBackup keeps the snapshot under the backup id, COMPLETED; deleteBackup removes it, then the record', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const src = seedSource(world, randomUUID(), prefix);
    const backupId = randomUUID();
    world.backups.set(backupId, { status: 'NEW' });
    expect(await run(tq, 'createBackup', { backupId, projectId: 'proj-a', instanceId: src.id })).toEqual({ backupId, instanceId: src.id, sizeBytes: 1024, gtid: '0-101-5' });
    expect(world.backups.get(backupId)).toMatchObject({ status: 'COMPLETED', sizeBytes: 1024, gtid: '0-101-5' });
    expect([...world.snapshots]).toEqual([backupId]);
    expect(world.instances.get(src.id)!.lock).toBeNull();

    expect(await run(tq, 'deleteBackup', { backupId, projectId: 'proj-a' })).toEqual({ backupId, deleted: true });
    expect(world.snapshots.size).toBe(0);
    expect(world.backups.has(backupId)).toBe(false);
    // Again: nothing left to do, and no failure.
    expect(await run(tq, 'deleteBackup', { backupId, projectId: 'proj-a' })).toEqual({ backupId, deleted: false });
  });
});

test('createBackup: a failed snapshot leaves the backup FAILED with the reason, nothing in the store, the fault on the instance', async () => {
  const world = newWorld();
  world.failSnapshot = true;
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const src = seedSource(world, randomUUID(), prefix);
    const backupId = randomUUID();
    world.backups.set(backupId, { status: 'NEW' });
    const f = await failureOf(run(tq, 'createBackup', { backupId, projectId: 'proj-a', instanceId: src.id }));
    expect(f.message).toMatch(/^backup failed: mariadb-backup exited with 1/);
    expect(world.backups.get(backupId)).toMatchObject({ status: 'FAILED', failReason: expect.stringMatching(/mariadb-backup exited/) });
    expect(world.snapshots.size).toBe(0);
    expect(world.calls).toContain('deleteSnapshot');
    expect(world.instances.get(src.id)).toMatchObject({ lock: null, status: 'ACTIVE', fault: expect.stringMatching(/^backup failed/) });
  });
});

test('createBackup of a busy instance is refused, and the backup says why', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const src = seedSource(world, randomUUID(), prefix);
    Object.assign(src, { lock: 'op-restart', lockType: 'restartInstance' });
    const backupId = randomUUID();
    world.backups.set(backupId, { status: 'NEW' });
    const f = await failureOf(run(tq, 'createBackup', { backupId, projectId: 'proj-a', instanceId: src.id }));
    expect(f.message).toMatch(/backup refused: .*busy with operation op-restart/);
    expect(world.backups.get(backupId)).toMatchObject({ status: 'FAILED' });
    expect(world.calls).not.toContain('createSnapshot');
  });
});

test('provisionInstance from a backup restores it instead of preparing an empty database', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq) => {
    const { databases: _d, users: _u, ...spec } = sampleProvisionSpec(randomUUID());
    const res = await run(tq, 'provisionInstance', { ...spec, restoreBackupId: randomUUID() });
    expect(res).toMatchObject({ status: 'ACTIVE', port: 3306 });
    expect(world.calls).toContain('restoreSnapshot');
    expect(world.calls).not.toContain('prepare');
    expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ACTIVE', readOnly: false });
  });
});
