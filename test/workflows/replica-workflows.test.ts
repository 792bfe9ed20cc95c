// createReplicas, buildReplica and detachReplica against a real Temporal server with
// mocked activities: one snapshot for N replicas, per-replica outcomes and cleanup, the
// snapshot always deleted, the set lock always released, and refusals that change nothing.
import { randomUUID } from 'node:crypto';
import { CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { createMonitorActivities, type EnsuredMonitor } from '../../activities/control/monitor';
import { monitorWorkflowId, SA_PROJECT, SA_REPLICATION_SET, workflowIds } from '../../lib/names';
import type { CreateReplicasResult, OperationProgress } from '../../lib/schemas';
import type { ReplicaProgress } from '../../workflows/replica-progress';
import { newWorld, seedSet, seedSource, type FakeWorld } from '../helpers/fake-activities';
import { fetchDecodedHistory, patchMarkers } from '../helpers/histories';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

function createReplicas(world: FakeWorld, args: Record<string, unknown>, after?: (taskQueue: string) => Promise<void>, workflowId = `create-replicas-${randomUUID()}`) {
  return withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const sourceId = (args.sourceInstanceId as string) ?? randomUUID();
    if (!world.instances.has(sourceId)) seedSource(world, sourceId, prefix);
    const result = await ctx.env.temporal.workflow.execute('createReplicas', {
      taskQueue,
      workflowId,
      args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count: 2, ...args }],
    });
    await after?.(taskQueue);
    return result as CreateReplicasResult;
  });
}

test('replicas created without the API are named apart across requests, as the API names them', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  let second: CreateReplicasResult | undefined;
  // The second request runs while the first one's workers (and the source's guest) still do.
  const first = await createReplicas(world, { sourceInstanceId: sourceId }, async (taskQueue) => {
    second = await ctx.env.temporal.workflow.execute('createReplicas', { taskQueue, workflowId: `create-replicas-${randomUUID()}`, args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count: 1 }] });
  });
  if (!second) throw new Error('the second request did not run');
  expect([...first.replicas, ...second.replicas].map((r) => r.name)).toEqual(['master-replica-1', 'master-replica-2', 'master-replica-3']);
  expect(second.replicas.map((r) => world.instances.get(r.replicaId)?.name)).toEqual(['master-replica-3']);
});

test('two replicas from one snapshot: both ACTIVE, one account each on the source, snapshot deleted, set released', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  const result = await createReplicas(world, { sourceInstanceId: sourceId });
  expect(result.replicas.map((r) => r.status)).toEqual(['ACTIVE', 'ACTIVE']);
  expect(result.replicas.map((r) => r.name)).toEqual(['master-replica-1', 'master-replica-2']);
  expect(world.calls.filter((c) => c === 'createSnapshot')).toHaveLength(1);
  expect(world.calls.filter((c) => c === 'restoreSnapshot')).toHaveLength(2);
  expect(world.snapshots.size).toBe(0);
  // Once, last: a rename whose space the store frees later, so freeing it cannot stall
  // the replicas' attach or the registry's commits.
  expect(world.calls.filter((c) => c === 'deleteSnapshot')).toHaveLength(1);
  expect(world.calls.indexOf('deleteSnapshot')).toBeGreaterThan(world.calls.lastIndexOf('updateInstance:ACTIVE'));
  expect(world.calls.indexOf('deleteSnapshot')).toBeGreaterThan(world.calls.indexOf('endOperation'));
  // The set released, and unbuilt replicas discarded, in one step; each replica's lock with its ACTIVE status.
  expect(world.calls.filter((c) => c === 'endOperation')).toHaveLength(1);
  const sourceServer = world.instances.get(sourceId)!.novaServerId!;
  expect(world.accounts.get(sourceServer)!.size).toBe(2);
  expect(world.credentials.size).toBe(2);
  for (const r of result.replicas) expect(world.instances.get(r.replicaId)).toMatchObject({ status: 'ACTIVE', replicaOf: sourceId, readOnly: true, lock: null });
  // Released, and dissolved when no replica stayed.
  expect(world.sets.get(sourceId) ?? null).toBeNull();
});

