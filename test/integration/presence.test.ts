// The worker's presence beat on its own thread (workers/presence.ts) against a real registry:
// a main thread busy past the absence limit does not stop it (at 1,000 sets a live worker was
// taken for absent and its watches handed over), a hung one does, and leaving frees the lock.
import { randomUUID } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { startPresence, type Presence, type PresenceBeat } from '../../workers/presence';
import { startTestStack, sleep, type TestStack } from '../helpers/stack';

let env: TestStack;
const started: Presence[] = [];

beforeAll(async () => {
  env = await startTestStack({ parts: ['registry'] });
}, 120_000);

afterAll(async () => {
  for (const p of started) await p.leave();
  await env?.stop();
});

const connection = () => ({ host: '127.0.0.1', port: env.ports[2]!, user: 'trove', password: env.stack.env.TROVE_REGISTRY_PASSWORD!, database: 'trove' });
const log = { info: () => undefined, warn: () => undefined };

function present(workerId: string, o: { stallMs?: number } = {}) {
  const beats: PresenceBeat[] = [];
  const p = startPresence(workerId, connection(), { everyMs: 100, log, onBeat: (b) => beats.push(b), ...o });
  started.push(p);
  return { p, beats };
}

/** The main thread does nothing else for ms (a worker whose event loop is taken by its polls, or hung). */
function block(ms: number): { from: number; to: number } {
  const from = Date.now();
  while (Date.now() - from < ms) {
    /* busy */
  }
  return { from, to: Date.now() };
}

async function lockHolder(workerId: string): Promise<number | null> {
  const [[r]] = await env.registry!.pool.query<RowDataPacket[]>("SELECT IS_USED_LOCK(CONCAT('trove-watch:', SHA1(?))) AS id", [workerId]);
  return (r!.id as number | null) ?? null;
}

async function held(p: Presence): Promise<void> {
  for (let i = 0; i < 100 && p.lockHeldSince() === null; i++) await sleep(100);
  expect(p.lockHeldSince()).not.toBeNull();
}

test('a main thread busy for 3 s: the worker stays present (its beats written every ~0.1 s), holding its lock', async () => {
  const id = randomUUID();
  const { p, beats } = present(id);
  await held(p);
  const { from, to } = block(3000);
  await sleep(300);
  const during = beats.filter((b) => b.at >= from && b.at <= to);
  expect(during.length).toBeGreaterThan(10);
  expect(during.every((b) => !b.error && !b.stalled && b.since !== null)).toBe(true);
  const gaps = during.slice(1).map((b, i) => b.at - during[i]!.at);
  expect(Math.max(...gaps)).toBeLessThan(1000);
  // The absence limit (2 s) has not passed for it: not listed, although its main thread wrote nothing for 3 s.
  const set = randomUUID();
  await env.registry!.watchClaims.claim(id, [{ setId: set, workflowId: 'wf-busy', taskToken: new Uint8Array([1]) }]);
  expect((await env.registry!.watchClaims.absent(2000)).has(id)).toBe(false);
  await env.registry!.watchClaims.release([{ setId: set, taskToken: new Uint8Array([1]) }]);
  expect(await lockHolder(id)).not.toBeNull();
});

test('a main thread hung past the stall limit: the beats stop, so the other workers find it absent', async () => {
  const id = randomUUID();
  const { p, beats } = present(id, { stallMs: 1000 });
  await held(p);
  const { from, to } = block(3000);
  await sleep(300);
  const written = beats.filter((b) => b.at >= from + 1300 && b.at <= to && !b.stalled);
  const stalled = beats.filter((b) => b.at >= from && b.at <= to && b.stalled);
  expect(written).toEqual([]);
  expect(stalled.length).toBeGreaterThan(5);
  // Pinged again: it beats again.
  const after = beats.length;
  await sleep(500);
  expect(beats.slice(after).some((b) => !b.stalled && !b.error)).toBe(true);
});

test('leaving frees the lock at once and ends the beats', async () => {
  const id = randomUUID();
  const { p, beats } = present(id);
  await held(p);
  expect(await lockHolder(id)).not.toBeNull();
  await p.leave();
  started.splice(started.indexOf(p), 1);
  expect(await lockHolder(id)).toBeNull();
  expect(p.lockHeldSince()).toBeNull();
  const after = beats.length;
  await sleep(400);
  expect(beats.length).toBe(after);
});
