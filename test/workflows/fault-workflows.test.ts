// Trove's fault after an operation that failed after its 202 (0.2.0): recorded on the
// instance the user acted on, behind each workflow's patch (workflows/patches.ts), with the
// status left as it was unless the instance is out of service; cleared when the next
// operation on that instance begins. Real Temporal, mocked activities.
import { randomUUID } from 'node:crypto';
import type { CreateReplicasResult } from '../../lib/schemas';
import { FAULT_PATCH } from '../../workflows/patches';
import { newWorld, seedSet, seedSource, type FakeWorld } from '../helpers/fake-activities';
import { patchMarkers } from '../helpers/histories';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

/** Runs one operation; its id comes back so its history can be read. */
function start(taskQueue: string, type: string, arg: unknown) {
  const workflowId = `${type}-${randomUUID()}`;
  return { workflowId, result: ctx.env.temporal.workflow.execute(type, { taskQueue, workflowId, args: [arg] }) };
}

function inSet(world: FakeWorld, fn: (tq: string, set: ReturnType<typeof seedSet>, prefix: string) => Promise<void>) {
  return withFakeWorkers(ctx, ctx.bundle, world, (tq, prefix) => fn(tq, seedSet(world, prefix), prefix));
}

const markers = (workflowId: string) => patchMarkers(ctx.env.temporal, workflowId);

test('a promote refused by pre-flight leaves its fault on the candidate, which stays ACTIVE; one marker, its patch', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source, replicas: [r1] }, prefix) => {
    world.statusOf.set(`${prefix}-2`, { sqlRunning: false, lastSqlError: 'Duplicate entry' });
    const op = start(tq, 'promoteToReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' });
    const f = await failureOf(op.result);
    expect(world.instances.get(r1!.id)).toMatchObject({ status: 'ACTIVE', fault: f.message });
    expect(f.message).toMatch(/^promote failed: pre-flight failed, nothing was changed: master-replica-2 .* is not replicating/);
    expect(world.instances.get(source.id)!.fault ?? null).toBeNull();
    expect(await markers(op.workflowId)).toEqual([FAULT_PATCH.promoteToReplicaSource]);
  });
});

test('a promote rolled back (the candidate could not catch up) leaves its fault on the candidate', async () => {
  const world = newWorld();
  world.failCatchUp = true;
  await inSet(world, async (tq, { replicas: [r1] }) => {
    const f = await failureOf(start(tq, 'promoteToReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' }).result);
    expect(world.instances.get(r1!.id)).toMatchObject({ status: 'ACTIVE', fault: f.message });
    expect(f.message).toMatch(/did not reach/);
  });
});

test('a successful operation records no marker and no fault; it clears the fault of the operation before it on that instance', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { replicas: [r1] }) => {
    world.instances.get(r1!.id)!.fault = 'promote failed: an earlier try';
    const op = start(tq, 'promoteToReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' });
    await op.result;
    expect(world.instances.get(r1!.id)!.fault).toBeNull();
    expect(await markers(op.workflowId)).toEqual([]);
  });
});

test('an eject refused because the source is healthy leaves its fault on the source, which stays ACTIVE and unfenced', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source }) => {
    const op = start(tq, 'ejectReplicaSource', { instanceId: source.id, projectId: 'proj-a' });
    const f = await failureOf(op.result);
    expect(f.type).toBe('SourceHealthy');
    expect(world.instances.get(source.id)).toMatchObject({ status: 'ACTIVE', fault: f.message });
    expect(f.message).toMatch(/^eject failed: .*healthy/);
    expect(world.calls).not.toContain('fenceServer');
    expect(await markers(op.workflowId)).toEqual([FAULT_PATCH.ejectReplicaSource]);
  });
});

test('an eject that fenced the source and found no replica to take over leaves the source in ERROR with the fault', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source }, prefix) => {
    world.down.add(source.id);
    world.statusOf.set(`${prefix}-1`, null);
    world.statusOf.set(`${prefix}-2`, null);
    const f = await failureOf(start(tq, 'ejectReplicaSource', { instanceId: source.id, projectId: 'proj-a', force: true }).result);
    expect(f.type).toBe('NoCandidate');
    expect(world.instances.get(source.id)).toMatchObject({ status: 'ERROR', fault: f.message });
  });
});