/** One replica built; its own phases, the progress signals it sent, and the parent's row at the end. */
async function buildOne(world: FakeWorld) {
  const replicaId = randomUUID();
  const workflowId = `create-replicas-${randomUUID()}`;
  let childPhases: string[] = [];
  let signalled: string[] = [];
  let rows: ReplicaProgress[] = [];
  const result = await createReplicas(world, { sourceInstanceId: randomUUID(), count: 1, replicaIds: [replicaId] }, async () => {
    rows = await ctx.env.temporal.workflow.getHandle(workflowId).query<ReplicaProgress[]>('replicas');
    const child = ctx.env.temporal.workflow.getHandle(workflowIds.buildReplica(replicaId));
    childPhases = (await child.query<OperationProgress>('progress')).steps.map((st) => st.phase);
    const history = await fetchDecodedHistory(ctx.env.temporal, workflowIds.buildReplica(replicaId));
    signalled = (history.events ?? []).flatMap((e) => {
      const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
      return a ? [(defaultPayloadConverter.fromPayload(a.input!.payloads![0]!) as ReplicaProgress).phase] : [];
    });
  }, workflowId);
  return { result, childPhases, signalled, rows };
}

test('quick phases are not signalled to the parent; the replica keeps every phase and the parent reads the end from its result', async () => {
  const { result, childPhases, signalled, rows } = await buildOne(newWorld());
  expect(childPhases).toEqual(expect.arrayContaining(['registering', 'creating server', 'restoring', 'attaching', 'catching up', 'active']));
  expect(signalled).toEqual([]);
  expect(result.replicas[0]).toMatchObject({ status: 'ACTIVE', restoredBytes: expect.any(Number) });
  expect(rows).toEqual([expect.objectContaining({ phase: 'active', restoredBytes: result.replicas[0]!.restoredBytes })]);
});

test('a phase that lasts a second is signalled to the parent', async () => {
  const world = newWorld();
  world.slowRestoreMs = 2500;
  const { signalled, rows } = await buildOne(world);
  expect(signalled).toEqual(['restoring']);
  expect(rows.map((r) => r.phase)).toEqual(['active']);
});

test("the set's monitor is ensured while the operation releases the set, not before", async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  const workflowId = `create-replicas-${randomUUID()}`;
  const scheduled: Record<string, string> = {};
  await createReplicas(
    world,
    { sourceInstanceId: sourceId, count: 1 },
    async () => {
      const history = await ctx.env.temporal.workflow.getHandle(workflowId).fetchHistory();
      for (const e of history.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        if (a) scheduled[a.activityType!.name!] = String(a.workflowTaskCompletedEventId);
      }
    },
    workflowId,
  );
  expect(world.monitorsEnsured).toEqual([{ setId: sourceId, projectId: 'proj-a', sourceName: 'master' }]);
  // Scheduled in one workflow task: neither waits for the other.
  expect(scheduled.ensureMonitor).toBeDefined();
  expect(scheduled.ensureMonitor).toBe(scheduled.endOperation);
});

/** The events of a history that report a failure (a failed child start, activity, task...). */
function failedEvents(history: { events?: object[] | null }): string[] {
  return (history.events ?? []).flatMap((e) => Object.entries(e).flatMap(([k, v]) => (v && /(Failed|TimedOut)EventAttributes$/.test(k) ? [k] : [])));
}

test('a createReplicas on a set that already has its monitor shows no failed step (the monitor is ensured, not started as a child)', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  const workflowIdsRun = [`create-replicas-${randomUUID()}`, `create-replicas-${randomUUID()}`];
  const failures = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    seedSource(world, sourceId, prefix);
    const found: string[][] = [];
    for (const workflowId of workflowIdsRun) {
      await ctx.env.temporal.workflow.execute('createReplicas', { taskQueue, workflowId, args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count: 1 }] });
      found.push(failedEvents(await ctx.env.temporal.workflow.getHandle(workflowId).fetchHistory()));
    }
    return found;
  });
  expect(failures).toEqual([[], []]);
  expect(world.monitorsEnsured).toEqual([
    { setId: sourceId, projectId: 'proj-a', sourceName: 'master' },
    { setId: sourceId, projectId: 'proj-a', sourceName: 'master' },
  ]);
});

