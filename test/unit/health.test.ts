// Health summary and the automatic failover decision, as tables of cases.
import { decideAutoFailover, nextPollDelayMs, type AutoFailoverInput } from '../../lib/failover';
import { assessSource, preflightFromHealth, promotePreflight, summarizeHealth, type ObservedStatus } from '../../lib/health';

const st = (o: Partial<ObservedStatus> = {}): ObservedStatus => ({
  ioRunning: true,
  sqlRunning: true,
  secondsBehind: 0,
  gtidSlavePos: '0-1-10',
  gtidIoPos: '0-1-10',
  gtidBinlogPos: '0-1-10',
  lastIoError: '',
  lastSqlError: '',
  readOnly: true,
  ...o,
});
const members = [
  { instanceId: 'm', name: 'master', role: 'source' as const },
  { instanceId: 'a', name: 'r1', role: 'replica' as const },
  { instanceId: 'b', name: 'r2', role: 'replica' as const },
];

test('replicas are measured against the source position; the source has no replica fields', () => {
  const h = summarizeHealth(members, { m: { reachable: true }, a: { reachable: true }, b: { reachable: false } }, { m: st({ gtidBinlogPos: '0-1-15', readOnly: false }), a: st({ gtidSlavePos: '0-1-12' }), b: null }, 'T');
  expect(h.find((x) => x.instanceId === 'm')).toMatchObject({ role: 'source', reachable: true, ioRunning: null, transactionsBehind: null, readOnly: false });
  expect(h.find((x) => x.instanceId === 'a')).toMatchObject({ transactionsBehind: 3, ioRunning: true, agentAnswered: true });
  expect(h.find((x) => x.instanceId === 'b')).toMatchObject({ reachable: false, agentAnswered: false, transactionsBehind: null });
});

test('the active side of a pair is the source and replicates too: its link to the passive side keeps threads and lag, and it judges nothing', () => {
  const pair = [{ ...members[0]!, replicates: true }, members[1]!];
  const h = summarizeHealth(pair, { m: { reachable: true }, a: { reachable: true } }, { m: st({ secondsBehind: 2, ioRunning: true, gtidBinlogPos: '0-1-15,7-7-3' }), a: st() }, 'T');
  expect(h.find((x) => x.instanceId === 'm')).toMatchObject({ role: 'source', ioRunning: true, secondsBehind: 2, transactionsBehind: null });
  expect(assessSource(h).replicasAnswering).toBe(1);
});

test.each([
  ['all replicas lost it', { m: null, a: st({ ioRunning: false }), b: st({ ioRunning: false }) }, false, true],
  ['one replica still replicates', { m: null, a: st({ ioRunning: false }), b: st() }, false, false],
  ['no replica answers: no agreement', { m: null, a: null, b: null }, false, false],
  ['an unanswering replica does not veto', { m: null, a: st({ ioRunning: false }), b: null }, false, true],
])('assessSource: %s', (_l, statuses, reachable, lost) => {
  const h = summarizeHealth(members, { m: { reachable }, a: { reachable: true }, b: { reachable: true } }, statuses, 'T');
  expect(assessSource(h)).toMatchObject({ sourceReachable: reachable, replicasLostSource: lost });
});

test('in a cascade (m -> a -> b) only the replicas of the source judge it: b still replicating from relay a is no veto', () => {
  const h = summarizeHealth(members, { m: { reachable: false }, a: { reachable: true }, b: { reachable: true } }, { m: null, a: st({ ioRunning: false }), b: st() }, 'T');
  expect(assessSource(h)).toMatchObject({ replicasLostSource: false });
  expect(assessSource(h, (id) => id === 'a')).toMatchObject({ sourceReachable: false, replicasLostSource: true, replicasAnswering: 1 });
  expect(assessSource(h, () => false)).toMatchObject({ replicasLostSource: false, replicasAnswering: 0 });
});

