// restartInstance and resizeInstance against a real Temporal server with mocked activities:
// what each does to a set, how a failed flavor resize is reverted, and the rulebook's
// refusals under the lock.
import { randomUUID } from 'node:crypto';
import { newWorld, seedSet, seedSource } from '../helpers/fake-activities';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

test('restarting a source restarts its database and waits for each replica to catch up with it', async () => {
  let seeded: ReturnType<typeof seedSet> | undefined;
  const world = newWorld();
  const result = await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
    seeded = seedSet(world, prefix);
    return ctx.env.temporal.workflow.execute('restartInstance', { taskQueue, workflowId: `restart-${randomUUID()}`, args: [{ instanceId: seeded.source.id, projectId: 'proj-a' }] });
  });
  expect(result).toMatchObject({ instanceId: seeded!.source.id, replicasResumed: seeded!.replicas.map((r) => r.id) });
  expect(world.calls.filter((c) => c.startsWith('waitForGtid'))).toHaveLength(2);
  expect(world.instances.get(seeded!.source.id)).toMatchObject({ status: 'ACTIVE', lock: null, fault: null });
  expect(world.sets.get(seeded!.source.id)).toBeNull();
});

test('growing a source’s volume grows its smaller replicas with it, never a larger one', async () => {
  const world = newWorld();
  let ids: { source: string; small: string; large: string } | undefined;
  const result = await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
    const { source, replicas } = seedSet(world, prefix);
    replicas[1]!.volumeSize = 5;
    ids = { source: source.id, small: replicas[0]!.id, large: replicas[1]!.id };
    world.volumes.set(`${prefix}-2`, 5);
    return ctx.env.temporal.workflow.execute('resizeInstance', { taskQueue, workflowId: `resize-${randomUUID()}`, args: [{ instanceId: source.id, projectId: 'proj-a', volumeSizeGb: 3 }] });
  });
  expect(result).toMatchObject({ volumeSizeGb: 3, volumesGrown: [ids!.source, ids!.small], guestVolume: { sizeGb: 3 } });
  expect(world.instances.get(ids!.source)).toMatchObject({ volumeSize: 3, lock: null });
  expect(world.instances.get(ids!.small)).toMatchObject({ volumeSize: 3 });
  expect(world.instances.get(ids!.large)).toMatchObject({ volumeSize: 5 });
});

test('a flavor resize is confirmed once the database answers, and the instance records the flavor', async () => {
  const world = newWorld();
  let id = '';
  await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
    id = seedSource(world, randomUUID(), prefix).id;
    return ctx.env.temporal.workflow.execute('resizeInstance', { taskQueue, workflowId: `resize-${randomUUID()}`, args: [{ instanceId: id, projectId: 'proj-a', flavorId: '7' }] });
  });
  expect(world.calls.filter((c) => /^(resizeServer|confirmResize|revertResize)/.test(c))).toEqual([expect.stringMatching(/^resizeServer:.*:7$/), expect.stringMatching(/^confirmResize:/)]);
  expect(world.instances.get(id)).toMatchObject({ flavorId: '7', status: 'ACTIVE', lock: null, fault: null });
});

test('a flavor resize that fails is reverted: the instance keeps its flavor and says why', async () => {
  const world = newWorld();
  world.failResize = true;
  let id = '';
  const failure = await failureOf(
    withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
      id = seedSource(world, randomUUID(), prefix).id;
      return ctx.env.temporal.workflow.execute('resizeInstance', { taskQueue, workflowId: `resize-${randomUUID()}`, args: [{ instanceId: id, projectId: 'proj-a', flavorId: '7' }] });
    }),
  );
  expect(failure.message).toMatch(/resize failed: .*went to ERROR: injected/);
  expect(world.calls).toContainEqual(expect.stringMatching(/^revertResize:/));
  expect(world.instances.get(id)).toMatchObject({ status: 'ACTIVE', lock: null, fault: expect.stringMatching(/reverted to flavor 1/) });
  expect(world.instances.get(id)!.flavorId).toBeUndefined();
});

test.each([
  ['the same flavor', { flavorId: '1' }, /flavorId: must differ from the instance's current flavor "1"/],
  ['a smaller volume', { volumeSizeGb: 1 }, /volumeSizeGb: must be larger than the current volume size of 1 GB/],
])('resizing to %s is refused under the lock, changing nothing', async (_, resize, message) => {
  const world = newWorld();
  let id = '';
  const failure = await failureOf(
    withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
      id = seedSource(world, randomUUID(), prefix).id;
      return ctx.env.temporal.workflow.execute('resizeInstance', { taskQueue, workflowId: `resize-${randomUUID()}`, args: [{ instanceId: id, projectId: 'proj-a', ...resize }] });
    }),
  );
  expect(failure.message).toMatch(message);
  expect(world.calls.filter((c) => /^(resizeServer|confirmResize|revertResize|extendVolume)/.test(c))).toEqual([]);
  expect(world.instances.get(id)).toMatchObject({ lock: null });
});