test("a relay's new replicas: the monitor is ensured under the set's source's name, not the relay's", async () => {
  const world = newWorld();
  world.maxDepth = 2;
  const setId = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { source, replicas } = seedSet(world, prefix);
    await ctx.env.temporal.workflow.execute('createReplicas', { taskQueue, workflowId: `create-replicas-${randomUUID()}`, args: [{ sourceInstanceId: replicas[0]!.id, projectId: 'proj-a', count: 1 }] });
    return source.id;
  });
  expect(world.monitorsEnsured).toEqual([{ setId, projectId: 'proj-a', sourceName: 'master' }]);
});

test("ensureMonitor starts the set's monitor, tagged, and leaves a running one alone; a set whose monitor ended gets a new one", async () => {
  const client = ctx.env.temporal;
  const { ensureMonitor } = createMonitorActivities({ client });
  // Nothing polls this queue: the monitor stays as it was started.
  const activity = new MockActivityEnvironment({ taskQueue: `no-worker-${randomUUID()}` });
  const setId = randomUUID();
  const ensure = () => activity.run(ensureMonitor, { setId, projectId: 'proj-a' }) as Promise<EnsuredMonitor>;
  const first = await ensure();
  const again = await ensure();
  expect(first.workflowId).toBe(monitorWorkflowId(setId));
  expect(again).toEqual(first);
  const handle = client.workflow.getHandle(first.workflowId);
  const described = await handle.describe();
  expect(described).toMatchObject({ type: 'watchReplicationSet', runId: first.runId, status: { name: 'RUNNING' } });
  expect(described.typedSearchAttributes.get(SA_REPLICATION_SET)).toBe(setId);
  expect(described.typedSearchAttributes.get(SA_PROJECT)).toBe('proj-a');
  const started = (await fetchDecodedHistory(client, first.workflowId)).events![0]!.workflowExecutionStartedEventAttributes!;
  // The operation that ensures it still holds the set's lock: the first look waits a poll.
  expect(defaultPayloadConverter.fromPayload(started.input!.payloads![0]!)).toEqual({ setId, projectId: 'proj-a', waitBeforeFirstPoll: true });
  await handle.terminate('test: as if the set had dissolved');
  const next = await ensure();
  expect(next.runId).not.toBe(first.runId);
  await client.workflow.getHandle(next.workflowId, next.runId).terminate('test over');
});

test('a monitor told to wait before its first poll takes its first look once the operation has released the set', async () => {
  const world = newWorld();
  await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { source } = seedSet(world, prefix);
    world.sets.set(source.id, 'create-replicas-finishing');
    const handle = await ctx.env.temporal.workflow.start('monitorReplicationSet', {
      taskQueue,
      workflowId: monitorWorkflowId(source.id),
      args: [{ setId: source.id, projectId: 'proj-a', waitBeforeFirstPoll: true }],
    });
    await new Promise((r) => setTimeout(r, 400));
    world.sets.set(source.id, null);
    const deadline = Date.now() + 15_000;
    while (!world.calls.includes('recordHealth') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await handle.terminate('test over');
  });
  expect(world.calls.filter((c) => c.startsWith('describeSet'))[0]).toBe('describeSet:free');
});

test('the builds start while the source is prepared', async () => {
  const world = newWorld();
  world.slowPrepareSourceMs = 1500;
  const result = await createReplicas(world, { sourceInstanceId: randomUUID(), count: 2 });
  expect(result.replicas.map((r) => r.status)).toEqual(['ACTIVE', 'ACTIVE']);
  expect(world.calls.indexOf('createServer')).toBeGreaterThan(-1);
  expect(world.calls.indexOf('createServer')).toBeLessThan(world.calls.indexOf('source prepared'));
  // The snapshot waits for the preparation (a restore may start first: it waits for the file).
  expect(world.calls.indexOf('createSnapshot')).toBeGreaterThan(world.calls.indexOf('source prepared'));
});

