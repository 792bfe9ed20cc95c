// promoteToReplicaSource, ejectReplicaSource and monitorReplicationSet against a real
// Temporal server with mocked activities: the order of steps, the rollback before the
// candidate takes writes, the refusals, and automatic failover with its quiet period.
import { randomUUID } from 'node:crypto';
import { newWorld, seedSet, type FakeWorld } from '../helpers/fake-activities';
import { eventually } from '../helpers/stack';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

const run = (taskQueue: string, type: string, arg: unknown) => ctx.env.temporal.workflow.execute(type, { taskQueue, workflowId: `${type}-${randomUUID()}`, args: [arg] });

function inSet(world: FakeWorld, fn: (tq: string, set: ReturnType<typeof seedSet>, prefix: string) => Promise<void>) {
  return withFakeWorkers(ctx, ctx.bundle, world, (tq, prefix) => fn(tq, seedSet(world, prefix), prefix));
}

test('promote: fence writes on the old source, candidate catches up and takes writes, others move first, old source follows', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source, replicas: [r1, r2] }, prefix) => {
    const res = await run(tq, 'promoteToReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' });
    expect(res).toEqual({ newSourceId: r1!.id, formerSourceId: source.id, movedReplicas: [r2!.id], appliedUpTo: '0-101-9' });
    const order = world.calls.filter((c) => /^(fenceWrites|detachReplication|startReplication|setReadOnly)/.test(c));
    expect(order[0]).toBe(`fenceWrites:${prefix}-src`);
    expect(order[1]).toBe(`detachReplication:${prefix}-1`);
    expect(order.at(-1)).toBe(`setReadOnly:${prefix}-src:true`);
    expect(world.instances.get(r1!.id)).toMatchObject({ replicaOf: null, readOnly: false });
    expect(world.instances.get(r2!.id)!.replicaOf).toBe(r1!.id);
    expect(world.instances.get(source.id)).toMatchObject({ replicaOf: r1!.id, readOnly: true });
    expect(world.sets.get(source.id)).toBeNull();
  });
});

test('promote: a candidate that cannot catch up leaves the old source writable and the topology as it was', async () => {
  const world = newWorld();
  world.failCatchUp = true;
  await inSet(world, async (tq, { source, replicas: [r1] }, prefix) => {
    const f = await failureOf(run(tq, 'promoteToReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' }));
    expect(f.message).toMatch(/did not reach/);
    expect(world.calls).toContain(`setReadOnly:${prefix}-src:false`);
    expect(world.calls.filter((c) => c.startsWith('detachReplication'))).toEqual([]);
    expect(world.instances.get(r1!.id)!.replicaOf).toBe(source.id);
    expect(world.sets.get(source.id)).toBeNull();
  });
});

test('promote: pre-flight refuses when a replica is not replicating, and changes nothing', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { replicas: [r1] }, prefix) => {
    world.statusOf.set(`${prefix}-2`, { sqlRunning: false, lastSqlError: 'Duplicate entry' });
    const f = await failureOf(run(tq, 'promoteToReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' }));
    expect(f.type).toBe('PreflightFailed');
    expect(f.message).toMatch(/master-replica-2 .* is not replicating: Duplicate entry/);
    expect(world.calls.filter((c) => c.startsWith('fenceWrites'))).toEqual([]);
  });
});

test('promote of a source, and eject of a replica, are refused', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source, replicas: [r1] }) => {
    expect((await failureOf(run(tq, 'promoteToReplicaSource', { instanceId: source.id, projectId: 'proj-a' }))).message).toMatch(/not a replica/);
    expect((await failureOf(run(tq, 'ejectReplicaSource', { instanceId: r1!.id, projectId: 'proj-a' }))).type).toBe('InvalidInput');
  });
});

test('eject of a healthy source is refused unless forced', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source }) => {
    const f = await failureOf(run(tq, 'ejectReplicaSource', { instanceId: source.id, projectId: 'proj-a' }));
    expect(f.type).toBe('SourceHealthy');
    expect(world.calls).not.toContain('fenceServer');
  });
});

test('eject of a dead source: fence first, promote the most advanced replica, move the rest', async () => {
  const world = newWorld();
  await inSet(world, async (tq, { source, replicas: [r1, r2] }, prefix) => {
    world.down.add(source.id);
    world.statusOf.set(`${prefix}-1`, { ioRunning: false, gtidIoPos: '0-101-7', gtidSlavePos: '0-101-7', gtidBinlogPos: '0-101-7' });
    world.statusOf.set(`${prefix}-2`, { ioRunning: false, gtidIoPos: '0-101-9', gtidSlavePos: '0-101-8', gtidBinlogPos: '0-101-8' });
    const res = await run(tq, 'ejectReplicaSource', { instanceId: source.id, projectId: 'proj-a' });
    expect(res).toMatchObject({ newSourceId: r2!.id, fencedInstanceId: source.id, movedReplicas: [r1!.id] });
    expect(world.calls.indexOf('fenceServer')).toBeLessThan(world.calls.indexOf(`detachReplication:${prefix}-2`));
    expect(world.calls).toContain(`waitForGtid:${prefix}-2`);
    expect(world.servers.get(`${prefix}-src`)!.status).toBe('SHUTOFF');
    expect(world.instances.get(source.id)).toMatchObject({ status: 'ERROR', setId: null });
    expect(world.instances.get(r1!.id)!.replicaOf).toBe(r2!.id);
  });
});

