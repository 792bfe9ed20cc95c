// Orchestrator worker processes on a real Temporal and registry; the one running every watch
// dies. A survivor finds it gone in the registry, fails its watches' attempts and reads their
// sets at once (interim watches) until the retried attempts arrive and take them over: every
// set is read again in seconds, well inside the watch's heartbeat timeout (150 s), which would
// hand them over on its own only after that. A killed worker's registry session ends and frees its lock
// (seen at the survivor's next beat); a frozen one (SIGSTOP: a host that hangs, its connections
// open) is seen when it has been absent for 2 s, but its activity polls stay open at the
// Temporal server, which hands them retried attempts: the survivor fails those again by id.
// Members are the bench's MySQL-protocol
// stand-ins (what is tested is the hand-over, not a member's server).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { registerSets, StandInProcess, startWatches, startWorker, waitWatched, type BenchSet } from '../../bench/watch-scale';
import { monitorWorkflowId } from '../../lib/names';
import { temporalHandoverDeps, temporalIdentityOf } from '../../workers/watch-handover';
import { eventually, sleep, startTestStack, type TestStack } from '../helpers/stack';

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
const claimed = async (sets: BenchSet[]) => ((await env.registry!.pool.query('SELECT worker_id FROM watch_claims WHERE set_id IN (?) ORDER BY set_id', [sets.map((s) => s.setId)])) as any)[0].map((c: any) => c.worker_id as string);

async function worker(name: string): Promise<{ child: ChildProcess; log: string }> {
  const log = path.join(env.dataDir, `${name}.log`);
  const w = startWorker(env, log);
  workers.push(w.child);
  await w.polling;
  return { child: w.child, log };
}

/** Seconds from now until the survivor has read every member of the sets again on new connections. */
async function readAgainAfter(sets: BenchSet[], fault: () => void): Promise<{ at: number; again: number; perSet: number[] }> {
  const at = Date.now();
  await standIns.call('POST', '/mark', { at });
  fault();
  const ids = sets.flatMap((s) => [s.sourceId, s.replicaId]);
  let marked: Record<string, number> = {};
  while (Date.now() - at < 45_000 && !ids.every((id) => marked[id] !== undefined)) {
    await sleep(250);
    marked = await standIns.call<Record<string, number>>('GET', '/marked');
  }
  const perSet = sets.map((s) => (Math.max(marked[s.sourceId] ?? Infinity, marked[s.replicaId] ?? Infinity) - at) / 1000);
  return { at, again: Math.max(...perSet), perSet };
}

const handedOver = (log: string) => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('its watches handed over')).map((l) => JSON.parse(l) as { worker: string; why: string; time: number });

let sets: BenchSet[];

test('a frozen worker (SIGSTOP, its registry session open): handed over as absent within 4 s, the attempts its open polls took failed again, every set read again within 10 s', async () => {
  const first = await worker('orchestrator-1');
  sets = await registerSets(env, standIns, 30, 0);
  await startWatches(env, sets);
  expect((await waitWatched(env, sets, 60_000)).watched).toBe(sets.length);
  const firstId = await workerIdOf(first.child.pid!);
  expect(await claimed(sets)).toEqual(sets.map(() => firstId));

  const second = await worker('orchestrator-2');
  await sleep(2500);
  try {
    const { at, again, perSet } = await readAgainAfter(sets, () => first.child.kill('SIGSTOP'));
    const [handOver] = handedOver(second.log);
    expect(handOver).toMatchObject({ worker: firstId, why: 'absent' });
    expect((handOver!.time - at) / 1000).toBeLessThan(4);
    // Each of the frozen worker's open polls (10) may take one retried attempt; without the
    // second failure those waited for the heartbeat timeout (15 s then, 150 s now).
    expect(perSet.filter((t) => t < 6).length).toBeGreaterThanOrEqual(15);
    expect(again).toBeLessThan(10);
    // The survivor reads the sets at once (its interim watches), before the retried attempts
    // arrive: the ones the frozen worker's polls took are failed again from 2 s on, and then
    // every attempt runs on the survivor.
    const secondId = await workerIdOf(second.child.pid!);
    await eventually('the retried attempts the frozen polls took failed again', async () => readFileSync(second.log, 'utf8').includes('absent worker: retried watches its open polls took failed again') || undefined, 15_000);
    await eventually('every attempt claimed by the survivor', async () => {
      const by = await claimed(sets);
      return (by.length === sets.length && by.every((id: string) => id === secondId)) || undefined;
    }, 15_000);
  } finally {
    first.child.kill('SIGKILL');
  }
}, 180_000);

