// Every committed history replays against today's workflow code: the fixtures of every
// release, test/histories/v<version>/<workflowType>/ (docs/patches.md). A failure here means a
// change to workflow logic would break executions of a release that may still be running:
// put it behind patched() or a new workflow type, and record the next version's fixtures
// (npm run record-histories). Never rewrite a released version's fixtures to make this pass.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { HISTORIES_DIR, historyFixtures } from '../helpers/histories';
import { bundleWorkflows, installQuietRuntime } from '../helpers/runtime';
import { newPayloadKey, payloadDataConverter } from '../../lib/payload-codec';

const RELEASED_0_1_0 = ['buildReplica', 'createReplicas', 'deleteInstance', 'detachReplica', 'ejectReplicaSource', 'monitorReplicationSet', 'promoteToReplicaSource', 'provisionInstance'];
/** Every workflow type the worker runs (workflows/index.ts). */
const WORKFLOW_TYPES = [...RELEASED_0_1_0, 'breakPair', 'createBackup', 'createPair', 'deleteBackup', 'disableDr', 'enableDr', 'enableReplicationTls', 'failOverPair', 'manageAccess', 'rebuildAfterZoneReturn', 'rebuildAsReplica', 'recoverDeadRelay', 'resizeInstance', 'restartInstance', 'switchPairActive', 'watchReplicationSet'].sort();
const fixtures = historyFixtures();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  installQuietRuntime();
  bundle = await bundleWorkflows();
});

test('the 0.1.0 baseline has fixtures for every workflow type it shipped, 0.2.0 for every type, and every fixture names one', () => {
  const typesOf = (version: string) => [...new Set(fixtures.filter((f) => f.version === version).map((f) => f.workflowType))].sort();
  expect(typesOf('0.1.0')).toEqual(RELEASED_0_1_0);
  expect(typesOf('0.2.0')).toEqual(WORKFLOW_TYPES);
  expect(fixtures.filter((f) => !WORKFLOW_TYPES.includes(f.workflowType))).toEqual([]);
});

test('the worker registers exactly these workflow types', () => {
  const exported = [...readFileSync(path.join(__dirname, '..', '..', 'workflows', 'index.ts'), 'utf8').matchAll(/^export \{ (\w+) \}/gm)].map((m) => m[1]);
  expect(exported.sort()).toEqual(WORKFLOW_TYPES);
});

test('no execution of the 0.1.0 baseline records a version marker (it has no patches)', () => {
  const marked = fixtures
    .filter((f) => f.version === '0.1.0')
    .filter((f) => readFileSync(path.join(HISTORIES_DIR, f.file), 'utf8').includes('markerRecordedEventAttributes'))
    .map((f) => f.file);
  expect(marked).toEqual([]);
});

// Through the payload codec, as a worker of today replays them: the fixtures' payloads are
// plain (recorded before encryption, or with plainPayloads), and must still decode.
const dataConverter = payloadDataConverter({ TROVE_PAYLOAD_KEYS: newPayloadKey('replay') });

test.each(fixtures.map((f) => f.file))('%s replays without nondeterminism (through the payload codec)', async (fixture) => {
  const history = JSON.parse(readFileSync(path.join(HISTORIES_DIR, fixture), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: bundle, replayName: fixture, dataConverter }, history);
});
