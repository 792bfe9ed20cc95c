// enableDr against a real Temporal server with mocked activities: dr-enable builds one DR
// replica through createReplicas and records the profile with its settings; with a provision
// spec it first provisions the source; an instance that is a replica is refused before
// anything is built, as the API refuses it. disableDr deletes the DR replicas first and
// clears the profile last, so a failure half way leaves the set following the profile.
import { randomUUID } from 'node:crypto';
import { newWorld, sampleProvisionSpec, seedLostZoneSet, seedSet, seedSource } from '../helpers/fake-activities';
import { DEFAULT_PROFILE } from '../helpers/fake-registry';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();
const run = (taskQueue: string, input: unknown) => ctx.env.temporal.workflow.execute('enableDr', { taskQueue, workflowId: `enable-dr-${randomUUID()}`, args: [input] });

test('dr-enable: one replica from one snapshot in the DR zone, and the set follows the profile with its semi-sync and automatic failover', async () => {
  const world = newWorld();
  const replicaId = randomUUID();
  let source = '';
  const result = await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
    source = seedSource(world, randomUUID(), prefix).id;
    return run(taskQueue, { instanceId: source, projectId: 'proj-a', profile: 'dr-az1-az2', replicaId });
  });
  expect(result).toMatchObject({ instanceId: source, replicaId, profile: 'dr-az1-az2', primaryZone: 'az1', drZone: 'az2' });
  expect(world.calls.filter((c) => c === 'createSnapshot' || c.startsWith('createSnapshot'))).toHaveLength(1);
  expect(world.instances.get(replicaId)).toMatchObject({ replicaOf: source, status: 'ACTIVE', name: 'master-dr' });
  expect(world.settings).toMatchObject({ zoneProfileId: expect.any(String), semiSync: true, autoFailover: true });
  expect(world.instances.get(source)).toMatchObject({ lock: null, fault: null });
});

test('with a provision spec the source is provisioned first, then its DR replica built', async () => {
  const world = newWorld();
  const id = randomUUID();
  const result = await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue) =>
    run(taskQueue, { instanceId: id, projectId: 'proj-a', profile: 'dr-az1-az2', provision: { ...sampleProvisionSpec(id), availabilityZone: 'az1', locality: 'anti-affinity' } }),
  );
  expect(world.instances.get(id)).toMatchObject({ status: 'ACTIVE', lock: null });
  expect(world.instances.get(result.replicaId)).toMatchObject({ replicaOf: id, status: 'ACTIVE' });
});

test('DR on an instance that is a replica is refused before anything is built, and is its fault', async () => {
  const world = newWorld();
  let replica = '';
  const failure = await failureOf(
    withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
      replica = seedSet(world, prefix).replicas[0]!.id;
      return run(taskQueue, { instanceId: replica, projectId: 'proj-a', profile: 'dr-az1-az2' });
    }),
  );
  expect(failure.type).toBe('InvalidInput');
  expect(failure.message).toMatch(/profile: instance .* is a replica of .*; DR is set up on the replication set's source/);
  expect(world.calls).not.toContain('createServer');
  expect(world.instances.get(replica)!.fault).toMatch(/is a replica of/);
});

test('an unknown profile is refused naming it', async () => {
  const world = newWorld();
  const failure = await failureOf(
    withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => run(taskQueue, { instanceId: seedSource(world, randomUUID(), prefix).id, projectId: 'proj-a', profile: 'nope' })),
  );
  expect(failure.message).toMatch(/zone profile "nope" does not exist/);
  expect(world.calls).not.toContain('createServer');
});

test('a zone lost under a DR set: the eject promotes in the DR zone and fences the lost zone replica, out of the set with its own fault', async () => {
  const world = newWorld();
  let set!: ReturnType<typeof seedLostZoneSet>;
  const result = (await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
    set = seedLostZoneSet(world, prefix, DEFAULT_PROFILE.id);
    return ctx.env.temporal.workflow.execute('ejectReplicaSource', { taskQueue, workflowId: `eject-${randomUUID()}`, args: [{ instanceId: set.source.id, projectId: 'proj-a', automatic: true }] });
  })) as { newSourceId: string; fencedReplicas?: Record<string, string>; movedReplicas: string[] };
  const [lost, dr1, dr2] = set.replicas;
  expect(result.newSourceId).toBe(dr1!.id);
  expect(result.movedReplicas).toEqual([dr2!.id]);
  expect(Object.keys(result.fencedReplicas ?? {})).toEqual([lost!.id]);
  expect(world.calls.filter((c) => c === 'fenceServer')).toHaveLength(2);
  expect(world.servers.get(lost!.novaServerId!)?.status).toBe('SHUTOFF');
  expect(world.instances.get(lost!.id)).toMatchObject({ setId: null, status: 'ERROR', readOnly: true, replacedBy: dr1!.id, fault: expect.stringContaining('in lost zone az1') });
  expect(world.instances.get(set.source.id)).toMatchObject({ setId: null, status: 'ERROR', fault: expect.stringContaining(`replaced as replication source by ${dr1!.id}`) });
  expect(world.instances.get(dr2!.id)).toMatchObject({ replicaOf: dr1!.id });
});