test('a detach whose replica fails to stop replicating leaves its fault on the replica', async () => {
  const world = newWorld();
  world.failDetachReplication = true;
  await inSet(world, async (tq, { source, replicas: [r1] }) => {
    const op = start(tq, 'detachReplica', { instanceId: r1!.id, projectId: 'proj-a' });
    const f = await failureOf(op.result);
    expect(world.instances.get(r1!.id)).toMatchObject({ status: 'ACTIVE', fault: f.message, lock: null });
    expect(f.message).toMatch(/^detach failed: STOP SLAVE failed/);
    expect(world.instances.get(source.id)!.fault ?? null).toBeNull();
    expect(await markers(op.workflowId)).toEqual([FAULT_PATCH.detachReplica]);
  });
});

test.each([
  ['detachReplica', FAULT_PATCH.detachReplica, /^detach refused: instance .* is busy with operation resize-elsewhere/],
  ['deleteInstance', FAULT_PATCH.deleteInstance, /^delete refused: instance .* is busy with operation resize-elsewhere/],
])('a %s refused under the lock (an operation the API did not see yet) is a fault on the instance', async (type, patch, message) => {
  const world = newWorld();
  await inSet(world, async (tq, { replicas: [r1] }) => {
    Object.assign(world.instances.get(r1!.id)!, { lock: 'resize-elsewhere', lockType: 'resizeInstance' });
    const op = start(tq, type, { instanceId: r1!.id, projectId: 'proj-a' });
    const f = await failureOf(op.result);
    expect(f.message).toMatch(message);
    expect(world.instances.get(r1!.id)).toMatchObject({ status: 'ACTIVE', fault: f.message, lock: 'resize-elsewhere' });
    expect(await markers(op.workflowId)).toEqual([patch]);
  });
});

test('createReplicas: replicas that were not built (and undid themselves) are a fault on the source, naming each', async () => {
  const world = newWorld();
  world.failRestores = 1;
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const sourceId = randomUUID();
    seedSource(world, sourceId, prefix);
    const op = start(tq, 'createReplicas', { sourceInstanceId: sourceId, projectId: 'proj-a', count: 2 });
    const result = (await op.result) as CreateReplicasResult;
    const failed = result.replicas.find((r) => r.status === 'FAILED')!;
    expect(world.instances.get(sourceId)).toMatchObject({ status: 'ACTIVE' });
    expect(world.instances.get(sourceId)!.fault).toBe(`createReplicas: 1 of 2 replica(s) not built: ${failed.name} (${failed.replicaId}): ${failed.error}`);
    expect(failed.error).toMatch(/checksum mismatch/);
    expect(await markers(op.workflowId)).toEqual([FAULT_PATCH.createReplicas]);
  });
});

test('createReplicas: a failed snapshot is a fault on the source; the next createReplicas that begins clears it', async () => {
  const world = newWorld();
  world.failSnapshot = true;
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const sourceId = randomUUID();
    seedSource(world, sourceId, prefix);
    const f = await failureOf(start(tq, 'createReplicas', { sourceInstanceId: sourceId, projectId: 'proj-a', count: 1 }).result);
    expect(world.instances.get(sourceId)).toMatchObject({ status: 'ACTIVE', fault: f.message });
    expect(f.message).toMatch(/^createReplicas failed: .*mariadb-backup exited/);
    world.failSnapshot = false;
    const second = start(tq, 'createReplicas', { sourceInstanceId: sourceId, projectId: 'proj-a', count: 1 });
    await second.result;
    expect(world.instances.get(sourceId)!.fault).toBeNull();
    expect(await markers(second.workflowId)).toEqual([]);
  });
});

test('createReplicas refused under the lock (the set busy) is a fault on the source', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source }) => {
    world.sets.set(source.id, 'promote-elsewhere');
    world.setLockTypes.set(source.id, 'promoteToReplicaSource');
    const f = await failureOf(start(tq, 'createReplicas', { sourceInstanceId: source.id, projectId: 'proj-a', count: 1 }).result);
    expect(f.message).toMatch(/^createReplicas refused: replication set .* is busy with operation promote-elsewhere/);
    expect(world.instances.get(source.id)).toMatchObject({ status: 'ACTIVE', fault: f.message });
  });
});
