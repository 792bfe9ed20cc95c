import { busy, check, checkCreateTimePair, checkDeleteBackup, checkEject, locksFor, refusalText, type Facts, type OperationType, type ResizeRequest } from '../../lib/rules';
import type { Topology } from '../../lib/topology';
import { facts, free, held } from '../helpers/facts';

const limits = { maxReplicas: 10, maxDepth: 1 };

describe('the rulebook', () => {
  it.each<[string, OperationType, Facts, { count?: number; operationId?: string; resize?: ResizeRequest }, string | undefined, RegExp | undefined]>([
    ['replicas of a standalone instance', 'createReplicas', facts('x', { inSet: false }), { count: 2 }, undefined, undefined],
    ['more replicas of a source', 'createReplicas', facts('s'), { count: 2 }, undefined, undefined],
    ['too many replicas', 'createReplicas', facts('s'), { count: 11 }, 'invalid', /^count: must be at most 10/],
    ['replicas of a replica', 'createReplicas', facts('a'), {}, 'invalid', /^source: instance a is 1 link\(s\) from its set's source; its replicas would be deeper than the 1 allowed/],
    ['replicas of an instance still building', 'createReplicas', facts('x', { inSet: false, status: 'BUILD' }), {}, 'conflict', /is BUILD, not ACTIVE/],
    ['replicas of a busy set', 'createReplicas', facts('s', { setLock: held('op-1', 'promoteToReplicaSource') }), {}, 'conflict', /set s is busy with operation op-1/],
    ['replicas when the caller already holds the set (a retry)', 'createReplicas', facts('s', { setLock: held('op-1', 'createReplicas') }), { operationId: 'op-1' }, undefined, undefined],
    ['detach a replica', 'detachReplica', facts('a'), {}, undefined, undefined],
    ['detach a source', 'detachReplica', facts('s'), {}, 'invalid', /not a replica; there is nothing to detach/],
    ['detach a standalone instance', 'detachReplica', facts('x', { inSet: false }), {}, 'invalid', /not a replica/],
    ['promote a replica', 'promoteToReplicaSource', facts('a'), {}, undefined, undefined],
    ['promote a source', 'promoteToReplicaSource', facts('s'), {}, 'invalid', /only a replica can be promoted/],
    ['eject a replica', 'ejectReplicaSource', facts('a'), {}, 'invalid', /eject the source it replicates from \(s\)/],
    ['eject a standalone instance', 'ejectReplicaSource', facts('x', { inSet: false }), {}, 'invalid', /nothing to eject/],
    ['delete a source with replicas', 'deleteInstance', facts('s'), {}, 'invalid', /source of 1 replica\(s\); detach or delete them first/],
    ['delete a replica', 'deleteInstance', facts('a'), {}, undefined, undefined],
    ['delete a replica behind another delete', 'deleteInstance', facts('a', { setLock: held('delete-instance-b', 'deleteInstance') }), {}, 'wait', /busy with operation delete-instance-b/],
    ['delete a replica during a promote', 'deleteInstance', facts('a', { setLock: held('p', 'promoteToReplicaSource') }), {}, 'conflict', /busy/],
    ['delete an instance another operation holds', 'deleteInstance', facts('x', { inSet: false, lock: held('prov', 'provisionInstance') }), {}, 'conflict', /instance x is busy with operation prov/],
    ['delete it again (the same delete)', 'deleteInstance', facts('x', { inSet: false, lock: held('d', 'deleteInstance') }), { operationId: 'd' }, undefined, undefined],
    ['restart a standalone instance', 'restartInstance', facts('x', { inSet: false }), {}, undefined, undefined],
    ['restart a source', 'restartInstance', facts('s'), {}, undefined, undefined],
    ['restart a replica', 'restartInstance', facts('a'), {}, undefined, undefined],
    ['restart an instance in ERROR', 'restartInstance', facts('x', { inSet: false, status: 'ERROR' }), {}, 'conflict', /is ERROR, not ACTIVE/],
    ['restart during a promote of its set', 'restartInstance', facts('a', { setLock: held('p', 'promoteToReplicaSource') }), {}, 'conflict', /set s is busy with operation p/],
    ['restart an instance being deleted', 'restartInstance', facts('x', { inSet: false, lock: held('d', 'deleteInstance') }), {}, 'conflict', /instance x is busy with operation d/],
    ['resize to another flavor', 'resizeInstance', facts('x', { inSet: false }), { resize: { flavorId: '7' } }, undefined, undefined],
    ['resize to the same flavor', 'resizeInstance', facts('x', { inSet: false }), { resize: { flavorId: '1' } }, 'invalid', /^flavor: must differ from the instance's current flavor "1"/],
    ['grow the volume', 'resizeInstance', facts('x', { inSet: false }), { resize: { volumeSize: 3 } }, undefined, undefined],
    ['keep the volume size', 'resizeInstance', facts('x', { inSet: false }), { resize: { volumeSize: 2 } }, 'invalid', /^volume: must be larger than the current volume size of 2 GB/],
    ['shrink the volume', 'resizeInstance', facts('x', { inSet: false }), { resize: { volumeSize: 1 } }, 'invalid', /^volume: must be larger/],
    ['resize both at once', 'resizeInstance', facts('x', { inSet: false }), { resize: { flavorId: '7', volumeSize: 3 } }, 'invalid', /exactly one of a new flavor and a new volume size/],
    ['resize nothing', 'resizeInstance', facts('x', { inSet: false }), { resize: {} }, 'invalid', /exactly one/],
    ['grow a source’s volume (its replicas grow with it)', 'resizeInstance', facts('s'), { resize: { volumeSize: 3 } }, undefined, undefined],
    ['grow a replica’s volume (Trove allows it: it stays at least its source’s)', 'resizeInstance', facts('a'), { resize: { volumeSize: 3 } }, undefined, undefined],
    ['resize a replica’s flavor', 'resizeInstance', facts('a'), { resize: { flavorId: '7' } }, undefined, undefined],
    ['resize an instance still building', 'resizeInstance', facts('x', { inSet: false, status: 'BUILD' }), { resize: { flavorId: '7' } }, 'conflict', /is BUILD, not ACTIVE/],
    ['resize a replica during an eject', 'resizeInstance', facts('a', { setLock: held('e', 'ejectReplicaSource') }), { resize: { volumeSize: 3 } }, 'conflict', /set s is busy with operation e/],
    ['resize it again (the same resize, retried)', 'resizeInstance', facts('x', { inSet: false, lock: held('r', 'resizeInstance') }), { operationId: 'r', resize: { flavorId: '7' } }, undefined, undefined],
    ['TLS for a set, asked of its source', 'enableReplicationTls', facts('s'), {}, undefined, undefined],
    ['TLS for a set, asked of a replica', 'enableReplicationTls', facts('a'), {}, undefined, undefined],
    ['TLS for a standalone instance', 'enableReplicationTls', facts('x', { inSet: false }), {}, 'invalid', /instance x is not in a replication set; TLS replication is turned on for a set/],
    ['TLS for a set during a promote', 'enableReplicationTls', facts('a', { setLock: held('p', 'promoteToReplicaSource') }), {}, 'conflict', /set s is busy with operation p/],
    ['TLS again (the same enable, retried)', 'enableReplicationTls', facts('s', { setLock: held('t', 'enableReplicationTls') }), { operationId: 't' }, undefined, undefined],
  ])('%s', (_, type, f, a, kind, message) => {
    const r = check(type, f, a, limits);
    expect(r?.kind).toBe(kind);
    if (message) expect(refusalText(r!)).toMatch(message);
  });

  // A cascade s -> a -> b under a depth limit of 2 (TROVE_MAX_DEPTH).
  const chain: Topology = { setId: 's', members: [{ id: 's', writable: true }, { id: 'a', writable: false }, { id: 'b', writable: false }], links: [{ source: 's', replica: 'a' }, { source: 'a', replica: 'b' }] };
  const inChain = (id: string): Facts => ({ instance: { id, status: 'ACTIVE', lock: free, setId: 's' }, topology: chain, setLock: free });
  it.each<[string, OperationType, string, string | undefined, RegExp | undefined]>([
    ['replicas of a replica one link deep', 'createReplicas', 'a', undefined, undefined],
    ['replicas of a replica at the depth limit', 'createReplicas', 'b', 'invalid', /^source: instance b is 2 link\(s\) from its set's source; its replicas would be deeper than the 2 allowed \(TROVE_MAX_DEPTH\)/],
    ['detach a relay (its replicas move up)', 'detachReplica', 'a', undefined, undefined],
    ['delete a relay', 'deleteInstance', 'a', 'invalid', /source of 1 replica\(s\); detach or delete them first/],
    ['promote a replica two links deep', 'promoteToReplicaSource', 'b', undefined, undefined],
  ])('cascade: %s', (_, type, id, kind, message) => {
    const r = check(type, inChain(id), { count: 1 }, { maxReplicas: 10, maxDepth: 2 });
    expect(r?.kind).toBe(kind);
    if (message) expect(refusalText(r!)).toMatch(message);
  });

  it('a refusal names the field in the caller’s words', () => {
    expect(refusalText(check('createReplicas', facts('s'), { count: 11 }, limits)!, { count: 'instance.replica_count' })).toMatch(/^instance\.replica_count: must be at most 10/);
  });

  it.each([
    ['healthy by its probe', { sourceReachable: true, replicasLostSource: false }, false, /orchestrator reaches it/],
    ['healthy by its replicas', { sourceReachable: false, replicasLostSource: false }, false, /still replicate from it/],
    ['down', { sourceReachable: false, replicasLostSource: true }, false, undefined],
    ['healthy but forced', { sourceReachable: true, replicasLostSource: false }, true, undefined],
  ] as const)('eject of a source %s', (_, assessment, force, refused) => {
    const r = checkEject(facts('s'), { assessment, force });
    if (refused) expect(r).toMatchObject({ kind: 'healthy', message: expect.stringMatching(refused) });
    else expect(r).toBeUndefined();
  });

  it('locks are the set first, then the instance', () => {
    expect(locksFor('detachReplica', facts('a'))).toEqual({ set: 's', instance: true });
    expect(locksFor('deleteInstance', facts('a'))).toEqual({ set: 's', instance: true });
    expect(locksFor('enableReplicationTls', facts('a'))).toEqual({ set: 's', instance: false });
    expect(locksFor('deleteInstance', facts('x', { inSet: false }))).toEqual({ set: null, instance: true });
    expect(locksFor('createReplicas', facts('x', { inSet: false }))).toEqual({ set: 'x', instance: false });
    expect(locksFor('promoteToReplicaSource', facts('a'))).toEqual({ set: 's', instance: false });
    // A member down for a restart or a resize keeps set operations and automatic failover away.
    expect(locksFor('restartInstance', facts('s'))).toEqual({ set: 's', instance: true });
    expect(locksFor('resizeInstance', facts('a'))).toEqual({ set: 's', instance: true });
    expect(locksFor('restartInstance', facts('x', { inSet: false }))).toEqual({ set: null, instance: true });
  });

  it('busy ignores the caller’s own locks', () => {
    expect(busy(facts('a', { lock: held('op', 'detachReplica'), setLock: held('op', 'detachReplica') }), { id: 'op', type: 'detachReplica' })).toBeUndefined();
  });
});

describe('rebuildAsReplica (a former source rejoins its set as a replica)', () => {
  // x was the source of a set; a failover replaced it with s, whose set is `s` (or dissolved).
  const fenced = (o: { replacedBy?: string | null; formerSet?: Facts['formerSet']; lock?: Facts['instance']['lock'] } = {}): Facts => ({
    instance: { id: 'x', status: 'ERROR', lock: o.lock ?? free, setId: null, replacedBy: o.replacedBy === undefined ? 's' : o.replacedBy },
    ...(o.formerSet === undefined ? { formerSet: { replacedBy: 's', setId: 's', sourceId: 's', sourceStatus: 'ACTIVE', setLock: free } } : o.formerSet ? { formerSet: o.formerSet } : {}),
  });
  test.each<[string, Facts, string | undefined, RegExp | undefined]>([
    ['a fenced former source whose set goes on', fenced(), undefined, undefined],
    ['a fenced former source whose set dissolved (the replacement stands alone)', fenced({ formerSet: { replacedBy: 's', setId: null, sourceId: 's', sourceStatus: 'ACTIVE' } }), undefined, undefined],
    ['the source of a set', facts('s'), 'invalid', /is the source of replication set s; only a former source/],
    ['a replica', facts('a'), 'invalid', /already a replica \(of s\)/],
    ['an instance no failover replaced', { instance: { id: 'x', status: 'ACTIVE', lock: free, setId: null } }, 'invalid', /not a former source of a replication set/],
    ['its replacement deleted since', fenced({ formerSet: { replacedBy: 's', setId: null } }), 'invalid', /instance s, which replaced x as source, no longer exists/],
    ["the set's source not ACTIVE", fenced({ formerSet: { replacedBy: 's', setId: 's', sourceId: 's', sourceStatus: 'ERROR', setLock: free } }), 'conflict', /source s is ERROR, not ACTIVE/],
    ['itself busy', fenced({ lock: held('op-1', 'deleteInstance') }), 'conflict', /instance x is busy with operation op-1/],
    ['its set busy', fenced({ formerSet: { replacedBy: 's', setId: 's', sourceId: 's', sourceStatus: 'ACTIVE', setLock: held('op-2', 'createReplicas') } }), 'conflict', /replication set s is busy with operation op-2/],
  ])('%s', (_, f, kind, message) => {
    const r = check('rebuildAsReplica', f, {});
    expect(r?.kind).toBe(kind);
    if (message) expect(r!.message).toMatch(message);
  });

  test.each<[string, Facts, string | undefined, RegExp | undefined]>([
    ['a pair side a failover lost, back as the passive side', fenced(), undefined, undefined],
    ['its set dissolved at the failover (the survivor stands alone)', fenced({ formerSet: { replacedBy: 's', setId: null, sourceId: 's', sourceStatus: 'ACTIVE' } }), undefined, undefined],
    ['the rebuild rules first: a replica', facts('a'), 'invalid', /already a replica \(of s\)/],
    ['the rebuild rules first: its set busy', fenced({ formerSet: { replacedBy: 's', setId: 's', sourceId: 's', sourceStatus: 'ACTIVE', setLock: held('op-2', 'createReplicas') } }), 'conflict', /replication set s is busy/],
    ['the survivor paired again meanwhile', fenced({ formerSet: { replacedBy: 's', setId: 's', sourceId: 's', sourceStatus: 'ACTIVE', setLock: free, paired: true } }), 'invalid', /the set of s already has a master-master pair; a set has at most one \(rebuild x as a plain replica/],
    ['on one host with the survivor', { ...fenced(), instance: { ...fenced().instance, locality: 'affinity' } }, 'invalid', /has locality affinity; a pair's sides must be on different hosts/],
  ])('rejoin a pair: %s', (_, f, kind, message) => {
    const r = check('rejoinPair', f, {});
    expect(r?.kind).toBe(kind);
    if (message) expect(r!.message).toMatch(message);
    expect(locksFor('rejoinPair', f)).toEqual(locksFor('rebuildAsReplica', f));
  });

  test.each<[string, Parameters<typeof checkCreateTimePair>[0], RegExp | undefined]>([
    ['anti-affinity', { name: 'shop', locality: 'anti-affinity', drProfile: false }, undefined],
    ['no server group', { name: 'shop', locality: null, drProfile: false }, /^locality: instance shop has locality none; a pair's sides must be on different hosts/],
    ['affinity', { name: 'shop', locality: 'affinity', drProfile: false }, /^locality: instance shop has locality affinity/],
    ['with a zone profile', { name: 'shop', locality: 'anti-affinity', drProfile: true }, /a master-master pair keeps its two sides in one zone, a zone profile \(dr_profile\) spreads a set over zones/],
  ])('a pair at create: %s', (_, r, message) => {
    const refused = checkCreateTimePair(r);
    if (!message) expect(refused).toBeUndefined();
    else expect(refusalText(refused!)).toMatch(message);
  });

  test('its own lock does not count, and it locks the set it rejoins, then itself', () => {
    expect(check('rebuildAsReplica', fenced({ lock: held('me', 'rebuildAsReplica') }), { operationId: 'me' })).toBeUndefined();
    expect(locksFor('rebuildAsReplica', fenced())).toEqual({ set: 's', instance: true });
    expect(locksFor('rebuildAsReplica', fenced({ formerSet: { replacedBy: 's', setId: null, sourceId: 's', sourceStatus: 'ACTIVE' } }))).toEqual({ set: null, instance: true });
  });
});

describe('createBackup', () => {
  test.each<[string, Facts, string | undefined, RegExp | undefined]>([
    ['a standalone ACTIVE instance', facts('x', { inSet: false }), undefined, undefined],
    ['a replica while its set is busy (a backup takes only the instance)', facts('a', { setLock: held('op-1', 'createReplicas') }), undefined, undefined],
    ['an instance in ERROR', facts('x', { inSet: false, status: 'ERROR' }), 'conflict', /is ERROR, not ACTIVE; only a running instance can be backed up/],
    ['a busy instance', facts('x', { inSet: false, lock: held('op-2', 'restartInstance') }), 'conflict', /busy with operation op-2/],
  ])('%s', (_, f, kind, message) => {
    const r = check('createBackup', f, {});
    expect(r?.kind).toBe(kind);
    if (message) expect(r!.message).toMatch(message);
  });

  test('it locks the instance only', () => {
    expect(locksFor('createBackup', facts('a'))).toEqual({ set: null, instance: true });
  });
});

describe('deleting a backup', () => {
  const restore = (n: number) => ({ instanceId: `new-${n}`, operationId: `provision-instance-new-${n}` });
  test.each<[string, { id: string; status: string }, { instanceId: string; operationId: string }[], RegExp | undefined, string | undefined]>([
    ['a COMPLETED backup no restore reads', { id: 'b1', status: 'COMPLETED' }, [], undefined, undefined],
    ['a FAILED backup', { id: 'b1', status: 'FAILED' }, [], undefined, undefined],
    ['a backup still being taken', { id: 'b1', status: 'BUILDING' }, [], /backup b1 is BUILDING: wait until it is COMPLETED or FAILED/, undefined],
    ['a new backup', { id: 'b1', status: 'NEW' }, [], /backup b1 is NEW/, undefined],
    ['a backup a restore reads', { id: 'b1', status: 'COMPLETED' }, [restore(1)], /backup b1 is being restored into instance new-1; a backup cannot be deleted while a restore reads it/, 'provision-instance-new-1'],
    ['a backup two restores read', { id: 'b1', status: 'COMPLETED' }, [restore(1), restore(2)], /into instance new-1 \(and 1 more\)/, 'provision-instance-new-1'],
  ])('%s', (_, b, restores, message, operation) => {
    const r = checkDeleteBackup(b, restores);
    if (!message) return expect(r).toBeUndefined();
    expect(r).toMatchObject({ kind: 'conflict', message: expect.stringMatching(message) });
    expect(r!.operation).toBe(operation);
  });
});

describe('the rulebook: master-master pairs', () => {
  // a (active) <-> b (passive), r a replica of the active side; c a cascade under b is not allowed to be made.
  const pair: Topology = {
    setId: 's',
    members: [{ id: 'a', writable: true }, { id: 'b', writable: false }, { id: 'r', writable: false }],
    links: [{ source: 'a', replica: 'b' }, { source: 'b', replica: 'a' }, { source: 'a', replica: 'r' }],
    coMasters: ['a', 'b'],
  };
  const inPair = (id: string, o: { setLock?: Facts['setLock']; status?: string } = {}): Facts => ({ instance: { id, status: o.status ?? 'ACTIVE', lock: free, setId: 's' }, topology: pair, setLock: o.setLock ?? free });
  it.each<[string, OperationType, Facts, string | undefined, RegExp | undefined]>([
    ['a pair of a standalone instance', 'createPair', facts('x', { inSet: false }), undefined, undefined],
    ['a pair of an instance in an anti-affinity group', 'createPair', { ...facts('x', { inSet: false }), instance: { ...facts('x', { inSet: false }).instance, locality: 'anti-affinity' } }, undefined, undefined],
    ['a pair of an instance without a server group', 'createPair', { ...facts('x', { inSet: false }), instance: { ...facts('x', { inSet: false }).instance, locality: null } }, 'invalid', /^locality: instance x has locality none; a pair's sides must be on different hosts/],
    ['a pair of an instance in an affinity group', 'createPair', { ...facts('x', { inSet: false }), instance: { ...facts('x', { inSet: false }).instance, locality: 'affinity' } }, 'invalid', /has locality affinity/],
    ['a pair of a set’s source (its replicas stay)', 'createPair', facts('s'), undefined, undefined],
    ['a pair of a replica', 'createPair', facts('a'), 'invalid', /instance a is a replica of s; a pair is made from a source or a standalone instance/],
    ['a pair of an instance already in a pair', 'createPair', inPair('a'), 'invalid', /instance a is already a side of the master-master pair \(a, b\)/],
    ['a pair of the passive side', 'createPair', inPair('b'), 'invalid', /already a side of the master-master pair/],
    ['a second pair in one set (asked of its replica)', 'createPair', inPair('r'), 'invalid', /set s already has a master-master pair \(a, b\); a set has at most one/],
    ['a pair of an instance still building', 'createPair', facts('x', { inSet: false, status: 'BUILD' }), 'conflict', /is BUILD, not ACTIVE/],
    ['a pair of a busy set', 'createPair', facts('s', { setLock: held('p', 'promoteToReplicaSource') }), 'conflict', /set s is busy with operation p/],
    ['switch to the passive side', 'switchPairActive', inPair('b'), undefined, undefined],
    ['switch to the active side', 'switchPairActive', inPair('a'), 'invalid', /instance a is already the active side of its pair; switch to b/],
    ['switch to a replica of the pair', 'switchPairActive', inPair('r'), 'invalid', /not a side of a master-master pair/],
    ['switch outside any pair', 'switchPairActive', facts('s'), 'invalid', /not a side of a master-master pair/],
    ['switch during another operation of the set', 'switchPairActive', inPair('b', { setLock: held('t', 'enableReplicationTls') }), 'conflict', /set s is busy with operation t/],
    ['break a pair (asked of either side)', 'breakPair', inPair('b'), undefined, undefined],
    ['break what is no pair', 'breakPair', facts('s'), 'invalid', /no pair to break/],
    ['replicas of the active side', 'createReplicas', inPair('a'), undefined, undefined],
    ['replicas of the passive side', 'createReplicas', inPair('b'), 'invalid', /^source: instance b is the passive side of a master-master pair: replicas of a pair hang off its active side \(a\)/],
    ['promote a replica of a pair', 'promoteToReplicaSource', inPair('r'), 'invalid', /set s is a master-master pair \(a, b\); switch its active side/],
    ['eject the active side', 'ejectReplicaSource', inPair('a'), 'invalid', /is a master-master pair \(a, b\); eject its active side: the passive side takes over \(failOverPair\)/],
    ['fail over the active side', 'failOverPair', inPair('a'), undefined, undefined],
    ['fail over the passive side', 'failOverPair', inPair('b'), 'invalid', /instance b is not the active side of a master-master pair/],
    ['fail over outside any pair', 'failOverPair', facts('s'), 'invalid', /not the active side/],
    ['fail over during a switch', 'failOverPair', inPair('a', { setLock: held('w', 'switchPairActive') }), 'conflict', /set s is busy with operation w/],
    ['detach the passive side', 'detachReplica', inPair('b'), 'invalid', /instance b is a side of the master-master pair \(a, b\); break the pair first/],
    ['detach a replica of a pair', 'detachReplica', inPair('r'), undefined, undefined],
    ['delete the passive side (the pair dissolves)', 'deleteInstance', inPair('b'), undefined, undefined],
    ['delete the active side', 'deleteInstance', inPair('a'), 'conflict', /instance a is the active side of the master-master pair \(a, b\); switch the active side to b first \(switch_active\), then delete a/],
    ['delete the passive side during a switch', 'deleteInstance', inPair('b', { setLock: held('w', 'switchPairActive') }), 'conflict', /set s is busy with operation w/],
    ['delete a replica of a pair', 'deleteInstance', inPair('r'), undefined, undefined],
    ['users and databases changed on the active side (they replicate to the passive one)', 'manageAccess', inPair('a'), undefined, undefined],
    ['users and databases changed on the passive side', 'manageAccess', inPair('b'), 'invalid', /instance b is a read replica of a: .* make the change on a/],
  ])('%s', (_, type, f, kind, message) => {
    const r = check(type, f, { count: 1 }, { maxReplicas: 10, maxDepth: 3 });
    expect(r?.kind).toBe(kind);
    if (message) expect(refusalText(r!)).toMatch(message);
  });

  it('a pair’s operations lock its set (a new pair: the set its source founds)', () => {
    expect(locksFor('createPair', facts('x', { inSet: false }))).toEqual({ set: 'x', instance: false });
    expect(locksFor('createPair', facts('s'))).toEqual({ set: 's', instance: false });
    expect(locksFor('switchPairActive', inPair('b'))).toEqual({ set: 's', instance: false });
    expect(locksFor('breakPair', inPair('a'))).toEqual({ set: 's', instance: false });
    expect(locksFor('failOverPair', inPair('a'))).toEqual({ set: 's', instance: false });
  });

  it('a healthy active side fails over only with force (the eject rule)', () => {
    expect(check('failOverPair', inPair('a'), { assessment: { sourceReachable: true, replicasLostSource: false } })).toMatchObject({ kind: 'healthy' });
    expect(check('failOverPair', inPair('a'), { force: true, assessment: { sourceReachable: true, replicasLostSource: false } })).toBeUndefined();
    expect(check('failOverPair', inPair('a'), { assessment: { sourceReachable: false, replicasLostSource: true } })).toBeUndefined();
  });
});