test('a source that cannot be prepared fails the operation and undoes the builds started beside it', async () => {
  const world = newWorld();
  world.slowPrepareSourceMs = 1000;
  world.failPrepareSource = true;
  const sourceId = randomUUID();
  const f = await failureOf(createReplicas(world, { sourceInstanceId: sourceId }));
  expect(f.message).toMatch(/binary logging cannot be enabled/);
  expect(world.calls).not.toContain('createSnapshot');
  expect(world.calls.filter((c) => c === 'createServer').length).toBe(world.calls.filter((c) => c === 'deleteServer').length);
  expect([...world.servers.keys()]).toEqual([expect.stringMatching(/-src$/)]);
  expect([...world.instances.keys()]).toEqual([sourceId]);
  expect(world.credentials.size).toBe(0);
  // Released, and dissolved when no replica stayed.
  expect(world.sets.get(sourceId) ?? null).toBeNull();
});

test('a build already restoring when the source cannot be prepared cancels its restore instead of waiting for the snapshot', async () => {
  const world = newWorld();
  world.slowPrepareSourceMs = 3000;
  world.failPrepareSource = true;
  world.restoreWaitsForSnapshot = true;
  const sourceId = randomUUID();
  const replicaId = randomUUID();
  const f = await failureOf(createReplicas(world, { sourceInstanceId: sourceId, count: 1, replicaIds: [replicaId] }));
  expect(f.message).toMatch(/binary logging cannot be enabled/);
  // The restore had started (it follows a snapshot that never came) and was cancelled.
  expect(world.calls.indexOf('restoreSnapshot')).toBeGreaterThan(-1);
  const child = failureOf(ctx.env.temporal.workflow.getHandle(workflowIds.buildReplica(replicaId)).result());
  expect((await child).message).toMatch(/no snapshot: .*binary logging cannot be enabled/);
  expect([...world.servers.keys()]).toEqual([expect.stringMatching(/-src$/)]);
  expect([...world.instances.keys()]).toEqual([sourceId]);
}, 60_000);

/** createReplicas cancelled once `when` holds: it ends CANCELLED; its replicas' rows (the `replicas` query) after it. */
async function cancelledCreate(world: FakeWorld, count: number, when: () => boolean) {
  const sourceId = randomUUID();
  const replicaIds = Array.from({ length: count }, () => randomUUID());
  const { err, rows } = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    seedSource(world, sourceId, prefix);
    const handle = await ctx.env.temporal.workflow.start('createReplicas', {
      taskQueue,
      workflowId: `create-replicas-${randomUUID()}`,
      args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count, replicaIds }],
    });
    while (!when()) await new Promise((r) => setTimeout(r, 20));
    await handle.cancel();
    const ended = await handle.result().then(() => undefined, (e: unknown) => e);
    return { err: ended, rows: await handle.query<ReplicaProgress[]>('replicas') };
  });
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  // Whatever was building is undone; the set is released and the snapshot deleted.
  expect(world.snapshots.size).toBe(0);
  // Released, and dissolved when no replica stayed.
  expect(world.sets.get(sourceId) ?? null).toBeNull();
  return { sourceId, replicaIds, rows };
}

test('an operation cancelled while its replica restores undoes the replica, ends CANCELLED and releases the set', async () => {
  const world = newWorld();
  world.slowRestoreMs = 2000;
  const { sourceId, replicaIds, rows } = await cancelledCreate(world, 1, () => world.calls.includes('restoreSnapshot'));
  expect(rows).toEqual([expect.objectContaining({ phase: 'failed', error: 'cancelled' })]);
  expect((await ctx.env.temporal.workflow.getHandle(workflowIds.buildReplica(replicaIds[0]!)).describe()).status.name).toBe('CANCELLED');
  expect([...world.servers.keys()]).toEqual([expect.stringMatching(/-src$/)]);
  expect([...world.instances.keys()]).toEqual([sourceId]);
  expect(world.credentials.size).toBe(0);
}, 60_000);

test('a cancel that comes while Nova creates the server leaves no server behind', async () => {
  const world = newWorld();
  world.slowCreateServerMs = 1500;
  const { sourceId } = await cancelledCreate(world, 1, () => world.calls.includes('createServer'));
  // The undo ran after the create had answered, so it found the server.
  expect(world.calls.lastIndexOf('deleteServer')).toBeGreaterThan(world.calls.indexOf('createServer'));
  expect([...world.servers.keys()]).toEqual([expect.stringMatching(/-src$/)]);
  expect([...world.instances.keys()]).toEqual([sourceId]);
}, 60_000);

