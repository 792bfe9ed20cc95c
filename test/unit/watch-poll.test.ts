// The watch activity's poll loop (activities/control/watch.ts) on fake deps: a lost connection
// while a poll waits for its set's batched view reads the view alone at once, so the look the
// loss wakes is not held behind the batch (issue 17, detection at 1,000 sets); while the source
// looks down, the view for the look that may fail it over is read ahead of it; a set's source
// is read without its replication status, which its health does not use.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SetView } from '../../activities/registry/views';
import { createSetPoller } from '../../activities/control/set-poller';
import { createWatchActivities, type WatchDeps, type WatchInput } from '../../activities/control/watch';
import { deadSourceDeps, fakeWatchDeps, replicatingStatus as ok, watchedView as view } from '../helpers/watch-fakes';

const input: WatchInput = { setId: 'set', pollSeconds: 0.05, membership: null, memory: { sourceDownSince: null, relaysDownSince: {} }, checkpointSeconds: 60, leaseSeconds: 10, shown: ['s', 'r'] };

test('a connection lost while the poll waits for its batched view: the view is read alone at once', async () => {
  const asked: string[] = [];
  let batchedReads = 0;
  let lost: ((id: string) => void) | undefined;
  const deps: WatchDeps = fakeWatchDeps({
    async describeSet(_id, urgent) {
      asked.push(urgent ? 'urgent' : 'batched');
      if (urgent) return undefined; // the set dissolved: the watch ends on this read
      // The first poll's batch answers; the second's never does (a batch held on a busy worker).
      return batchedReads++ === 0 ? view : new Promise<never>(() => undefined);
    },
    statusReader(onLost) {
      lost = onLost;
      return { read: async () => ok, close: async () => undefined };
    },
  });
  const running = new MockActivityEnvironment().run(createWatchActivities(deps).watchSet, input);
  while (batchedReads < 2) await new Promise((r) => setTimeout(r, 10));
  expect(asked).toEqual(['batched', 'batched']);
  lost!('s');
  await expect(running).resolves.toEqual({ kind: 'dissolved' });
  expect(asked).toEqual(['batched', 'batched', 'urgent']);
});

test.each([
  ['a source and its replica', view, { s: false, r: true }],
  ['a master-master pair: the active side replicates from the passive one', { ...view, topology: { ...view.topology, links: [...view.topology.links, { source: 'r', replica: 's' }], coMasters: ['s', 'r'] } } as SetView, { s: true, r: true }],
])('%s: which members are read with their replication status', async (_name, shape, expected) => {
  const linkRead: Record<string, boolean | undefined> = {};
  let reads = 0;
  const deps = fakeWatchDeps({
    // The first poll's view, then the set dissolves: the watch ends after one look.
    describeSet: async () => (reads++ === 0 ? shape : undefined),
    statusReader: () => ({
      read: async (t) => {
        linkRead[t.instanceId] = t.link;
        return ok;
      },
      close: async () => undefined,
    }),
  });
  await expect(new MockActivityEnvironment().run(createWatchActivities(deps).watchSet, input)).resolves.toEqual({ kind: 'dissolved' });
  expect(linkRead).toEqual(expected);
});

test('a source that looks down: the view for the look that may fail it over is read ahead of that look, which waits only for the members', async () => {
  const events: { what: string; at: number }[] = [];
  const { deps } = deadSourceDeps({
    describeSet: async () => {
      events.push({ what: 'view', at: Date.now() });
      return view;
    },
  });
  const reader = deps.statusReader;
  deps.statusReader = (lost) => {
    const r = reader(lost);
    return { ...r, read: (t, pw) => (events.push({ what: `read ${t.instanceId}`, at: Date.now() }), r.read(t, pw)) };
  };
  // Polls a second apart: the look after the one that saw the source down comes at failover_after (1 s).
  await expect(new MockActivityEnvironment().run(createWatchActivities(deps).watchSet, { ...input, pollSeconds: 1 })).resolves.toMatchObject({ kind: 'failover' });
  // The last look (the one that failed over) and the view it judged by.
  const lastRead = events.filter((e) => e.what === 'read r').pop()!;
  const itsView = events.filter((e) => e.what === 'view' && e.at <= lastRead.at).pop()!;
  expect(lastRead.at - itsView.at).toBeGreaterThanOrEqual(400);
  expect(lastRead.at - itsView.at).toBeLessThan(700);
});

test("a failover does not wait for the health's write (queued behind other sets' on a busy worker)", async () => {
  let stores = 0;
  let replicaReads = 0;
  const { deps } = deadSourceDeps({
    // The first look's health is written; the next write (the replica lost the source too) never completes.
    storeHealth: () => (stores++ === 0 ? Promise.resolve() : new Promise<never>(() => undefined)),
    statusReader: () => ({
      read: async (t) => {
        if (t.instanceId === 's') throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        // The replica's IO thread notices a moment after the orchestrator does.
        return replicaReads++ === 0 ? ok : { ...ok, ioRunning: false, lastIoError: 'error reconnecting to master' };
      },
      close: async () => undefined,
    }),
  });
  await expect(new MockActivityEnvironment().run(createWatchActivities(deps).watchSet, { ...input, pollSeconds: 1 })).resolves.toMatchObject({ kind: 'failover' });
  expect(stores).toBe(2);
}, 10_000);

test('the look due once failover_after has passed comes after it, though timers fire early (a busy event loop): it fails over, not waits another 200 ms', async () => {
  const { deps } = deadSourceDeps();
  const poller = createSetPoller(deps, 'set', { sourceDownSince: null, relaysDownSince: {} });
  const first = await poller.poll(null);
  expect(first.kind === 'polled' && first.judged.decision.action).toBe('wait');
  // Every timer fires 40 ms before it is due by the wall clock.
  const early = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms - 40)));
  await poller.rest(1, early);
  const second = await poller.poll(null);
  expect(second.kind === 'polled' && second.judged.decision.action).toBe('failover');
  await poller.close();
});
