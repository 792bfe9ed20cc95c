// GTID arithmetic and failover candidate choice, as tables of cases.
import { chooseCandidate, type ReplicaObservation } from '../../lib/failover';
import { compareGtid, errantDomains, errantTransactions, formatGtidPosition, includes, parseGtidList, parseGtidPosition, transactionsBehind, stillToApply } from '../../lib/gtid';

const p = parseGtidPosition;

describe('parseGtidPosition', () => {
  test.each([
    ['', ''],
    ['0-101-12', '0-101-12'],
    [' 1-102-5 , 0-101-12 ', '0-101-12,1-102-5'],
    ['0-101-12,\n1-102-5', '0-101-12,1-102-5'],
  ])('%p parses and formats as %p', (text, formatted) => {
    expect(formatGtidPosition(p(text))).toBe(formatted);
  });

  test.each([['0-101'], ['a-b-c'], ['0-101-12,0-102-13'], ['0-101-12;1-1-1'], ['uuid:1-5']])('%p is refused', (text) => {
    expect(() => p(text)).toThrow(/GTID|twice/);
  });
});

describe('comparisons', () => {
  test.each([
    ['0-1-5', '0-1-5', 'equal'],
    ['0-1-6', '0-1-5', 'ahead'],
    ['0-1-4', '0-1-5', 'behind'],
    ['0-2-9', '0-1-5', 'ahead'], // another server wrote later in the same domain
    ['0-1-5,1-1-3', '0-1-5', 'ahead'],
    ['0-1-5', '0-1-5,1-1-3', 'behind'],
    ['0-1-6,1-1-2', '0-1-5,1-1-3', 'diverged'],
    ['', '', 'equal'],
    ['', '0-1-1', 'behind'],
  ])('%p against %p is %p', (a, b, expected) => {
    expect(compareGtid(p(a), p(b))).toBe(expected);
  });

  test.each([
    ['0-1-5', '0-1-9', 4],
    ['0-1-9', '0-1-5', 0],
    ['0-1-5', '0-1-9,1-1-3', 7],
    ['', '0-1-2,1-1-2', 4],
  ])('%p is %p transactions behind', (replica, source, n) => {
    expect(transactionsBehind(p(replica), p(source))).toBe(n);
  });

  test('includes is per domain', () => {
    expect(includes(p('0-1-5,1-1-3'), p('1-1-3'))).toBe(true);
    expect(includes(p('0-1-5'), p('1-1-1'))).toBe(false);
  });

  test.each([
    ['0-101-10', '0-101-10', []],
    ['0-102-11', '0-101-10', [0]], // wrote locally after the last replicated event
    ['0-101-10,7-102-1', '0-101-10', [7]], // a domain replication never gave it
    ['', '0-101-10', []],
  ])('binlog %p with replicated %p: errant domains %p', (binlog, replicated, domains) => {
    expect(errantDomains(p(binlog), p(replicated))).toEqual(domains);
  });
});

