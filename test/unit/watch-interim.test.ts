// A survivor's interim watches of a dead worker's sets (activities/control/watch-interim.ts)
// on fake deps: a handed-over set is read and judged at once; the attempt that arrives on
// this worker goes on with the interim's connections and judgement (a source down long
// enough fails over at its first poll); an interim watch whose set another worker claimed
// stops; a set whose attempt runs here is never watched twice.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createInterimWatches } from '../../activities/control/watch-interim';
import { createWatchActivities, type WatchInput } from '../../activities/control/watch';
import { deadSourceDeps, fakeWatchDeps, replicatingStatus, watchedView } from '../helpers/watch-fakes';

const input: WatchInput = { setId: 'set', pollSeconds: 0.05, membership: null, memory: { sourceDownSince: null, relaysDownSince: {} }, checkpointSeconds: 60, leaseSeconds: 10, shown: ['s', 'r'] };
const options = (claimedBy: () => Map<string, string> = () => new Map()) => ({ workerId: 'me', claimedBy: async () => claimedBy(), pollSeconds: 0.05, leaseSeconds: 10, claimsEveryMs: 20, log: { warn: () => undefined } });
const until = async (what: () => boolean) => {
  while (!what()) await new Promise((r) => setTimeout(r, 10));
};

test("a handed-over set is read at once; the attempt arriving here takes its connections and judgement over: a source down for failover_after fails over at the attempt's first poll", async () => {
  const { deps, counts } = deadSourceDeps();
  const interim = createInterimWatches(deps, options());
  interim.start(['set']);
  await until(() => counts.stored > 0);
  expect(interim.size).toBe(1);
  // The source has been seen down for failover_after by the time the attempt comes.
  await new Promise((r) => setTimeout(r, 1100));
  const started = Date.now();
  const outcome = await new MockActivityEnvironment().run(createWatchActivities(deps, interim).watchSet, input);
  expect(outcome).toMatchObject({ kind: 'failover', decision: { action: 'failover' } });
  // Decided at the first poll, not after a failover_after of its own.
  expect(Date.now() - started).toBeLessThan(800);
  // One reader: the attempt read on the interim's connections, and closed them when it ended.
  expect(counts.readers).toBe(1);
  expect(counts.closed).toBe(1);
  expect(interim.size).toBe(0);
  await interim.stop();
});

test('an attempt that finds no interim watch starts its own; without one the source is judged down from its own first look', async () => {
  const { deps, counts } = deadSourceDeps();
  const interim = createInterimWatches(deps, options());
  const started = Date.now();
  const outcome = await new MockActivityEnvironment().run(createWatchActivities(deps, interim).watchSet, input);
  expect(outcome).toMatchObject({ kind: 'failover' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(counts.readers).toBe(1);
  await interim.stop();
});

test('an interim watch whose set another worker claimed stops and closes its connections', async () => {
  const { deps, counts } = deadSourceDeps();
  let claims = new Map<string, string>();
  const interim = createInterimWatches(deps, options(() => claims));
  interim.start(['set']);
  await until(() => counts.stored > 0);
  claims = new Map([['set', 'other-worker']]);
  await until(() => counts.closed > 0);
  expect(interim.size).toBe(0);
  await interim.stop();
});

test('a set whose attempt runs on this worker is not watched twice; after the attempt it may be', async () => {
  const deps = fakeWatchDeps();
  const interim = createInterimWatches(deps, options());
  expect(await interim.take('set')).toBeUndefined();
  interim.start(['set']);
  expect(interim.size).toBe(0);
  interim.release('set');
  interim.start(['set']);
  expect(interim.size).toBe(1);
  await interim.stop();
  expect(interim.size).toBe(0);
});

test('an interim watch ends with its set (dissolved) and closes its connections', async () => {
  let closed = 0;
  let reads = 0;
  const deps = fakeWatchDeps({
    describeSet: async () => (reads++ < 2 ? watchedView : undefined),
    statusReader: () => ({ read: async () => replicatingStatus, close: async () => void closed++ }),
  });
  const interim = createInterimWatches(deps, options());
  interim.start(['set']);
  await until(() => closed > 0);
  expect(interim.size).toBe(0);
  expect(await interim.take('set')).toBeUndefined();
  await interim.stop();
});
