// The monitor's one judgement of a poll (lib/monitor-poll.ts): which semi-sync roles to fix,
// when a failover or a relay's recovery is due, and which health changes are written at once.
import type { SetView } from '../../activities/registry/views';
import { healthChanged, judgePoll, membershipKey, type MemberStatus } from '../../lib/monitor-poll';
import type { MemberHealth } from '../../lib/schemas';

const member = (id: string) => ({ id, projectId: 'p', name: id, status: 'ACTIVE' as const, novaServerId: `srv-${id}`, mysqlServerId: 1, address: `10.0.0.${id.length}`, port: 3306, flavorId: '1', volumeSize: 1, availabilityZone: null, replicaOf: null, replicationSetId: 'set', replicas: [] });

function view(o: { semiSync?: boolean; autoFailover?: boolean; busy?: boolean } = {}): SetView {
  return {
    setId: 'set',
    projectId: 'p',
    topology: { setId: 'set', members: [{ id: 's', writable: true }, { id: 'r1', writable: false }, { id: 'r2', writable: false }], links: [{ source: 's', replica: 'r1' }, { source: 's', replica: 'r2' }] },
    source: member('s'),
    replicas: [member('r1'), member('r2')],
    roles: { s: 'source', r1: 'replica', r2: 'replica' },
    settings: { autoFailover: o.autoFailover ?? false, semiSync: o.semiSync ?? false, tls: false, quietPeriodSeconds: 600, failoverAfterSeconds: 1, lastFailoverAt: null, lastFailoverOperation: null, lastFailoverAcknowledged: true },
    lock: { operationId: o.busy ? 'op' : null, operationType: o.busy ? 'promoteToReplicaSource' : null },
  } as SetView;
}

const ok: MemberStatus = { ioRunning: true, sqlRunning: true, secondsBehind: 0, gtidSlavePos: '0-1-5', gtidIoPos: '0-1-5', gtidBinlogPos: '0-1-5', lastIoError: '', lastSqlError: '', readOnly: true, semiSyncSource: false, semiSyncReplica: false };
const T0 = '2026-12-03T00:00:00.000Z';
const T2 = '2026-12-03T00:00:02.000Z';
const up = { s: { reachable: true }, r1: { reachable: true }, r2: { reachable: true } };
const none = { sourceDownSince: null, relaysDownSince: {} };

test.each([
  ['semi-sync off, roles off: nothing to fix', { semiSync: false }, { s: ok, r1: ok, r2: ok }, []],
  ['semi-sync on: every role wrong', { semiSync: true }, { s: ok, r1: ok, r2: ok }, ['s:source', 'r1:replica', 'r2:replica']],
  ['semi-sync on, a silent member is not asked', { semiSync: true }, { s: { ...ok, semiSyncSource: true }, r1: null, r2: { ...ok, semiSyncReplica: true } }, []],
  ['semi-sync off, a replica still a semi-sync replica', { semiSync: false }, { s: ok, r1: { ...ok, semiSyncReplica: true }, r2: ok }, ['r1:off']],
  ['busy: nothing fixed while an operation reshapes the set', { semiSync: true, busy: true }, { s: ok, r1: ok, r2: ok }, []],
])('semi-sync upkeep: %s', (_name, settings, statuses, fixes) => {
  const j = judgePoll(view(settings), { probes: up, statuses, observedAt: T0 }, none);
  expect(j.semiSyncFixes.map((f) => `${f.instanceId}:${f.role}`)).toEqual(fixes);
});

test.each([
  ['source reachable', up, { s: ok, r1: ok, r2: ok }, none, 'none'],
  ['only the orchestrator lost the source', { ...up, s: { reachable: false } }, { s: null, r1: ok, r2: ok }, none, 'wait'],
  ['gone and the replicas agree, first look', { ...up, s: { reachable: false } }, { s: null, r1: { ...ok, ioRunning: false }, r2: { ...ok, ioRunning: false } }, none, 'wait'],
  ['gone for failover_after and the replicas agree', { ...up, s: { reachable: false } }, { s: null, r1: { ...ok, ioRunning: false }, r2: { ...ok, ioRunning: false } }, { sourceDownSince: T0, relaysDownSince: {} }, 'failover'],
])('the failover decision through the one judgement: %s', (_name, probes, statuses, memory, action) => {
  const j = judgePoll(view({ autoFailover: true }), { probes, statuses, observedAt: T2 }, memory);
  expect(j.decision.action).toBe(action);
  expect(j.memory.sourceDownSince).toBe(action === 'none' ? null : j.decision.sourceDownSince);
});

const healthOf = (statuses: Record<string, MemberStatus | null>, observedAt = T0): MemberHealth[] => judgePoll(view(), { probes: up, statuses, observedAt }, none).health;

test.each([
  ['nothing before: written', null, healthOf({ s: ok, r1: ok, r2: ok }), true],
  ['only the time of the look moved', healthOf({ s: ok, r1: ok, r2: ok }), healthOf({ s: ok, r1: ok, r2: ok }, T2), false],
  ['positions moved together (writes flowing, caught up)', healthOf({ s: ok, r1: ok, r2: ok }), healthOf({ s: { ...ok, gtidBinlogPos: '0-1-9' }, r1: { ...ok, gtidSlavePos: '0-1-9' }, r2: { ...ok, gtidSlavePos: '0-1-9' } }), false],
  ['a replica fell behind', healthOf({ s: ok, r1: ok, r2: ok }), healthOf({ s: { ...ok, gtidBinlogPos: '0-1-9' }, r1: ok, r2: { ...ok, gtidSlavePos: '0-1-9' } }), true],
  ['an SQL thread stopped with an error', healthOf({ s: ok, r1: ok, r2: ok }), healthOf({ s: ok, r1: { ...ok, sqlRunning: false, lastSqlError: 'dup' }, r2: ok }), true],
  ['an agent went silent', healthOf({ s: ok, r1: ok, r2: ok }), healthOf({ s: ok, r1: null, r2: ok }), true],
])('health written at once when: %s', (_name, before, after, changed) => {
  expect(healthChanged(before, after)).toBe(changed);
});

test('membership: a new replica, a moved link or a new address is a change; a lock or a setting is not', () => {
  const v = view();
  expect(membershipKey(view({ busy: true, semiSync: true }))).toBe(membershipKey(v));
  expect(membershipKey({ ...v, replicas: [v.replicas[0]!] })).not.toBe(membershipKey(v));
  expect(membershipKey({ ...v, source: { ...v.source, address: '10.9.9.9' } })).not.toBe(membershipKey(v));
  expect(membershipKey({ ...v, topology: { ...v.topology, links: [{ source: 's', replica: 'r1' }, { source: 'r1', replica: 'r2' }] } })).not.toBe(membershipKey(v));
});