describe('chooseCandidate', () => {
  const r = (instanceId: string, order: number, ioPos: string, slavePos = ioPos, extra: Partial<ReplicaObservation> = {}): ReplicaObservation => ({
    instanceId,
    order,
    reachable: true,
    ioPos,
    slavePos,
    binlogPos: slavePos,
    ...extra,
  });

  test.each<[string, ReplicaObservation[], string | undefined, Record<string, RegExp>]>([
    ['the only replica', [r('a', 1, '0-1-5')], 'a', {}],
    ['the one that received more', [r('a', 1, '0-1-5'), r('b', 2, '0-1-7')], 'b', {}],
    ['received beats executed: b has more in its relay log', [r('a', 1, '0-1-6', '0-1-6'), r('b', 2, '0-1-8', '0-1-3')], 'b', {}],
    ['tied: the older member', [r('a', 1, '0-1-5'), r('b', 2, '0-1-5')], 'a', {}],
    ['tied: creation order, not list order', [r('b', 2, '0-1-5'), r('a', 1, '0-1-5')], 'a', {}],
    ['tied on received: the one that executed more', [r('a', 1, '0-1-9', '0-1-4'), r('b', 2, '0-1-9', '0-1-8')], 'b', {}],
    ['lagging replicas lose', [r('a', 1, '0-1-2'), r('b', 2, '0-1-3'), r('c', 3, '0-1-9')], 'c', {}],
    ['unreachable ones are set aside', [r('a', 1, '0-1-9', '0-1-9', { reachable: false }), r('b', 2, '0-1-5')], 'b', { a: /unreachable/ }],
    ['errant ones are set aside', [r('a', 1, '0-1-9', '0-1-9', { binlogPos: '0-7-10' }), r('b', 2, '0-1-5')], 'b', { a: /errant transactions in domain\(s\) 0/ }],
    ['several domains: the one ahead in every domain', [r('a', 1, '0-1-5,1-2-4'), r('b', 2, '0-1-5,1-2-6')], 'b', {}],
    ['a domain only one replica has', [r('a', 1, '0-1-5'), r('b', 2, '0-1-5,1-2-1')], 'b', {}],
    ['unreadable positions are set aside', [r('a', 1, 'garbage'), r('b', 2, '0-1-1')], 'b', { a: /unreadable/ }],
    ['nobody eligible', [r('a', 1, '0-1-5', '0-1-5', { reachable: false })], undefined, { a: /unreachable/ }],
  ])('%s', (_label, replicas, expected, excluded) => {
    const choice = chooseCandidate(replicas);
    expect(choice.candidate).toBe(expected);
    for (const [id, why] of Object.entries(excluded)) expect(choice.excluded[id]).toMatch(why);
    expect(Object.keys(choice.excluded).sort()).toEqual(Object.keys(excluded).sort());
  });

  test('the ranking says how far behind the best each eligible replica is', () => {
    const choice = chooseCandidate([r('a', 1, '0-1-5'), r('b', 2, '0-1-9')]);
    expect(choice.ranking).toEqual([
      { instanceId: 'b', received: '0-1-9', behindBest: 0 },
      { instanceId: 'a', received: '0-1-5', behindBest: 4 },
    ]);
  });
});

describe('errantTransactions (a former source against the current source)', () => {
  const errant = (own: string, known: string) => errantTransactions(parseGtidList(own), parseGtidList(known)).map((r) => r.gtids);
  test.each([
    // the old source wrote 0-101-43 after the last the new source received (0-101-42); the new source wrote on
    ['0-101-43', '0-101-42,0-102-60', ['0-101-43']],
    ['0-101-45', '0-101-42,0-102-60', ['0-101-43..0-101-45']],
    // nothing errant: the new source has all of it, and wrote more
    ['0-101-42', '0-101-42,0-102-60', []],
    ['0-101-42', '0-101-42', []],
    ['', '0-102-5', []],
    // the old source had replicated from another server before: that server's GTIDs are not its own errant ones
    ['0-102-10,0-101-43', '0-102-60,0-101-42', ['0-101-43']],
    // the new source was restored from a snapshot and never binlogged the old source's: its replica position counts
    ['0-101-50', '0-101-50', []],
    // nothing of that server known at all: every one of its transactions up to its last
    ['0-101-3', '0-102-9', ['0-101-1..0-101-3']],
    // per domain
    ['0-101-5,1-101-7', '0-101-5,1-101-6', ['1-101-7']],
  ])('%p against %p: %p', (own, known, expected) => {
    expect(errant(own, known)).toEqual(expected);
  });

  test('positions alone would call the old source behind, missing its errant transaction', () => {
    expect(compareGtid(parseGtidPosition('0-101-43'), parseGtidPosition('0-102-60'))).toBe('behind');
    expect(errant('0-101-43', '0-101-42,0-102-60')).toEqual(['0-101-43']);
  });

  test('the range carries its bounds', () => {
    expect(errantTransactions(parseGtidList('0-101-45'), parseGtidList('0-101-42'))).toEqual([{ domain: 0, server: 101, afterSeq: 42, lastSeq: 45, gtids: '0-101-43..0-101-45' }]);
  });
});

describe('stillToApply (what a pair side waits for before it opens)', () => {
  it.each([
    ['nothing missing', '0-1-5,11-11-3', '0-1-5,11-11-3,12-12-9', ''],
    ['behind in the other side\'s domain', '0-1-5,11-11-7', '0-1-5,11-11-3,12-12-9', '11-11-7'],
    ['its own writes are in its binlog, never in its slave position', '0-1-5,11-11-7,12-12-9', '0-1-5,11-11-7,12-12-9', ''],
    ['a domain it never saw', '0-1-5,13-13-1', '0-1-5', '13-13-1'],
  ])('%s', (_, target, own, rest) => expect(stillToApply(target, own)).toBe(rest));
});