test('eject with semi-sync: accounts before the new source turns semi-sync, and the moved replica gets its role before it first connects', async () => {
  const world = newWorld();
  world.settings.semiSync = true;
  await inSet(world, async (tq, { source, replicas: [r1, r2] }, prefix) => {
    world.down.add(source.id);
    world.statusOf.set(`${prefix}-1`, { ioRunning: false, gtidIoPos: '0-101-7', gtidSlavePos: '0-101-7', gtidBinlogPos: '0-101-7' });
    world.statusOf.set(`${prefix}-2`, { ioRunning: false, gtidIoPos: '0-101-9', gtidSlavePos: '0-101-8', gtidBinlogPos: '0-101-8' });
    const res = await run(tq, 'ejectReplicaSource', { instanceId: source.id, projectId: 'proj-a' });
    expect(res).toMatchObject({ newSourceId: r2!.id, movedReplicas: [r1!.id] });
    // Accounts on the new source before its semi-sync role, then the replica's role, then its connection.
    expect(world.calls.filter((c) => c === 'configureSemiSync')).toHaveLength(2);
    expect(world.calls.indexOf('createReplicationUser')).toBeLessThan(world.calls.indexOf('configureSemiSync'));
    expect(world.calls.lastIndexOf('configureSemiSync')).toBeLessThan(world.calls.indexOf('startReplication'));
  });
});

test('monitor: stores health; fails over once when the source is gone and replicas agree; the quiet period holds the next one', async () => {
  const world = newWorld();
  world.settings.autoFailover = true;
  world.settings.failoverAfterSeconds = 1;
  await inSet(world, async (tq, { source, replicas: [r1] }, prefix) => {
    const monitor = await ctx.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: tq, workflowId: `monitor-${randomUUID()}`, args: [{ setId: source.id, projectId: 'proj-a', pollSeconds: 0.3, iterationsPerRun: 5 }] });
    await eventually('health stored', async () => world.health?.length === 3, 20_000);
    expect(world.health!.find((h) => h.instanceId === r1!.id)).toMatchObject({ role: 'replica', ioRunning: true });

    world.down.add(source.id);
    world.statusOf.set(`${prefix}-1`, { ioRunning: false });
    world.statusOf.set(`${prefix}-2`, { ioRunning: false });
    await eventually('the automatic failover', async () => world.instances.get(source.id)!.status === 'ERROR', 30_000);
    expect(world.settings.lastFailoverAcknowledged).toBe(false);
    expect(world.calls.filter((c) => c === 'recordAutomaticFailover')).toHaveLength(1);

    // The new source dies too: within the quiet period, no second failover.
    const newSource = [...world.instances.values()].find((i) => i.setId === source.id && !i.replicaOf)!;
    world.down.add(newSource.id);
    const decision = await eventually('a suppressed decision', async () => {
      const q = await monitor.query<{ decision: { action: string; reason: string } | null }>('health');
      return q.decision?.action === 'suppressed' ? q.decision : undefined;
    }, 20_000);
    expect(decision.reason).toMatch(/quiet period/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(world.calls.filter((c) => c === 'recordAutomaticFailover')).toHaveLength(1);
    await monitor.terminate();
  });
});

test('monitor: an agent that goes silent while it changes a semi-sync role holds the monitor for seconds, not minutes', async () => {
  const world = newWorld();
  world.settings.semiSync = true;
  world.hangConfigureSemiSync = true;
  await inSet(world, async (tq, { source }) => {
    const monitor = await ctx.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: tq, workflowId: `monitor-${randomUUID()}`, args: [{ setId: source.id, projectId: 'proj-a', pollSeconds: 0.3, iterationsPerRun: 50 }] });
    await eventually('a role being changed', async () => world.calls.includes('configureSemiSync'), 20_000);
    const looks = () => world.calls.filter((c) => c === 'recordHealth').length;
    const before = looks();
    // Every role is wrong and every change hangs: each poll waits out one short try (5 s).
    await eventually('two more looks', async () => looks() >= before + 2, 20_000);
    await monitor.terminate();
  });
}, 60_000);

