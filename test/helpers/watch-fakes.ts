// Builders for the watch's unit tests (activities/control/watch.ts, set-poller.ts,
// watch-interim.ts): a set of a source and one replica, a member's status, and WatchDeps
// fakes that answer from them.
import type { SetView } from '../../activities/registry/views';
import type { WatchDeps } from '../../activities/control/watch';
import type { MemberStatus } from '../../lib/monitor-poll';

const member = (id: string) => ({ id, projectId: 'p', name: id, status: 'ACTIVE' as const, novaServerId: `srv-${id}`, mysqlServerId: 1, address: '127.0.0.1', port: 3306, flavorId: '1', volumeSize: 1, availabilityZone: null, replicaOf: null, replicationSetId: 'set', replicas: [] });

/** The set `set`: source s, replica r, auto failover after 1 s. */
export const watchedView = {
  setId: 'set',
  projectId: 'p',
  topology: { setId: 'set', members: [{ id: 's', writable: true }, { id: 'r', writable: false }], links: [{ source: 's', replica: 'r' }] },
  source: member('s'),
  replicas: [member('r')],
  roles: { s: 'source', r: 'replica' },
  settings: { autoFailover: true, semiSync: false, tls: false, quietPeriodSeconds: 600, failoverAfterSeconds: 1, lastFailoverAt: null, lastFailoverOperation: null, lastFailoverAcknowledged: true },
  lock: { operationId: null, operationType: null },
} as unknown as SetView;

export const replicatingStatus: MemberStatus = { ioRunning: true, sqlRunning: true, secondsBehind: 0, gtidSlavePos: '0-1-5', gtidIoPos: '0-1-5', gtidBinlogPos: '0-1-5', lastIoError: '', lastSqlError: '', readOnly: true, semiSyncSource: false, semiSyncReplica: false };

/** Every member's account ready, every probe answered, every read `replicatingStatus`; override what a test is about. */
export function fakeWatchDeps(overrides: Partial<WatchDeps> = {}): WatchDeps {
  return {
    describeSet: async () => watchedView,
    monitorCredentials: async (ids) => Object.fromEntries(ids.map((id) => [id, { sealedPassword: 'x', ready: true }])),
    probe: async (targets) => Object.fromEntries(targets.map((t) => [t.instanceId, { reachable: true }])),
    statusReader: () => ({ read: async () => replicatingStatus, close: async () => undefined }),
    storeHealth: async () => undefined,
    ...overrides,
  };
}

/** The source s dead (refuses connections and probes), its replica r lost it: the set fails over once s has been down for failover_after (1 s). */
export function deadSourceDeps(overrides: Partial<WatchDeps> = {}) {
  const counts = { readers: 0, closed: 0, stored: 0 };
  const deps: WatchDeps = fakeWatchDeps({
    probe: async (targets) => Object.fromEntries(targets.map((t) => [t.instanceId, { reachable: t.instanceId !== 's' }])),
    statusReader: () => {
      counts.readers++;
      return {
        read: async (t) => {
          if (t.instanceId === 's') throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
          return { ...replicatingStatus, ioRunning: false, lastIoError: 'error reconnecting to master' };
        },
        close: async () => void counts.closed++,
      };
    },
    storeHealth: async () => void counts.stored++,
    ...overrides,
  });
  return { deps, counts };
}
