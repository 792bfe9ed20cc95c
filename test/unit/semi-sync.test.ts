// Who acknowledges semi-sync writes (lib/semi-sync.ts), in every shape of set: tables.
import { semiSyncRole } from '../../lib/semi-sync';

describe('a plain or DR set', () => {
  const members = [
    { id: 's', zone: 'az1' },
    { id: 'local', zone: 'az1' },
    { id: 'dr', zone: 'az2' },
  ];
  const set = { semiSync: true, followsProfile: true, sourceId: 's', members };
  test.each([
    ['semi-sync off: nobody', { ...set, semiSync: false }, { s: 'off', local: 'off', dr: 'off' }],
    ['no profile: every replica acks', { ...set, followsProfile: false }, { s: 'source', local: 'replica', dr: 'replica' }],
    ['a DR set: only replicas outside the source zone ack', set, { s: 'source', local: 'off', dr: 'replica' }],
    ['a DR set with no replica outside the source zone: all ack', { ...set, members: members.slice(0, 2) }, { s: 'source', local: 'replica' }],
    ['after a failover to az2: the az1 replica is the one outside', { ...set, sourceId: 'dr' }, { s: 'replica', local: 'replica', dr: 'source' }],
    [
      'after az1 was lost: no replica outside az2 answers, so the source waits for no ack',
      { ...set, sourceId: 'dr', members: [{ id: 'dr', zone: 'az2' }, { id: 'local', zone: 'az1', reachable: false }] },
      { dr: 'off', local: 'replica' },
    ],
    ['a DR replica that answers keeps the source waiting for it', { ...set, members: [...members.slice(0, 2), { id: 'dr', zone: 'az2', reachable: true }] }, { s: 'source', dr: 'replica' }],
    ['no profile: an unreachable replica changes nothing (as before DR)', { ...set, followsProfile: false, members: [members[0]!, { id: 'dr', zone: 'az2', reachable: false }] }, { s: 'source', dr: 'replica' }],
  ])('%s', (_, s, expected) => {
    const ids = Object.keys(expected);
    expect(Object.fromEntries(ids.map((id) => [id, semiSyncRole(s, id)]))).toEqual(expected);
  });
});

describe('a master-master pair', () => {
  // b is active, a passive; r replicates from b, q from r.
  const members = ['a', 'b', 'r', 'q'].map((id) => ({ id, zone: 'az1' }));
  const pair = { semiSync: true, followsProfile: false, sourceId: 'b', peerId: 'a', members };
  test.each([
    ['semi-sync off', { ...pair, semiSync: false }, { a: 'off', b: 'off', r: 'off', q: 'off' }],
    ['only the passive side acknowledges (it takes over)', pair, { a: 'replica', b: 'source', r: 'off', q: 'off' }],
    ['in a DR profile too, the passive side alone', { ...pair, followsProfile: true, members: [...members.slice(0, 2), { id: 'r', zone: 'az2' }] }, { a: 'replica', b: 'source', r: 'off' }],
  ])('%s', (_, s, expected) => {
    const ids = Object.keys(expected);
    expect(Object.fromEntries(ids.map((id) => [id, semiSyncRole(s, id)]))).toEqual(expected);
  });
});