test.each([
  ['all replicating', { m: st(), a: st(), b: st() }, []],
  ['a replica stopped, with its error', { m: st(), a: st({ sqlRunning: false, lastSqlError: 'Duplicate entry' }), b: st() }, ['r1 (a) is not replicating: Duplicate entry']],
  ['a silent agent, and the source not replicating (it need not)', { m: st({ ioRunning: false }), a: st(), b: null }, ['r2 (b) does not answer']],
])('promotePreflight from the monitor\'s health: %s', (_l, statuses, problems) => {
  const h = summarizeHealth(members, { m: { reachable: true }, a: { reachable: true }, b: { reachable: true } }, statuses, 'T');
  expect(promotePreflight(preflightFromHealth(h))).toEqual(problems);
});

describe('decideAutoFailover', () => {
  const base: AutoFailoverInput = {
    autoFailover: true,
    failoverAfterSeconds: 3,
    quietPeriodSeconds: 600,
    lastFailoverAt: null,
    lastFailoverAcknowledged: true,
    sourceReachable: false,
    replicasLostSource: true,
    sourceDownSince: '2026-11-22T00:00:00.000Z',
    busy: false,
    now: '2026-11-22T00:00:05.000Z',
  };
  test.each<[string, Partial<AutoFailoverInput>, string, RegExp]>([
    ['healthy source', { sourceReachable: true }, 'none', /reachable/],
    ['only the orchestrator lost it', { replicasLostSource: false }, 'wait', /replicas still replicate/],
    ['down, but not long enough', { now: '2026-11-22T00:00:01.000Z' }, 'wait', /1.0 s of the 3 s/],
    ['first sighting starts the clock', { sourceDownSince: null }, 'wait', /0.0 s of the 3 s/],
    ['down long enough, replicas agree', {}, 'failover', /unreachable for 5.0 s/],
    ['automatic failover off', { autoFailover: false }, 'suppressed', /off/],
    ['another operation runs', { busy: true }, 'wait', /another operation/],
    ['a recent unacknowledged failover', { lastFailoverAt: '2026-11-21T23:59:00.000Z', lastFailoverAcknowledged: false }, 'suppressed', /quiet period 600 s\); acknowledge/],
    ['a recent acknowledged failover', { lastFailoverAt: '2026-11-21T23:59:00.000Z', lastFailoverAcknowledged: true }, 'failover', /unreachable/],
    ['an old unacknowledged failover', { lastFailoverAt: '2026-11-21T20:00:00.000Z', lastFailoverAcknowledged: false }, 'failover', /unreachable/],
  ])('%s -> %s', (_l, change, action, reason) => {
    const d = decideAutoFailover({ ...base, ...change });
    expect(d.action).toBe(action);
    expect(d.reason).toMatch(reason);
  });

  test('the clock resets when the source is seen again', () => {
    expect(decideAutoFailover({ ...base, sourceReachable: true }).sourceDownSince).toBeNull();
    expect(decideAutoFailover({ ...base, sourceDownSince: null }).sourceDownSince).toBe(base.now);
  });
});

describe('nextPollDelayMs', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 22, 0, 0, 0) + s * 1000).toISOString();
  const base = { pollSeconds: 2, failoverAfterSeconds: 1, sourceDownSince: null as string | null, observedAt: t(0), now: t(1) };
  test.each<[string, Partial<typeof base> & { minMs?: number }, number]>([
    ['healthy: the poll interval', {}, 2000],
    ['first sighting, poll took 1 s of a 1 s window: look again at once (floor)', { sourceDownSince: t(0) }, 200],
    ['first sighting, poll took 0.25 s of a 1 s window: the rest of the window', { sourceDownSince: t(0), now: t(0.25) }, 750],
    ['a window longer than the poll interval: the poll interval', { sourceDownSince: t(0), failoverAfterSeconds: 10 }, 2000],
    ['this poll already saw the whole window (busy, or replicas still replicate): normal', { sourceDownSince: t(-1), observedAt: t(0) }, 2000],
    ['a custom floor', { sourceDownSince: t(0), minMs: 50 }, 50],
  ])('%s', (_l, change, delay) => {
    expect(nextPollDelayMs({ ...base, ...change })).toBe(delay);
  });
});