test('a replica already ACTIVE when the operation is cancelled stays, with its set monitored', async () => {
  const world = newWorld();
  world.slowRestoreMs = 3000;
  world.quickRestores = 1;
  const { sourceId, rows } = await cancelledCreate(world, 2, () => world.calls.includes('updateInstance:ACTIVE'));
  expect(rows.map((r) => r.phase).sort()).toEqual(['active', 'failed']);
  const active = rows.find((r) => r.phase === 'active')!;
  expect(world.instances.get(active.replicaId)).toMatchObject({ status: 'ACTIVE', lock: null });
  expect([...world.instances.keys()].sort()).toEqual([sourceId, active.replicaId].sort());
  expect(world.monitorsEnsured).toEqual([{ setId: sourceId, projectId: 'proj-a', sourceName: 'master' }]);
}, 60_000);

test('the snapshot is deleted even when the registry cannot be told the operation finished', async () => {
  const world = newWorld();
  world.failFinish = true;
  await failureOf(createReplicas(world, { count: 1 }));
  expect(world.calls).toContain('deleteSnapshot');
  expect(world.snapshots.size).toBe(0);
}, 60_000);

test('a new operation records exactly the markers of its patches: none when it succeeds (0.2.0 asks its fault patches only on a failure, test/workflows/fault-workflows.test.ts)', async () => {
  const world = newWorld();
  const replicaId = randomUUID();
  const workflowId = `create-replicas-${randomUUID()}`;
  const seen: Record<string, { markers: string[]; changeVersion: unknown }> = {};
  await createReplicas(
    world,
    { sourceInstanceId: randomUUID(), count: 1, replicaIds: [replicaId] },
    async () => {
      for (const [name, id] of [['createReplicas', workflowId], ['buildReplica', workflowIds.buildReplica(replicaId)]] as const) {
        seen[name] = {
          markers: await patchMarkers(ctx.env.temporal, id),
          changeVersion: (await ctx.env.temporal.workflow.getHandle(id).describe()).searchAttributes.TemporalChangeVersion,
        };
      }
    },
    workflowId,
  );
  expect(seen).toEqual({ createReplicas: { markers: [], changeVersion: undefined }, buildReplica: { markers: [], changeVersion: undefined } });
});

test("a replica's account on the source is made while its snapshot is restored", async () => {
  const world = newWorld();
  world.slowRestoreMs = 500;
  const result = await createReplicas(world, { sourceInstanceId: randomUUID(), count: 1 });
  expect(result.replicas.map((r) => r.status)).toEqual(['ACTIVE']);
  expect(world.calls.indexOf('createReplicationUser')).toBeLessThan(world.calls.indexOf('restored'));
  expect(world.calls.indexOf('startReplication')).toBeGreaterThan(world.calls.indexOf('restored'));
});

test('a replica whose restore fails is undone completely while the other one stays', async () => {
  const world = newWorld();
  world.failRestores = 1;
  const sourceId = randomUUID();
  const result = await createReplicas(world, { sourceInstanceId: sourceId });
  const failed = result.replicas.filter((r) => r.status === 'FAILED');
  const ok = result.replicas.filter((r) => r.status === 'ACTIVE');
  expect(failed).toHaveLength(1);
  expect(ok).toHaveLength(1);
  expect(failed[0]!.error).toMatch(/checksum mismatch/);
  expect(world.instances.has(failed[0]!.replicaId)).toBe(false);
  expect(world.credentials.has(failed[0]!.replicaId)).toBe(false);
  // Source + the surviving replica's server only.
  expect([...world.servers.keys()]).toHaveLength(2);
  expect(world.accounts.get(world.instances.get(sourceId)!.novaServerId!)?.size ?? 0).toBe(1);
  expect(world.snapshots.size).toBe(0);
  // Released, and dissolved when no replica stayed.
  expect(world.sets.get(sourceId) ?? null).toBeNull();
});

