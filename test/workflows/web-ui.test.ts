// What a person reads in the Temporal Web UI, against a real Temporal server with mocked
// activities: every workflow type has a static summary and details from its start (the client
// helpers, the monitor's starter, and the children workflows start), current details with
// their table as a code block, and none of it holds a secret.
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { createMonitorActivities, type EnsuredMonitor } from '../../activities/control/monitor';
import { SA_INSTANCE_NAME, workflowIds } from '../../lib/names';
import { startCreateReplicas, startPromote, startProvisionInstance } from '../../lib/start';
import { newWorld, sampleProvisionSpec, seedSet, seedSource } from '../helpers/fake-activities';
import { eventually } from '../helpers/stack';
import { withFakeWorkers } from '../helpers/workers';
import { useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

/** A sealed secret (lib/secrets) anywhere in a text. */
const SEALED = /v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

interface Shown {
  summary: string;
  details: string;
  current: string;
  /** TroveInstanceName, the list's readable column (set at start). */
  instanceName?: string;
}

/** What the Web UI shows of a workflow: its user metadata and its current details (a worker must be up). */
async function shown(handle: WorkflowHandle): Promise<Shown> {
  const d = await handle.describe();
  const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  const s = { summary: (await d.staticSummary()) ?? '', details: (await d.staticDetails()) ?? '', current: meta.currentDetails };
  expect(s.summary).not.toMatch(/\n/);
  expect(s.details).not.toBe('');
  for (const text of Object.values(s)) expect(text).not.toMatch(SEALED);
  return { ...s, instanceName: d.typedSearchAttributes.get(SA_INSTANCE_NAME) };
}

test('provisionInstance: the summary names the instance and project, the details its users but no password', async () => {
  const world = newWorld();
  const spec = sampleProvisionSpec(randomUUID());
  const s = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue) => {
    const handle = await startProvisionInstance(ctx.env.temporal, spec, { taskQueue });
    await handle.result();
    return shown(handle);
  });
  expect(s.summary).toBe('Provision instance `db1` · project proj-a');
  expect(s.instanceName).toBe('db1');
  expect(s.details).toContain(`\`${spec.instanceId}\``);
  expect(s.details).toContain('- users: alice');
  expect(s.current).toMatch(/^provisionInstance: registering → .* → \*\*active\*\*/);
});

test('createReplicas and its buildReplica children: summaries by name, and the replica table as a code block', async () => {
  const world = newWorld();
  const sourceId = randomUUID();
  const [parent, children] = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    seedSource(world, sourceId, prefix);
    const { handle, replicaIds } = await startCreateReplicas(ctx.env.temporal, { sourceInstanceId: sourceId, projectId: 'proj-a', count: 2 }, { taskQueue, instanceName: 'master' });
    await handle.result();
    return Promise.all([shown(handle), Promise.all(replicaIds.map((id) => shown(ctx.env.temporal.workflow.getHandle(workflowIds.buildReplica(id)))))]);
  });
  expect(parent.summary).toBe('Create 2 read replicas of `master` · project proj-a');
  expect(parent.instanceName).toBe('master');
  expect(parent.details).toContain(`- source: \`master\` \`${sourceId}\``);
  const table = /```\n(.*)\n(─[─ ]*)\n([\s\S]*?)\n```/.exec(parent.current);
  expect(table?.[1]).toMatch(/^replica +phase +restored +lag \(s\)$/);
  expect(table![3]!.split('\n')).toEqual([expect.stringMatching(/^master-replica-1 +active +0\.0 MiB +0$/), expect.stringMatching(/^master-replica-2 +active +0\.0 MiB +0$/)]);
  expect(children.map((c) => c.summary)).toEqual(['Build replica `master-replica-1` of `master` · project proj-a', 'Build replica `master-replica-2` of `master` · project proj-a']);
  expect(children.map((c) => c.instanceName)).toEqual(['master-replica-1', 'master-replica-2']);
});

test('promoteToReplicaSource: the summary names the new source', async () => {
  const world = newWorld();
  const s = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { replicas } = seedSet(world, prefix);
    const handle = await startPromote(ctx.env.temporal, { instanceId: replicas[0]!.id, projectId: 'proj-a' }, { taskQueue, instanceName: 'replica-one' });
    await handle.result();
    return shown(handle);
  });
  expect(s.summary).toBe('Promote `replica-one` to replica source (switchover) · project proj-a');
  expect(s.instanceName).toBe('replica-one');
  expect(s.current).toMatch(/→ \*\*done\*\*/);
});

test("the monitor ensureMonitor starts: its summary, its health table as a code block, and the failover it starts says it is automatic", async () => {
  const world = newWorld();
  world.settings.autoFailover = true;
  world.settings.failoverAfterSeconds = 1;
  const [setId, health, eject] = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { source } = seedSet(world, prefix);
    // Started as an operation starts it: by the activity, on the orchestrator's queue.
    const activity = new MockActivityEnvironment({ taskQueue });
    const started = (await activity.run(createMonitorActivities({ client: ctx.env.temporal }).ensureMonitor, { setId: source.id, projectId: 'proj-a', sourceName: source.name })) as EnsuredMonitor;
    const monitor = ctx.env.temporal.workflow.getHandle(started.workflowId);
    await eventually('health stored', async () => world.health?.length === 3, 20_000);
    await eventually('health shown', async () => (await shown(monitor)).current.includes('```'), 10_000);
    const healthy = await shown(monitor);
    world.down.add(source.id);
    world.statusOf.set(`${prefix}-1`, { ioRunning: false });
    world.statusOf.set(`${prefix}-2`, { ioRunning: false });
    // The failover is recorded (for the quiet period) just before its workflow starts: wait for both.
    const ejectId = await eventually('the automatic failover', async () => {
      const id = world.settings.lastFailoverOperation;
      return id ? ctx.env.temporal.workflow.getHandle(id).describe().then(() => id, () => undefined) : undefined;
    }, 30_000);
    const ejected = await shown(ctx.env.temporal.workflow.getHandle(ejectId));
    await monitor.terminate('test over');
    return [source.id, healthy, ejected] as const;
  });
  expect(health.summary).toBe(`Monitor replication set \`${setId.slice(0, 8)}\` · project proj-a`);
  expect(health.instanceName).toBe('master');
  expect(health.details).toContain(`\`${setId}\``);
  expect(health.current).toMatch(/```\nmember +role +reachable +IO \/ SQL +behind +link TLS\n/);
  expect(health.current).toMatch(/\nmaster +source +yes +- +- +-\n/);
  expect(health.current).toMatch(/\nmaster-replica-1 +replica +yes +yes \/ yes +0 trx \/ 0 s +plain\n/);
  expect(health.current).toContain('automatic failover: **none**');
  expect(eject.summary).toBe('Automatic failover: replace source `master` · project proj-a');
  expect(eject.instanceName).toBe('master');
  expect(eject.details).toContain("started by the replication set's monitor");
}, 60_000);
