// DR's pure rules (lib/dr.ts) and the zone-aware failover choice (lib/failover.ts): tables.
import { drDisablePlan, drProblems, drReplicaName } from '../../lib/dr';
import { chooseCandidate, lostZoneReplicas, lostZones, type ReplicaObservation } from '../../lib/failover';

const zones = ['az1', 'az2', 'az3'].map((name) => ({ name, hosts: [`${name}-h1`, `${name}-h2`] }));
const profile = { name: 'dr-az1-az2', primaryZone: 'az1', drZones: ['az2'] };
const standalone = { id: 'i1', name: 'db1', replicaOf: null };

describe('drProblems', () => {
  test.each([
    ['a known profile on create', { profileRef: 'dr-az1-az2', profile, zones }, []],
    ['a known profile on a standalone instance', { profileRef: 'dr-az1-az2', profile, zones, instance: standalone }, []],
    ['an unknown profile', { profileRef: 'nope', profile: undefined, zones }, ['f: zone profile "nope" does not exist (an administrator defines them; list them with zone-profile-list)']],
    [
      'a profile naming a zone Nova no longer has',
      { profileRef: 'p', profile: { ...profile, drZones: ['az9'] }, zones },
      ['f: zone profile "dr-az1-az2" names zone "az9", which does not exist (zones: az1, az2, az3)'],
    ],
    [
      'an instance that is a replica',
      { profileRef: 'p', profile, zones, instance: { ...standalone, replicaOf: 'src' } },
      ["f: instance db1 (i1) is a replica of src; DR is set up on the replication set's source"],
    ],
    [
      'a set already following a profile',
      { profileRef: 'p', profile, zones, instance: { ...standalone, zoneProfileName: 'other' } },
      ['f: the replication set of db1 already follows zone profile "other"; disable DR first'],
    ],
  ])('%s', (_, ask, expected) => {
    expect(drProblems(ask, 'f')).toEqual(expected);
  });
});

test('the DR replica is named after its source, within 64 characters', () => {
  expect(drReplicaName('db1')).toBe('db1-dr');
  expect(drReplicaName('x'.repeat(64))).toHaveLength(64);
});

describe('drDisablePlan', () => {
  const src = { id: 's', zone: 'az1', replicaOf: null, replicas: ['r1', 'dr'] };
  test.each([
    ['removes the DR replica, keeps the local one', [src, { id: 'r1', zone: 'az1', replicaOf: 's', replicas: [] }, { id: 'dr', zone: 'az2', replicaOf: 's', replicas: [] }], { remove: ['dr'], keepsReplicas: true }],
    ['the DR replica was the only one', [src, { id: 'dr', zone: 'az2', replicaOf: 's', replicas: [] }], { remove: ['dr'], keepsReplicas: false }],
    ['a DR-zone relay feeding others stays', [src, { id: 'dr', zone: 'az2', replicaOf: 's', replicas: ['x'] }, { id: 'x', zone: 'az2', replicaOf: 'dr', replicas: [] }], { remove: [], keepsReplicas: true }],
  ])('%s', (_, members, expected) => {
    expect(drDisablePlan(members, { drZones: ['az2'] })).toEqual(expected);
  });
});

describe('lostZones', () => {
  test.each([
    ['every member of az1 unreachable', [{ zone: 'az1', reachable: false }, { zone: 'az1', reachable: false }, { zone: 'az2', reachable: true }], ['az1']],
    ['a single crashed source beside a live replica in its zone', [{ zone: 'az1', reachable: false }, { zone: 'az1', reachable: true }, { zone: 'az2', reachable: true }], []],
    ['members without a zone are no zone', [{ zone: null, reachable: false }], []],
  ])('%s', (_, members, expected) => {
    expect(lostZones(members)).toEqual(expected);
  });
});

describe('lostZoneReplicas (fenced by the eject)', () => {
  const replicas = [
    { instanceId: 'local', zone: 'az1' },
    { instanceId: 'dr', zone: 'az2' },
    { instanceId: 'nozone', zone: null },
  ];
  test.each([
    ['the lost zone\'s replica, with why', ['az1'], { local: 'in lost zone az1' }],
    ['no zone lost: none', [], {}],
    ['two zones lost: both (never one without a zone)', ['az1', 'az2'], { local: 'in lost zone az1', dr: 'in lost zone az2' }],
  ])('%s', (_, lost, expected) => {
    expect(lostZoneReplicas(replicas, lost)).toEqual(expected);
  });
});

describe('chooseCandidate with zones', () => {
  const obs = (instanceId: string, order: number, zone: string, received: number, reachable = true): ReplicaObservation => ({
    instanceId,
    order,
    zone,
    reachable,
    ioPos: `0-1-${received}`,
    slavePos: `0-1-${received}`,
    binlogPos: `0-1-${received}`,
  });
  const order = ['az1', 'az2', 'az3'];
  test.each([
    ['no zones given: GTID, then the oldest', [obs('a', 0, 'az3', 5), obs('b', 1, 'az2', 5)], undefined, 'a', {}],
    ['equal positions: the profile orders zones (az2 before az3)', [obs('a', 0, 'az3', 5), obs('b', 1, 'az2', 5)], { order, lost: [] }, 'b', {}],
    ['the primary zone first while it survives', [obs('dr', 0, 'az2', 5), obs('local', 1, 'az1', 5)], { order, lost: [] }, 'local', {}],
    ['a lost zone is never promoted into, even the most advanced', [obs('local', 0, 'az1', 9), obs('dr', 1, 'az2', 5)], { order, lost: ['az1'] }, 'dr', { local: 'in lost zone az1' }],
    ['more received beats the zone order (no acknowledged write lost)', [obs('b', 0, 'az2', 5), obs('c', 1, 'az3', 7)], { order, lost: ['az1'] }, 'c', {}],
    ['nothing outside the lost zone: no candidate', [obs('local', 0, 'az1', 9, false)], { order, lost: ['az1'] }, undefined, { local: 'in lost zone az1' }],
  ])('%s', (_, replicas, zonesArg, candidate, excluded) => {
    const choice = chooseCandidate(replicas, zonesArg);
    expect(choice.candidate).toBe(candidate);
    expect(choice.excluded).toEqual(excluded);
  });
});