test('a failed snapshot fails the operation, deletes the servers provisioned during it, and discards rows recorded ahead', async () => {
  const world = newWorld();
  world.failSnapshot = true;
  const sourceId = randomUUID();
  const replicaIds = [randomUUID(), randomUUID()];
  // The API records replica rows before starting; they must not survive the failure.
  for (const id of replicaIds) world.instances.set(id, { id, projectId: 'proj-a', name: 'r', status: 'BUILD', lock: null, novaServerId: null, address: null, replicaOf: sourceId, setId: null, readOnly: true });
  const f = await failureOf(createReplicas(world, { sourceInstanceId: sourceId, replicaIds }));
  expect(f.message).toMatch(/mariadb-backup exited/);
  // Servers boot during the snapshot: each is deleted.
  expect(world.calls.filter((c) => c === 'createServer')).toHaveLength(2);
  expect(world.calls.filter((c) => c === 'deleteServer')).toHaveLength(2);
  expect([...world.servers.keys()]).toEqual([expect.stringMatching(/-src$/)]);
  expect(world.calls).not.toContain('startReplication');
  for (const id of replicaIds) expect(world.instances.has(id)).toBe(false);
  // Released, and dissolved when no replica stayed.
  expect(world.sets.get(sourceId) ?? null).toBeNull();
});

test.each([
  ['count above the configured maximum', { count: 11 }, 'InvalidInput', /count: must be at most 10/],
  ['count zero', { count: 0 }, 'InvalidInput', /count: must be at least 1/],
  ['replicaIds not matching count', { replicaIds: ['6af19aef-7777-401f-820a-26b96e39cac2'] }, 'InvalidInput', /replicaIds: must hold exactly count/],
  ['an unknown source', { sourceInstanceId: '00000000-0000-4000-8000-000000000000' }, 'NotFound', /not found/],
])('createReplicas with %s is refused and builds nothing', async (_label, args, type, message) => {
  const world = newWorld();
  const f = await failureOf(
    withFakeWorkers(ctx, ctx.bundle, world, (taskQueue, prefix) => {
      const sourceId = randomUUID();
      seedSource(world, sourceId, prefix);
      return ctx.env.temporal.workflow.execute('createReplicas', { taskQueue, workflowId: `cr-${randomUUID()}`, args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count: 2, ...args }] });
    }),
  );
  expect(f.type).toBe(type);
  expect(f.message).toMatch(message);
  expect(world.calls.filter((c) => c === 'createServer' || c === 'createSnapshot')).toEqual([]);
});

test('a replica as source past the depth limit is refused', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  const result = await createReplicas(world, { sourceInstanceId: sourceId, count: 1 });
  const replicaId = result.replicas[0]!.replicaId;
  const callsBefore = world.calls.length;
  const f = await failureOf(createReplicas(world, { sourceInstanceId: replicaId, count: 1 }));
  expect(f.type).toBe('InvalidInput');
  expect(f.message).toMatch(/deeper than the 1 allowed/);
  expect(world.calls.slice(callsBefore).filter((c) => c === 'createServer')).toEqual([]);
});

/** Runs fn with the fake workers up and a source that createReplicas gave one replica. */
function withOneReplica(world: FakeWorld, sourceId: string, fn: (taskQueue: string, prefix: string, replicaId: string) => Promise<void>) {
  return withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    seedSource(world, sourceId, prefix);
    const created = (await ctx.env.temporal.workflow.execute('createReplicas', {
      taskQueue,
      workflowId: `cr-${randomUUID()}`,
      args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count: 1 }],
    })) as CreateReplicasResult;
    await fn(taskQueue, prefix, created.replicas[0]!.replicaId);
  });
}

test('detachReplica stops replication, drops the account on the source and leaves the set; detaching again is refused', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  await withOneReplica(world, sourceId, async (taskQueue, prefix, replicaId) => {
    const res = await ctx.env.temporal.workflow.execute('detachReplica', { taskQueue, workflowId: `detach-${randomUUID()}`, args: [{ instanceId: replicaId, projectId: 'proj-a' }] });
    expect(res).toEqual({ instanceId: replicaId, formerSourceId: sourceId, replicationUserDropped: true });
    expect(world.instances.get(replicaId)).toMatchObject({ replicaOf: null, setId: null, readOnly: false, lock: null });
    expect(world.accounts.get(`${prefix}-src`)!.size).toBe(0);
    expect(world.credentials.size).toBe(0);
    const f = await failureOf(ctx.env.temporal.workflow.execute('detachReplica', { taskQueue, workflowId: `detach-${randomUUID()}`, args: [{ instanceId: replicaId, projectId: 'proj-a' }] }));
    expect(f.type).toBe('InvalidInput');
    expect(f.message).toMatch(/not a replica/);
  });
});

