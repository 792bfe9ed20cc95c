// provisionInstance and deleteInstance against a real Temporal server with mocked activities:
// the happy path, compensation on a failed build or prepare, and bad input.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { guestTaskQueue } from '../../lib/names';
import type { ProvisionInstanceInput } from '../../lib/schemas';
import { fakeControlActivities, fakeGuestActivities, newWorld, sampleProvisionSpec, type FakeWorld } from '../helpers/fake-activities';
import { bundleWorkflows, installQuietRuntime } from '../helpers/runtime';
import { startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack;
let bundle: WorkflowBundleWithSourceMap;
let nativeConnection: NativeConnection;

beforeAll(async () => {
  installQuietRuntime();
  [env, bundle] = await Promise.all([startTestStack({ parts: ['temporal'] }), bundleWorkflows()]);
  nativeConnection = await NativeConnection.connect({ address: env.stack.env.TEMPORAL_ADDRESS });
});

afterAll(async () => {
  await nativeConnection?.close();
  await env?.stop();
});

/** Runs fn while an orchestrator worker and the guest worker of the first server poll. */
async function withWorkers<T>(world: FakeWorld, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `wf-test-${randomUUID()}`;
  const prefix = `srv-${randomUUID().slice(0, 8)}`;
  const orchestrator = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: bundle, activities: fakeControlActivities(world, prefix) });
  const guest = await Worker.create({ connection: nativeConnection, taskQueue: guestTaskQueue(`${prefix}-1`), activities: fakeGuestActivities(world, `${prefix}-1`) });
  return orchestrator.runUntil(guest.runUntil(fn(taskQueue)));
}

function input(overrides: Partial<ProvisionInstanceInput> = {}): ProvisionInstanceInput {
  return { ...sampleProvisionSpec(randomUUID()), ...overrides };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

test('provisionInstance creates the server, prepares MariaDB and marks the instance ACTIVE', async () => {
  const world = newWorld();
  const spec = input();
  const result = await withWorkers(world, (taskQueue) =>
    env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] }),
  );
  expect(result).toMatchObject({ instanceId: spec.instanceId, status: 'ACTIVE', port: 3306, mysqlServerId: 101 });
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ACTIVE', lock: null, fault: null });
  expect(world.servers.size).toBe(1);
  expect(world.calls).toEqual(
    expect.arrayContaining(['registerInstance', 'createServer', 'waitForServerActive', 'recordServer', 'prepare', 'setInstanceStatus:ACTIVE', 'releaseInstance']),
  );
});

test('a build that ends in ERROR deletes the server and leaves the instance in ERROR with the reason', async () => {
  const world = newWorld();
  world.failBuild = true;
  const spec = input();
  const failure = await failureOf(
    withWorkers(world, (taskQueue) => env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] })),
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
  await failureOf(withWorkers(world, (taskQueue) => env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] })));
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
    withWorkers(world, (taskQueue) => env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${randomUUID()}`, args: [spec] })),
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
    await env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] });
    const res = await env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `delete-${spec.instanceId}`, args: [{ instanceId: spec.instanceId, projectId: 'proj-a' }] });
    expect(res).toEqual({ instanceId: spec.instanceId, deletedServers: 1 });
    const again = await failureOf(
      env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `delete2-${spec.instanceId}`, args: [{ instanceId: spec.instanceId, projectId: 'proj-a' }] }),
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
    await env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId: `provision-${spec.instanceId}`, args: [spec] });
    const f = await failureOf(
      env.temporal.workflow.execute('deleteInstance', { taskQueue, workflowId: `delete-${spec.instanceId}`, args: [{ instanceId: spec.instanceId, projectId: 'proj-b' }] }),
    );
    expect(f.type).toBe('NotFound');
  });
  expect(world.servers.size).toBe(1);
  expect(world.instances.get(spec.instanceId)).toMatchObject({ status: 'ACTIVE' });
});