test('a SIGKILLed worker: its session ends, the survivor reads every set again within 3 s, the claims name it, the dead one is forgotten', async () => {
  const [second] = workers.slice(-1) as [ChildProcess];
  const secondId = await workerIdOf(second.pid!);
  const third = await worker('orchestrator-3');
  // A survivor judges by others' locks once its own has been held for the absence limit.
  await sleep(2500);
  const { again } = await readAgainAfter(sets, () => second.kill('SIGKILL'));
  expect(again).toBeLessThan(3);
  const thirdId = await workerIdOf(third.child.pid!);
  // Read at once by its interim watches; the retried attempts follow and claim the sets.
  await eventually('every attempt claimed by the survivor', async () => {
    const by = await claimed(sets);
    return (by.length === sets.length && by.every((id: string) => id === thirdId)) || undefined;
  }, 15_000);
  expect(handedOver(third.log)).toEqual([expect.objectContaining({ worker: secondId, why: 'session ended' })]);
  expect(await workerIdOf(second.pid!)).toBeUndefined();
}, 180_000);

/** A worker that takes watch attempts and never claims them (test/helpers/claimless-worker.ts). */
async function claimlessWorker(): Promise<{ child: ChildProcess; identity: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'helpers', 'claimless-worker.ts')], { env: { ...process.env, ...env.stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(child);
  child.stderr!.pipe(createWriteStream(path.join(env.dataDir, 'claimless-worker.log')));
  const workerId = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"workerId":"([^"]+)","msg":"claimless worker polling"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`claimless worker exited with ${code}`)));
  });
  return { child, identity: temporalIdentityOf(workerId) };
}

test('a worker killed holding attempts it took and never claimed: the survivor finds them among the unclaimed sets by its identity, and every set is claimed again within 10 s', async () => {
  const [third] = workers.slice(-1) as [ChildProcess];
  const survivor = await worker('orchestrator-4');
  const claimless = await claimlessWorker();
  await sleep(2500);
  // The dead worker's retried attempts go to the survivor's polls or the claimless worker's.
  third.kill('SIGKILL');
  const survivorId = await workerIdOf(survivor.child.pid!);
  const temporal = temporalHandoverDeps(env.temporal);
  const heldByClaimless = async () => (await Promise.all(sets.map((s) => temporal.strandedOn(monitorWorkflowId(s.setId), claimless.identity)))).filter(Boolean).length;
  const held = await eventually('every attempt claimed by the survivor or held by the claimless worker', async () => {
    const [by, n] = [await claimed(sets), await heldByClaimless()];
    return by.every((id: string) => id === survivorId) && by.length + n === sets.length ? n : undefined;
  }, 30_000);
  expect(held).toBeGreaterThan(0);
  const killedAt = Date.now();
  claimless.child.kill('SIGKILL');
  await eventually('every attempt claimed by the survivor', async () => {
    const by = await claimed(sets);
    return (by.length === sets.length && by.every((id: string) => id === survivorId)) || undefined;
  }, 10_000);
  expect((Date.now() - killedAt) / 1000).toBeLessThan(10);
  expect(readFileSync(survivor.log, 'utf8')).toContain('gone worker: watches it took and never claimed failed');
}, 180_000);
