// Records replay fixtures: runs each workflow scenario against a Temporal dev server with
// the in-memory activities of the workflow tests, and writes its history as JSON to
// test/histories/<workflowType>/<scenario>.json. Run after changing workflow logic
// (behind patched() or a new type), then commit the new files; never edit old ones.
//   npm run record-histories
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { guestTaskQueue } from '../lib/names';
import { fakeControlActivities, fakeGuestActivities, newWorld, type FakeWorld } from '../test/helpers/fake-activities';
import { bundleWorkflows, installQuietRuntime } from '../test/helpers/runtime';
import { startTestStack } from '../test/helpers/stack';

interface Scenario {
  workflowType: string;
  name: string;
  setup?: (w: FakeWorld) => void;
  /** Workflows to run first (e.g. provision before delete); only the last is recorded. */
  run: (instanceId: string) => { type: string; args: unknown[] }[];
}

const spec = (instanceId: string) => ({
  instanceId,
  projectId: 'proj-a',
  name: 'db1',
  flavorId: '1',
  volumeSizeGb: 1,
  databases: ['app'],
  users: [{ name: 'alice', host: '%', sealedPassword: 'v1.aaaa.bbbb.cccc', databases: ['app'] }],
});

const SCENARIOS: Scenario[] = [
  { workflowType: 'provisionInstance', name: 'success', run: (id) => [{ type: 'provisionInstance', args: [spec(id)] }] },
  { workflowType: 'provisionInstance', name: 'build-error-compensated', setup: (w) => (w.failBuild = true), run: (id) => [{ type: 'provisionInstance', args: [spec(id)] }] },
  { workflowType: 'provisionInstance', name: 'prepare-failed-compensated', setup: (w) => (w.failPrepare = true), run: (id) => [{ type: 'provisionInstance', args: [spec(id)] }] },
  { workflowType: 'provisionInstance', name: 'invalid-input', run: (id) => [{ type: 'provisionInstance', args: [{ ...spec(id), volumeSizeGb: 0 }] }] },
  {
    workflowType: 'deleteInstance',
    name: 'success',
    run: (id) => [
      { type: 'provisionInstance', args: [spec(id)] },
      { type: 'deleteInstance', args: [{ instanceId: id, projectId: 'proj-a' }] },
    ],
  },
];

async function main(): Promise<void> {
  installQuietRuntime();
  const [env, bundle] = await Promise.all([startTestStack({ parts: ['temporal'] }), bundleWorkflows()]);
  const connection = await NativeConnection.connect({ address: env.stack.env.TEMPORAL_ADDRESS });
  const stamp = new Date().toISOString().slice(0, 10);
  try {
    for (const s of SCENARIOS) {
      const world = newWorld();
      s.setup?.(world);
      const taskQueue = `record-${randomUUID()}`;
      const prefix = `srv-${randomUUID().slice(0, 8)}`;
      const orchestrator = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities: fakeControlActivities(world, prefix) });
      const guest = await Worker.create({ connection, taskQueue: guestTaskQueue(`${prefix}-1`), activities: fakeGuestActivities(world) });
      const instanceId = randomUUID();
      let lastId = '';
      await orchestrator.runUntil(
        guest.runUntil(async () => {
          for (const step of s.run(instanceId)) {
            lastId = `${step.type}-${randomUUID()}`;
            await env.temporal.workflow.execute(step.type, { taskQueue, workflowId: lastId, args: step.args }).catch(() => undefined);
          }
        }),
      );
      const history = await env.temporal.workflow.getHandle(lastId).fetchHistory();
      const dir = path.join(__dirname, '..', 'test', 'histories', s.workflowType);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${s.name}__${stamp}.json`);
      writeFileSync(file, historyToJSON(history));
      console.log(`recorded ${path.relative(process.cwd(), file)} (${history.events?.length} events)`);
    }
  } finally {
    await connection.close();
    await env.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
