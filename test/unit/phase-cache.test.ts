// api/phase-cache.ts: an instance's view waits a moment for its operation's phase, never for a
// slow query (issue 17: the API answered with a registry read as old as the query's wait).
import { PhaseCache } from '../../api/phase-cache';

const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));

test('a phase that answers within the wait is shown', async () => {
  const cache = new PhaseCache(async () => ({ phase: 'fencing the old source' }), 100);
  expect(await cache.phase('op')).toBe('fencing the old source');
});

test('a slow query: the view answers after the wait with the phase last learnt, and the query goes on for the next view', async () => {
  let answer = 'choosing a candidate';
  let asked = 0;
  const cache = new PhaseCache(() => {
    asked++;
    return later(200, { phase: answer });
  }, 50);
  const started = Date.now();
  expect(await cache.phase('op')).toBeUndefined();
  expect(Date.now() - started).toBeLessThan(150);
  await later(250, null);
  answer = 'moving replicas';
  const t = Date.now();
  expect(await cache.phase('op')).toBe('choosing a candidate');
  expect(Date.now() - t).toBeLessThan(150);
  expect(asked).toBe(2);
});

test('one query per operation in flight, whatever the number of views asking', async () => {
  let asked = 0;
  const cache = new PhaseCache(() => {
    asked++;
    return later(100, { phase: 'p' });
  }, 20);
  await Promise.all([cache.phase('op'), cache.phase('op'), cache.phase('op')]);
  expect(asked).toBe(1);
});

test('a failing query shows the phase last learnt', async () => {
  let fail = false;
  const cache = new PhaseCache(async () => {
    if (fail) throw new Error('no worker');
    return { phase: 'locking' };
  }, 50);
  expect(await cache.phase('op')).toBe('locking');
  fail = true;
  expect(await cache.phase('op')).toBe('locking');
});
