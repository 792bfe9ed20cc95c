// A started stack answers its first request itself: every part's readiness is proved by the
// part (not by whatever accepts a TCP connection on its port), the orchestrator already polls,
// and a port another process holds stops the start, naming the part, instead of leaving
// that process to answer the stack's requests.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ORCHESTRATOR_TASK_QUEUE } from '../../lib/names';
import { freePort, startStack, type Stack } from '../../scripts/stack/stack';
import { startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack | undefined;
afterAll(async () => {
  await env?.stop();
});

test('once started: the orchestrator polls and the first POST is answered with its instance', async () => {
  env = await startTestStack();
  const queue = await env.connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: ORCHESTRATOR_TASK_QUEUE }, taskQueueType: 1 });
  const orchestratorPid = env.stack.parts.get('orchestrator')!.pid;
  expect((queue.pollers ?? []).map((p) => p.identity)).toContainEqual(expect.stringMatching(new RegExp(`^${orchestratorPid}@`)));

  const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'first', flavorRef: '1', volume: { size: 1 } } });
  expect(created).toMatchObject({ status: 202, body: { instance: { id: expect.any(String), name: 'first', status: 'BUILD' }, } });
  expect(await env.api('GET', `/v1.0/proj-a/instances/${created.body.instance.id}`)).toMatchObject({ status: 200, body: { instance: { name: 'first' } } });
}, 180_000);

describe('a port another process listens on', () => {
  let thief: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (thief ? thief.close(r) : r(undefined)));
    thief = undefined;
  });

  // What answered in its place before: Temporal's metrics endpoint says this to any other path.
  const listenOn = async (port: number) => {
    thief = createServer((_req, res) => res.writeHead(404).end('404 page not found\n'));
    await new Promise<void>((r) => thief!.listen(port, '127.0.0.1', r));
  };

  test.each(['nova', 'api'] as const)('the %s port: the stack does not start, and says which part and port', async (part) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'trove-test-'));
    const [temporalPort, temporalUiPort, registryPort, novaPort, apiPort] = (await Promise.all([0, 1, 2, 3, 4].map(() => freePort()))) as [number, number, number, number, number];
    const taken = part === 'nova' ? novaPort : apiPort;
    await listenOn(taken);
    const started = await startStack({ dataDir, temporalPort, temporalUiPort, registryPort, novaPort, apiPort, temporalInMemory: true, log: () => undefined }).catch((err: Error) => err);
    try {
      expect(started).toBeInstanceOf(Error);
      expect((started as Error).message).toBe(`${part} cannot listen on 127.0.0.1:${taken}: another process listens on it`);
    } finally {
      if (!(started instanceof Error)) await (started as Stack).stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
