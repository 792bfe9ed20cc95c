// Two orchestrator worker processes on a real Temporal and registry; the one running every
// watch is SIGKILLed. The survivor finds it absent from the registry and fails its watches'
// attempts: every set is read again in seconds, well inside the watch's 15 s heartbeat
// timeout, which would hand them over on its own only after that. Members are the bench's
// MySQL-protocol stand-ins (what is tested is the hand-over, not a member's server).
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { registerSets, StandInProcess, startWatches, startWorker, waitWatched } from '../../bench/watch-scale';
import { sleep, startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack;
let standIns: StandInProcess;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  env = await startTestStack({ parts: ['temporal', 'registry'] });
  standIns = await StandInProcess.start(path.join(env.dataDir, 'standins.log'));
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  standIns?.stop();
  await env?.stop();
});

const workerIdOf = async (pid: number) => ((await env.registry!.pool.query('SELECT worker_id FROM orchestrator_workers')) as any)[0].map((r: any) => r.worker_id as string).find((id: string) => id.split('/')[1] === String(pid));

test('a SIGKILLed worker: the survivor reads every set again within 6 s, and the claims name the survivor', async () => {
  const first = startWorker(env, path.join(env.dataDir, 'orchestrator-1.log'));
  workers.push(first.child);
  await first.polling;
  const sets = await registerSets(env, standIns, 5, 0);
  await startWatches(env, sets);
  expect((await waitWatched(env, sets, 60_000)).watched).toBe(sets.length);
  const firstId = await workerIdOf(first.child.pid!);
  const claimed = async () => ((await env.registry!.pool.query('SELECT set_id, worker_id FROM watch_claims WHERE set_id IN (?)', [sets.map((s) => s.setId)])) as any)[0] as { set_id: string; worker_id: string }[];
  expect((await claimed()).map((c) => c.worker_id)).toEqual(sets.map(() => firstId));

  const second = startWorker(env, path.join(env.dataDir, 'orchestrator-2.log'));
  workers.push(second.child);
  await second.polling;
  await sleep(2000);
  const killAt = Date.now();
  await standIns.call('POST', '/mark', { at: killAt });
  first.child.kill('SIGKILL');

  const ids = sets.flatMap((s) => [s.sourceId, s.replicaId]);
  let marked: Record<string, number> = {};
  while (Date.now() - killAt < 20_000 && !ids.every((id) => marked[id] !== undefined)) {
    await sleep(250);
    marked = await standIns.call<Record<string, number>>('GET', '/marked');
  }
  const again = Math.max(...ids.map((id) => (marked[id] ?? Infinity) - killAt)) / 1000;
  // The heartbeat timeout alone would take 15 s and more.
  expect(again).toBeLessThan(6);
  const secondId = await workerIdOf(second.child.pid!);
  expect((await claimed()).map((c) => c.worker_id)).toEqual(sets.map(() => secondId));
  // The dead worker is forgotten.
  expect(await workerIdOf(first.child.pid!)).toBeUndefined();
}, 180_000);
