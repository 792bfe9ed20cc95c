// createPair and switchPairActive against a real Temporal server with mocked activities: the
// order of steps (the old active closed before the new one opens), the reopening when the
// passive cannot catch up, the pair recorded by its two links, and the refusals.
import { randomUUID } from 'node:crypto';
import { newWorld, sampleProvisionSpec, seedSet, seedSource, type FakeWorld } from '../helpers/fake-activities';
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

test('deleteInstance of the passive side: the active side stops replicating from it first, the pair dissolves, its replica stays; of the active side: refused', async () => {
  const world = newWorld();
  await inPair(world, async (tq, { source, replicas: [b, r] }, prefix) => {
    const f = await failureOf(run(tq, 'deleteInstance', { instanceId: source.id, projectId: 'proj-a' }));
    expect(f.message).toMatch(/is the active side of the master-master pair .*; switch the active side to .* first \(switch_active\)/);
    await run(tq, 'deleteInstance', { instanceId: b!.id, projectId: 'proj-a' });
    const order = world.calls.filter((c) => /^(detachReplication|applyTransition|deleteServer)/.test(c));
    expect(order[0]).toBe(`detachReplication:${prefix}-src`);
    expect(order).toContain('applyTransition:remove-member');
    expect(world.instances.has(b!.id)).toBe(false);
    expect(world.instances.get(source.id)).toMatchObject({ readOnly: false, replicaOf: null });
    expect(world.instances.get(r!.id)!.replicaOf).toBe(source.id);
  });
});

test('rebuildAsReplica with pair: the side a pair failover lost is rebuilt from the survivor, errant GTIDs first, then paired again as the passive side', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq, prefix) => {
    const { source, replicas } = seedSet(world, prefix, 1);
    const survivor = replicas[0]!;
    Object.assign(source, { setId: null, status: 'ERROR', readOnly: true, replacedBy: survivor.id, fault: 'fenced by pair-failover-x' });
    Object.assign(survivor, { setId: null, replicaOf: null, readOnly: false });
    world.sets.delete(source.id);
    world.servers.get(source.novaServerId!)!.status = 'SHUTOFF';
    world.binlogStateOf.set(source.novaServerId!, '101-101-8,102-102-3');
    world.binlogStateOf.set(survivor.novaServerId!, '101-101-7,102-102-12');
    const res = (await run(tq, 'rebuildAsReplica', { instanceId: source.id, projectId: 'proj-a', pair: true })) as { errantGtids: string[]; pair: { activeId: string; passiveId: string; gtidDomains: Record<string, number> } };
    expect(res.errantGtids).toEqual(['101-101-8']);
    expect(res.pair).toMatchObject({ activeId: survivor.id, passiveId: source.id });
    expect(res.pair.gtidDomains[survivor.id]).not.toBe(res.pair.gtidDomains[source.id]);
    const order = world.calls.filter((c) => /^(updateInstance|restoreSnapshot|setGtidDomain|applyTransition)/.test(c)).map((c) => c.split(':')[0] + (c.startsWith('applyTransition') ? `:${c.split(':')[1]}` : ''));
    // The errant report is written before the data is replaced.
    expect(order.indexOf('updateInstance')).toBeLessThan(order.indexOf('restoreSnapshot'));
    expect(order.filter((c) => c.startsWith('applyTransition'))).toEqual(['applyTransition:add-replica', 'applyTransition:make-pair']);
    expect(world.instances.get(source.id)).toMatchObject({ status: 'ACTIVE', readOnly: true, replicaOf: survivor.id });
    expect(world.instances.get(survivor.id)).toMatchObject({ readOnly: false, replicaOf: source.id });
  });
});

test('createPair with provision (a pair asked for at create): the instance is provisioned first, then paired', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (tq) => {
    const id = randomUUID();
    const peerId = randomUUID();
    const provision = { ...sampleProvisionSpec(id), availabilityZone: 'az1', locality: 'anti-affinity' };
    const res = await run(tq, 'createPair', { instanceId: id, projectId: 'proj-a', peerId, provision });
    expect(res).toMatchObject({ activeId: id, passiveId: peerId });
    expect(world.instances.get(id)).toMatchObject({ status: 'ACTIVE', readOnly: false, replicaOf: peerId });
    expect(world.instances.get(peerId)).toMatchObject({ status: 'ACTIVE', readOnly: true, replicaOf: id });
  });
});
