// rebuildAsReplica against a real Temporal server with mocked activities: after an eject, the
// fenced former source is powered on read-only, its errant GTIDs are recorded before its
// data is replaced, it rejoins the set as a replica of the source; a failure leaves it a
// former source with its fault, the report kept, nothing of the attempt behind.
import { randomUUID } from 'node:crypto';
import { newWorld, seedSet, type FakeWorld } from '../helpers/fake-activities';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

const start = (taskQueue: string, type: string, arg: unknown) => ctx.env.temporal.workflow.start(type, { taskQueue, workflowId: `${type}-${randomUUID()}`, args: [arg] });

/** A set of three after an eject: replica 1 took over, the old source fenced with one errant transaction. */
async function ejected(world: FakeWorld, tq: string, prefix: string) {
  const set = seedSet(world, prefix, 2);
  const [r1, r2] = set.replicas as [(typeof set.replicas)[0], (typeof set.replicas)[0]];
  world.statusOf.set(`${prefix}-2`, { gtidIoPos: '0-101-4', gtidSlavePos: '0-101-4' });
  const eject = await start(tq, 'ejectReplicaSource', { instanceId: set.source.id, projectId: 'proj-a', force: true });
  expect(await eject.result()).toMatchObject({ newSourceId: r1.id, fencedInstanceId: set.source.id });
  world.statusOf.clear();
  world.binlogStateOf.set(`${prefix}-src`, '0-101-8');
  world.binlogStateOf.set(`${prefix}-1`, '0-101-7,0-102-12');
  return { old: set.source, newSource: r1, other: r2 };
}

test('rebuild: powered on, writes fenced, errant GTIDs recorded before the restore, rejoins as a replica of the source', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const { old, newSource, other } = await ejected(world, tq, prefix);
    expect(world.instances.get(old.id)).toMatchObject({ status: 'ERROR', replacedBy: newSource.id, setId: null });
    world.calls.length = 0;

    const handle = await start(tq, 'rebuildAsReplica', { instanceId: old.id, projectId: 'proj-a' });
    const result = await handle.result();
    expect(result).toMatchObject({ instanceId: old.id, sourceId: newSource.id, replicationSetId: newSource.setId, errantGtids: ['0-101-8'], formerState: '0-101-8', sourceState: '0-101-7,0-102-12' });
    const order = world.calls.filter((c) => /^(unfenceServer|fenceWrites|updateInstance|createSnapshot|restoreSnapshot|startReplication|applyTransition)/.test(c));
    expect(order.slice(0, 5)).toEqual([`unfenceServer:${prefix}-src`, `fenceWrites:${prefix}-src`, 'updateInstance', 'createSnapshot', 'restoreSnapshot']);
    expect(world.instances.get(old.id)).toMatchObject({ status: 'ACTIVE', replicaOf: newSource.id, setId: newSource.setId, readOnly: true, replacedBy: null, fault: null, lock: null });
    expect(world.instances.get(old.id)!.errantGtids).toMatchObject({ gtids: ['0-101-8'], sourceId: newSource.id });
    expect(world.instances.get(other.id)!.replicaOf).toBe(newSource.id);
    expect(world.snapshots.size).toBe(0);
    expect(world.sets.get(newSource.setId!)).toBeNull();
    expect(world.monitorsEnsured.map((m) => m.setId)).toEqual([newSource.setId]);
    // The Web UI's current details name what was discarded.
    const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toContain('errant GTIDs (discarded): 0-101-8');

    // A member again: a second rebuild is refused.
    const again = await failureOf(start(tq, 'rebuildAsReplica', { instanceId: old.id, projectId: 'proj-a' }).then((h) => h.result()));
    expect(again.message).toMatch(/rebuild as replica refused: .*already a replica/);
  });
});

test('rebuild: a failed restore keeps it a former source with the fault and the report; the snapshot is deleted, the locks released', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const { old, newSource } = await ejected(world, tq, prefix);
    world.failRestores = 1;
    const f = await failureOf(start(tq, 'rebuildAsReplica', { instanceId: old.id, projectId: 'proj-a' }).then((h) => h.result()));
    expect(f.message).toMatch(/rebuild as replica failed: .*checksum mismatch/);
    expect(world.instances.get(old.id)).toMatchObject({ status: 'ERROR', replacedBy: newSource.id, setId: null, lock: null });
    expect(world.instances.get(old.id)!.fault).toMatch(/^rebuild as replica failed/);
    expect(world.instances.get(old.id)!.errantGtids).toMatchObject({ gtids: ['0-101-8'] });
    expect(world.snapshots.size).toBe(0);
    expect(world.sets.get(newSource.setId!)).toBeNull();
  });
});