test('auto_rebuild: the eject that lost the zone starts rebuildAfterZoneReturn; once Nova reports the zone back, the former source and the fenced replica are rebuilt as replicas', async () => {
  const world = newWorld();
  world.zoneProfiles = [{ ...DEFAULT_PROFILE, autoRebuild: true }];
  world.downZones = new Map([['az1', 2]]);
  let set!: ReturnType<typeof seedLostZoneSet>;
  await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    set = seedLostZoneSet(world, prefix, DEFAULT_PROFILE.id);
    const eject = (await ctx.env.temporal.workflow.execute('ejectReplicaSource', { taskQueue, workflowId: `eject-${randomUUID()}`, args: [{ instanceId: set.source.id, projectId: 'proj-a', automatic: true }] })) as { newSourceId: string; rebuildAfterZoneReturn?: string };
    expect(eject.rebuildAfterZoneReturn).toBe(`rebuild-after-zone-return-${set.source.id}`);
    // The eject's child polls every 10 s; the same workflow with a 1 s poll, here, shows what it does.
    await ctx.env.temporal.workflow.getHandle(eject.rebuildAfterZoneReturn!).terminate('test: run with a short poll');
    world.down.clear();
    world.statusOf.clear();
    world.settings = { ...world.settings, zoneProfileId: null, semiSync: false, autoFailover: false };
    const result = (await ctx.env.temporal.workflow.execute('rebuildAfterZoneReturn', {
      taskQueue,
      workflowId: `rebuild-after-zone-${randomUUID()}`,
      args: [{ projectId: 'proj-a', zone: 'az1', instanceIds: [set.source.id, set.replicas[0]!.id], pollSeconds: 1, setId: 'the-dissolved-set', follow: { zoneProfileId: DEFAULT_PROFILE.id, semiSync: true, autoFailover: true } }],
    })) as { polls: number; rebuilt: { instanceId: string; sourceId: string }[]; failed: Record<string, string> };
    expect(result.polls).toBe(3);
    expect(result.failed).toEqual({});
    expect(result.rebuilt.map((r) => r.instanceId)).toEqual([set.source.id, set.replicas[0]!.id]);
  });
  const newSource = set.replicas[1]!.id;
  for (const id of [set.source.id, set.replicas[0]!.id]) expect(world.instances.get(id)).toMatchObject({ status: 'ACTIVE', replicaOf: newSource, readOnly: true, replacedBy: null, fault: null });
  expect(world.calls.filter((c) => c === 'zoneAvailable:az1')).toHaveLength(3);
  // The set the rebuild founded follows the profile again.
  expect(world.settings).toMatchObject({ zoneProfileId: DEFAULT_PROFILE.id, semiSync: true, autoFailover: true });
});

test('without auto_rebuild the eject starts nothing after a zone loss', async () => {
  const world = newWorld();
  const result = (await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) =>
    ctx.env.temporal.workflow.execute('ejectReplicaSource', { taskQueue, workflowId: `eject-${randomUUID()}`, args: [{ instanceId: seedLostZoneSet(world, prefix, DEFAULT_PROFILE.id).source.id, projectId: 'proj-a', automatic: true }] }),
  )) as { rebuildAfterZoneReturn?: string };
  expect(result.rebuildAfterZoneReturn).toBeUndefined();
});

describe('disableDr', () => {
  const disable = (taskQueue: string, input: unknown) => ctx.env.temporal.workflow.execute('disableDr', { taskQueue, workflowId: `disable-dr-${randomUUID()}`, args: [input] });

  test('deletes the DR replica first and clears the profile last, with semi-sync and automatic failover when no replica stays', async () => {
    const world = newWorld();
    let dr = '';
    const result = await withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
      const set = seedSet(world, prefix, 1);
      Object.assign(world.settings, { zoneProfileId: DEFAULT_PROFILE.id, semiSync: true, autoFailover: true });
      dr = set.replicas[0]!.id;
      return disable(taskQueue, { instanceId: set.source.id, projectId: 'proj-a', setId: set.source.setId, profile: 'dr-az1-az2', remove: [dr], keepsReplicas: false });
    });
    expect(result).toMatchObject({ removed: [dr], profile: 'dr-az1-az2' });
    expect(world.instances.has(dr)).toBe(false);
    expect(world.settings).toMatchObject({ zoneProfileId: null, semiSync: false, autoFailover: false });
  });

  test('a delete that fails leaves the set following the profile (dr-disable again finishes), and is the source\'s fault', async () => {
    const world = newWorld();
    let source = '';
    let dr = '';
    const failure = await failureOf(
      withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
        const set = seedSet(world, prefix, 1);
        Object.assign(world.settings, { zoneProfileId: DEFAULT_PROFILE.id, semiSync: true, autoFailover: true });
        source = set.source.id;
        dr = set.replicas[0]!.id;
        // Another operation holds the replica: its delete is refused.
        world.instances.get(dr)!.lock = 'another-operation';
        return disable(taskQueue, { instanceId: source, projectId: 'proj-a', setId: set.source.setId, profile: 'dr-az1-az2', remove: [dr], keepsReplicas: false });
      }),
    );
    expect(failure.message).toMatch(/the set still follows the profile/);
    expect(world.instances.has(dr)).toBe(true);
    expect(world.settings).toMatchObject({ zoneProfileId: DEFAULT_PROFILE.id, semiSync: true, autoFailover: true });
    expect(world.instances.get(source)!.fault).toMatch(/DR off \(zone profile dr-az1-az2\) failed/);
  });
});
