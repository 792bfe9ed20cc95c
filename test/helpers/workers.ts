// Runs an orchestrator worker with fake control activities and fake guest workers for a
// source server and the first few replica servers, while fn runs.
import { randomUUID } from 'node:crypto';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { guestTaskQueue } from '../../lib/names';
import { fakeControlActivities, fakeGuestActivities, type FakeWorld } from './fake-activities';

export async function withFakeWorkers<T>(
  /** The worker connection, and the data converter of the stack's clients (its payload keys). */
  { connection, dataConverter }: { connection: NativeConnection; dataConverter?: DataConverter },
  bundle: WorkflowBundleWithSourceMap,
  world: FakeWorld,
  fn: (taskQueue: string, prefix: string) => Promise<T>,
  replicaServers = 4,
): Promise<T> {
  const taskQueue = `wf-test-${randomUUID()}`;
  const prefix = `srv-${randomUUID().slice(0, 8)}`;
  const serverIds = [`${prefix}-src`, ...Array.from({ length: replicaServers }, (_, i) => `${prefix}-${i + 1}`)];
  const workers = [
    await Worker.create({ connection, dataConverter, taskQueue, workflowBundle: bundle, activities: fakeControlActivities(world, prefix) }),
    ...(await Promise.all(serverIds.map((id) => Worker.create({ connection, dataConverter, taskQueue: guestTaskQueue(id), activities: fakeGuestActivities(world, id) })))),
  ];
  const run = (i: number, p: Promise<T>): Promise<T> => (i < 0 ? p : run(i - 1, workers[i]!.runUntil(p)));
  return run(workers.length - 1, fn(taskQueue, prefix));
}
