// Every committed history replays against today's workflow code. A failure here means a
// change to workflow logic would break executions already running: put it behind
// patched() or a new workflow type, and record new fixtures (npm run record-histories).
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows, installQuietRuntime } from '../helpers/runtime';

const HISTORIES = path.join(__dirname, '..', 'histories');
const fixtures = readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  installQuietRuntime();
  bundle = await bundleWorkflows();
});

test('there are fixtures for every workflow type', () => {
  const types = new Set(fixtures.map((f) => f.split(path.sep)[0]));
  expect([...types].sort()).toEqual(['buildReplica', 'createReplicas', 'deleteInstance', 'detachReplica', 'ejectReplicaSource', 'monitorReplicationSet', 'promoteToReplicaSource', 'provisionInstance']);
});

test.each(fixtures)('%s replays without nondeterminism', async (fixture) => {
  const history = JSON.parse(readFileSync(path.join(HISTORIES, fixture), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: bundle, replayName: fixture }, history);
});