test('deleting a replica drops its account on the source; deleting a source with replicas is refused', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  await withOneReplica(world, sourceId, async (taskQueue, prefix, replicaId) => {
    const refused = await failureOf(ctx.env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `del-${randomUUID()}`, args: [{ instanceId: sourceId, projectId: 'proj-a' }] }));
    expect(refused.message).toMatch(/detach or delete them first/);
    await ctx.env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `del-${randomUUID()}`, args: [{ instanceId: replicaId, projectId: 'proj-a' }] });
    expect(world.instances.has(replicaId)).toBe(false);
    expect(world.accounts.get(`${prefix}-src`)!.size).toBe(0);
    expect(world.credentials.size).toBe(0);
    // Released, and dissolved when no replica stayed.
  expect(world.sets.get(sourceId) ?? null).toBeNull();
  });
});

test('deleting a replica while its set is busy is refused and leaves the replica as it was', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  await withOneReplica(world, sourceId, async (taskQueue, _prefix, replicaId) => {
    world.sets.set(sourceId, 'promote-someone-else');
    const refused = await failureOf(ctx.env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `del-${randomUUID()}`, args: [{ instanceId: replicaId, projectId: 'proj-a' }] }));
    expect(refused.type).toBe('OperationConflict');
    expect(refused.message).toMatch(/busy with operation promote-someone-else/);
    expect(world.instances.get(replicaId)).toMatchObject({ status: 'ACTIVE', lock: null, replicaOf: sourceId });
    expect(world.sets.get(sourceId)).toBe('promote-someone-else');
  });
});

test('TLS from the first replica: the set gets its CA and the source its certificate before the snapshot; every build attaches over TLS with an account requiring it', async () => {
  const world = newWorld();
  const workflowId = `create-replicas-${randomUUID()}`;
  const result = await createReplicas(world, { tls: true }, undefined, workflowId);
  expect(result.replicas.map((r) => r.status)).toEqual(['ACTIVE', 'ACTIVE']);
  expect(world.settings.tls).toBe(true);
  const at = (c: string) => world.calls.indexOf(c);
  const sourceServer = world.instances.get(result.sourceInstanceId)!.novaServerId!;
  expect(at('ensureSetAuthority')).toBeGreaterThan(at('ensureReplicationSource'));
  expect(at(`installCertificate:${sourceServer}`)).toBeGreaterThan(at('ensureSetAuthority'));
  expect(at('createSnapshot')).toBeGreaterThan(at(`installCertificate:${sourceServer}`));
  // No link in clear text, no account that would take one.
  expect(world.calls.filter((c) => c.startsWith('startReplication'))).toEqual([expect.stringMatching(/^startReplication:tls:/), expect.stringMatching(/^startReplication:tls:/)]);
  expect(world.calls.filter((c) => c.startsWith('createReplicationUser'))).toEqual(['createReplicationUser:ssl', 'createReplicationUser:ssl']);
  expect(await patchMarkers(ctx.env.temporal, workflowId)).toContain('2026-12-tls-from-first-replica');
});

test('TLS asked of a plain set that already replicates: refused under the lock, nothing built, the set stays plain', async () => {
  const world = newWorld();
  const f = await failureOf(
    withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
      const { source } = seedSet(world, prefix);
      return ctx.env.temporal.workflow.execute('createReplicas', { taskQueue, workflowId: `create-replicas-${randomUUID()}`, args: [{ sourceInstanceId: source.id, projectId: 'proj-a', count: 1, tls: true }] });
    }),
  );
  expect(f.message).toMatch(/replication\.tls: the replication set already replicates in plain text \(2 link\(s\)\)/);
  expect(world.settings.tls).toBe(false);
  expect(world.calls).not.toContain('createServer');
  expect(world.calls).not.toContain('ensureSetAuthority');
  expect(world.instances.size).toBe(3);
});
