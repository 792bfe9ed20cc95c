// createPair and switchPairActive against a real Temporal server with mocked activities: the
// order of steps (the old active closed before the new one opens), the reopening when the
// passive cannot catch up, the pair recorded by its two links, and the refusals.
import { randomUUID } from 'node:crypto';
import { newWorld, seedSet, seedSource, type FakeWorld } from '../helpers/fake-activities';
import { eventually } from '../helpers/stack';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

const run = (taskQueue: string, type: string, arg: unknown) => ctx.env.temporal.workflow.execute(type, { taskQueue, workflowId: `${type}-${randomUUID()}`, args: [arg] });

/** A pair: the source and replica 1 replicate from each other; replica 2 hangs off the active side. */
function inPair(world: FakeWorld, fn: (tq: string, set: ReturnType<typeof seedSet>, prefix: string) => Promise<void>) {
  return withFakeWorkers(ctx, ctx.bundle, world, (tq, prefix) => {
    const set = seedSet(world, prefix);
    set.source.replicaOf = set.replicas[0]!.id;
    return fn(tq, set, prefix);
  });
}

test('createPair: the second master is built as a replica, each side gets its own GTID domain, the source replicates back, the pair is recorded', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const source = seedSource(world, randomUUID(), prefix);
    const peerId = randomUUID();
    const res = await run(tq, 'createPair', { instanceId: source.id, projectId: 'proj-a', peerId, name: 'master-b' });
    expect(res).toMatchObject({ activeId: source.id, passiveId: peerId });
    const peer = world.instances.get(peerId)!;
    expect(peer).toMatchObject({ name: 'master-b', status: 'ACTIVE', replicaOf: source.id, readOnly: true });
    expect(world.instances.get(source.id)).toMatchObject({ replicaOf: peerId, readOnly: false });
    const steps = world.calls.filter((c) => /^(setGtidDomain|startReplication|applyTransition:make-pair)/.test(c));
    expect(steps.filter((c) => c.startsWith('setGtidDomain'))).toHaveLength(2);
    expect(steps.at(-1)).toBe('applyTransition:make-pair');
  });
});

test('switchPairActive: the active side is fenced, the passive catches up and opens, then the registry flips; replicas follow the active side', async () => {
  const world = newWorld();
  await inPair(world, async (tq, { source, replicas: [b, r] }, prefix) => {
    const res = await run(tq, 'switchPairActive', { instanceId: b!.id, projectId: 'proj-a' });
    expect(res).toEqual({ activeId: b!.id, formerActiveId: source.id, appliedUpTo: '0-101-9', movedReplicas: [r!.id] });
    const order = world.calls.filter((c) => /^(fenceWrites|waitForGtid|setReadOnly|applyTransition)/.test(c));
    expect(order).toEqual([`fenceWrites:${prefix}-src`, `waitForGtid:${prefix}-1`, `setReadOnly:${prefix}-1:false`, 'applyTransition:switch-active']);
    expect(world.instances.get(b!.id)).toMatchObject({ readOnly: false, replicaOf: source.id });
    expect(world.instances.get(source.id)).toMatchObject({ readOnly: true, replicaOf: b!.id });
    expect(world.instances.get(r!.id)!.replicaOf).toBe(b!.id);
  });
});

test('switchPairActive: a passive side that cannot catch up stays closed, the old active reopens, the registry is unchanged', async () => {
  const world = newWorld();
  world.failCatchUp = true;
  await inPair(world, async (tq, { source, replicas: [b] }, prefix) => {
    const f = await failureOf(run(tq, 'switchPairActive', { instanceId: b!.id, projectId: 'proj-a' }));
    expect(f.message).toMatch(/switch failed: .*did not reach/);
    expect(world.calls).toContain(`setReadOnly:${prefix}-src:false`);
    expect(world.calls).not.toContain(`setReadOnly:${prefix}-1:false`);
    expect(world.instances.get(source.id)).toMatchObject({ readOnly: false });
    expect(world.instances.get(b!.id)).toMatchObject({ readOnly: true, fault: expect.stringMatching(/switch failed/) });
  });
});

test('switchPairActive of the active side, and createPair of a side, are refused and change nothing', async () => {
  const world = newWorld();
  await inPair(world, async (tq, { source, replicas: [b] }) => {
    const f = await failureOf(run(tq, 'switchPairActive', { instanceId: source.id, projectId: 'proj-a' }));
    expect(f.message).toMatch(/switch refused: .*already the active side of its pair/);
    expect(world.calls.filter((c) => c.startsWith('fenceWrites'))).toEqual([]);
    const g = await failureOf(run(tq, 'createPair', { instanceId: b!.id, projectId: 'proj-a', peerId: randomUUID() }));
    expect(g.message).toMatch(/createPair/);
    expect(world.instances.get(source.id)).toMatchObject({ readOnly: false, replicaOf: b!.id });
  });
});

test('monitor: the active side of a pair gone, the passive side lost it: failOverPair fences it and the passive side takes writes and its replicas', async () => {
  const world = newWorld();
  world.settings.autoFailover = true;
  world.settings.failoverAfterSeconds = 1;
  await inPair(world, async (tq, { source, replicas: [b, r] }, prefix) => {
    const monitor = await ctx.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: tq, workflowId: `monitor-${randomUUID()}`, args: [{ setId: source.id, projectId: 'proj-a', pollSeconds: 0.3, iterationsPerRun: 20 }] });
    await eventually('health stored', async () => world.health?.length === 3, 20_000);
    // The active side is the source in health, although it replicates from the passive one.
    expect(world.health!.find((h) => h.instanceId === source.id)).toMatchObject({ role: 'source' });
    expect(world.health!.find((h) => h.instanceId === b!.id)).toMatchObject({ role: 'replica' });

    world.down.add(source.id);
    world.statusOf.set(`${prefix}-1`, { ioRunning: false });
    world.statusOf.set(`${prefix}-2`, { ioRunning: false });
    await eventually('the pair failover', async () => world.instances.get(source.id)!.status === 'ERROR', 30_000);
    expect(world.calls).toContain('fenceServer');
    expect(world.instances.get(source.id)).toMatchObject({ setId: null, fault: expect.stringMatching(/fenced by pair-failover-automatic-.*: the pair's other side .* took over/) });
    expect(world.instances.get(b!.id)).toMatchObject({ readOnly: false, replicaOf: null });
    expect(world.instances.get(r!.id)!.replicaOf).toBe(b!.id);
    expect(world.calls.indexOf('fenceServer')).toBeLessThan(world.calls.indexOf(`detachReplication:${prefix}-1`));
    await monitor.terminate();
  });
});

test('breakPair: the active side stops replicating from the passive one and stays the source; the passive side stays its read-only replica', async () => {
  const world = newWorld();
  await inPair(world, async (tq, { source, replicas: [b, r] }, prefix) => {
    const res = await run(tq, 'breakPair', { instanceId: b!.id, projectId: 'proj-a' });
    expect(res).toEqual({ sourceId: source.id, replicaId: b!.id });
    expect(world.calls).toContain(`detachReplication:${prefix}-src`);
    expect(world.instances.get(source.id)).toMatchObject({ replicaOf: null, readOnly: false });
    expect(world.instances.get(b!.id)).toMatchObject({ replicaOf: source.id, readOnly: true });
    expect(world.instances.get(r!.id)!.replicaOf).toBe(source.id);
    const again = await failureOf(run(tq, 'breakPair', { instanceId: b!.id, projectId: 'proj-a' }));
    expect(again.message).toMatch(/break pair refused: .*not a side of a master-master pair/);
  });
});
