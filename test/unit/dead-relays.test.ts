// orchestrator's dead intermediate master recovery, as tables: which relay is gone, where its
// replicas go, and when the monitor acts.
import { deadRelays, decideRelayRecovery } from '../../lib/dead-relays';
import type { MemberHealth } from '../../lib/schemas';
import type { Topology } from '../../lib/topology';

/** s <- a <- b <- c, and s <- d. */
const t: Topology = {
  setId: 'set',
  members: ['s', 'a', 'b', 'c', 'd'].map((id) => ({ id, writable: id === 's' })),
  links: [
    { source: 's', replica: 'a' },
    { source: 'a', replica: 'b' },
    { source: 'b', replica: 'c' },
    { source: 's', replica: 'd' },
  ],
};

type Look = 'up' | 'gone' | 'lost' | 'cut';
/** up: reachable, replicating; gone: unreachable, agent silent; lost: its agent says its IO thread stopped; cut: only the orchestrator's path to it is cut. */
function health(looks: Record<string, Look>): MemberHealth[] {
  return Object.entries(looks).map(([id, look]) => ({
    instanceId: id, name: id, role: id === 's' ? 'source' : 'replica',
    reachable: look === 'up' || look === 'lost', agentAnswered: look !== 'gone',
    ioRunning: id === 's' || look === 'gone' ? null : look !== 'lost',
    sqlRunning: null, secondsBehind: null, transactionsBehind: null, gtidSlavePos: null, gtidIoPos: null, gtidBinlogPos: null,
    lastIoError: null, lastSqlError: null, readOnly: null, observedAt: 'T',
  }) as MemberHealth);
}

describe('deadRelays', () => {
  it.each<[string, Record<string, Look>, { relayId: string; moveTo: string; replicas: string[] }[]]>([
    ['all well', { s: 'up', a: 'up', b: 'up', c: 'up', d: 'up' }, []],
    ['relay a gone, its replica lost it: b moves to s', { s: 'up', a: 'gone', b: 'lost', c: 'up', d: 'up' }, [{ relayId: 'a', moveTo: 's', replicas: ['b'] }]],
    ['relay b gone: c moves to a (the nearest above)', { s: 'up', a: 'up', b: 'gone', c: 'lost', d: 'up' }, [{ relayId: 'b', moveTo: 'a', replicas: ['c'] }]],
    ['a and b gone: c moves past both, to s', { s: 'up', a: 'gone', b: 'gone', c: 'lost', d: 'up' }, [{ relayId: 'b', moveTo: 's', replicas: ['c'] }]],
    ['relay a unreachable but its replica still replicates: only the path is cut', { s: 'up', a: 'gone', b: 'up', c: 'up', d: 'up' }, []],
    ['relay a cut from the orchestrator but its agent answers', { s: 'up', a: 'cut', b: 'lost', c: 'up', d: 'up' }, []],
    ['its replica does not answer either: no evidence', { s: 'up', a: 'gone', b: 'gone', c: 'gone', d: 'up' }, []],
    ['the source is gone too: that is the failover\'s work', { s: 'gone', a: 'gone', b: 'lost', c: 'up', d: 'lost' }, []],
    ['a leaf replica gone is no relay', { s: 'up', a: 'up', b: 'up', c: 'gone', d: 'gone' }, []],
  ])('%s', (_, looks, expected) => expect(deadRelays(t, health(looks))).toEqual(expected));

  it('the passive side of a master-master pair gone is no relay (the active side replicates from it)', () => {
    const pair: Topology = {
      setId: 'set',
      members: [{ id: 's', writable: true }, { id: 'p', writable: false }, { id: 'r', writable: false }],
      links: [{ source: 's', replica: 'p' }, { source: 'p', replica: 's' }, { source: 's', replica: 'r' }],
      coMasters: ['p', 's'],
    };
    expect(deadRelays(pair, health({ s: 'lost', p: 'gone', r: 'up' }))).toEqual([]);
  });
});

describe('decideRelayRecovery', () => {
  const dead = [{ relayId: 'a', moveTo: 's', replicas: ['b'] }];
  it.each<[string, Record<string, string>, string, string[], Record<string, string>]>([
    ['first seen gone: wait', {}, '2026-12-03T00:00:00.000Z', [], { a: '2026-12-03T00:00:00.000Z' }],
    ['gone for less than failover_after: wait', { a: '2026-12-03T00:00:00.000Z' }, '2026-12-03T00:00:02.000Z', [], { a: '2026-12-03T00:00:00.000Z' }],
    ['gone for failover_after: recover, and forget it', { a: '2026-12-03T00:00:00.000Z' }, '2026-12-03T00:00:03.000Z', ['a'], {}],
  ])('%s', (_, since, now, recover, next) => {
    const r = decideRelayRecovery(dead, since, now, 3);
    expect(r.recover.map((d) => d.relayId)).toEqual(recover);
    expect(r.downSince).toEqual(next);
  });
  it('a relay seen alive again is forgotten', () => expect(decideRelayRecovery([], { a: '2026-12-03T00:00:00.000Z' }, '2026-12-03T00:00:09.000Z', 3)).toEqual({ recover: [], downSince: {} }));
});
