// provisionInstance and deleteInstance against a real Temporal server with mocked activities:
// the happy path, compensation on a failed build or prepare, and bad input.
import { randomUUID } from 'node:crypto';
import type { ProvisionInstanceInput } from '../../lib/schemas';
import { newWorld, sampleProvisionSpec, type FakeWorld } from '../helpers/fake-activities';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

function withWorkers<T>(world: FakeWorld, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  return withFakeWorkers(ctx, ctx.bundle, world, (taskQueue) => fn(taskQueue));
}

function input(overrides: Partial<ProvisionInstanceInput> = {}): ProvisionInstanceInput {
  return { ...sampleProvisionSpec(randomUUID()), ...overrides };
}

test('provisionInstance creates the server, prepares MariaDB and marks the instance ACTIVE', async () => {
  const world = newWorld();
  const spec = input();
  const result = await withWorkers(world, (taskQueue) =>
    ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] }),
  );
  expect(result).toMatchObject({ instanceId: spec.instanceId, status: 'ACTIVE', port: 3306, mysqlServerId: 101 });
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ACTIVE', lock: null, fault: null });
  expect(world.servers.size).toBe(1);
  expect(world.calls).toEqual(
    expect.arrayContaining(['recordInstance:provisionInstance', 'createServer', 'waitForServerActive', 'updateInstance', 'prepare', 'updateInstance:ACTIVE', 'endOperation']),
  );
});

test('with a locality, provisionInstance founds the server group and creates the server in it; no version marker (0.1.0 inputs cannot ask for one)', async () => {
  const world = newWorld();
  const spec = input({ locality: 'anti-affinity' });
  const workflowId = `provision-${spec.instanceId}`;
  await withWorkers(world, (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId, args: [spec] }));
  const group = `trove-group-${spec.instanceId}`;
  expect(world.calls.filter((c) => /Group/.test(c))).toEqual([`ensureServerGroup:${group}`, `inGroup:group-of-${group}`]);
  expect(world.calls.indexOf(`ensureServerGroup:${group}`)).toBeLessThan(world.calls.indexOf('createServer'));
  const history = await ctx.env.temporal.workflow.getHandle(workflowId).fetchHistory();
  expect(history.events!.filter((e) => e.markerRecordedEventAttributes)).toEqual([]);
});

test('with a locality, a failed build deletes the server group with the server', async () => {
  const world = newWorld();
  world.failBuild = true;
  const spec = input({ locality: 'affinity' });
  await failureOf(withWorkers(world, (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] })));
  const group = `trove-group-${spec.instanceId}`;
  expect(world.calls.filter((c) => /Group|deleteServer/.test(c))).toEqual([`ensureServerGroup:${group}`, `inGroup:group-of-${group}`, 'deleteServer', `deleteServerGroup:${group}`]);
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ERROR', lock: null });
});

test('without a locality there is no server group step', async () => {
  const world = newWorld();
  const spec = input();
  await withWorkers(world, (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] }));
  expect(world.calls.filter((c) => /Group/.test(c))).toEqual([]);
});

test('a build that ends in ERROR deletes the server and leaves the instance in ERROR with the reason', async () => {
  const world = newWorld();
  world.failBuild = true;
  const spec = input();
  const failure = await failureOf(
    withWorkers(world, (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] })),
  );
  expect(failure.message).toMatch(/provisioning failed: .*went to ERROR/);
  expect(world.servers.size).toBe(0);
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ERROR', lock: null });
  expect(world.instances.get(spec.instanceId)!.fault).toMatch(/went to ERROR: injected/);
  expect(world.calls).not.toContain('prepare');
});

test('a failed prepare on the guest deletes the server too', async () => {
  const world = newWorld();
  world.failPrepare = true;
  const spec = input();
  await failureOf(withWorkers(world, (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] })));
  expect(world.servers.size).toBe(0);
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ERROR', lock: null });
  expect(world.instances.get(spec.instanceId)!.fault).toMatch(/mariadbd exited/);
});

test.each([
  ['a plaintext password', { users: [{ name: 'alice', password: 'secret', databases: [] }] }, /users\[0\]\.password: plaintext passwords may not enter a workflow/],
  ['a bad name', { name: 'db; DROP TABLE x' }, /name: must match/],
  ['a zero volume', { volumeSizeGb: 0 }, /volumeSizeGb: must be at least 1/],
  ['an unknown database in a grant', { users: [{ name: 'alice', host: '%', sealedPassword: 'v1.a.b.c', databases: ['nope'] }] }, /users\[0\]\.databases\[0\]: database "nope" is not in databases/],
  ['a missing project', { projectId: undefined }, /projectId: /],
])('bad input (%s) fails at once, non-retryable, and calls no activity', async (_label, overrides, message) => {
  const world = newWorld();
  const spec = { ...input(), ...overrides } as ProvisionInstanceInput;
  const failure = await failureOf(
    withWorkers(world, (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${randomUUID()}`, args: [spec] })),
  );
  expect(failure.type).toBe('InvalidInput');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(message);
  expect(world.calls).toEqual([]);
});

test('deleteInstance deletes the server and forgets the instance; a second delete finds nothing', async () => {
  const world = newWorld();
  const spec = input();
  await withWorkers(world, async (taskQueue) => {
    await ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] });
    const res = await ctx.env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `delete-${spec.instanceId}`, args: [{ instanceId: spec.instanceId, projectId: 'proj-a' }] });
    expect(res).toEqual({ instanceId: spec.instanceId, deletedServers: 1 });
    const again = await failureOf(
      ctx.env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `delete2-${spec.instanceId}`, args: [{ instanceId: spec.instanceId, projectId: 'proj-a' }] }),
    );
    expect(again.message).toMatch(/not found/);
  });
  expect(world.servers.size).toBe(0);
  expect(world.instances.has(spec.instanceId)).toBe(false);
});

test('deleteInstance of another project is NotFound and changes nothing', async () => {
  const world = newWorld();
  const spec = input();
  await withWorkers(world, async (taskQueue) => {
    await ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] });
    const f = await failureOf(
      ctx.env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `delete-${spec.instanceId}`, args: [{ instanceId: spec.instanceId, projectId: 'proj-b' }] }),
    );
    expect(f.type).toBe('NotFound');
  });
  expect(world.servers.size).toBe(1);
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ACTIVE' });
});
