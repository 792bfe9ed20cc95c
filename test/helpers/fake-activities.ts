// In-memory stand-ins for the control and guest activities, for workflow tests and for
// recording replay histories. They keep just enough state to assert what a workflow did.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ComputeActivities } from '../../activities/compute/activities';
import type { ZoneProfile } from '../../lib/zone-profiles';
import type { EnsureMonitorInput, MonitorActivities } from '../../activities/control/monitor';
import { createWatchActivities, type WatchActivities, type WatchDeps } from '../../activities/control/watch';
import type { MonitorAccountActivities } from '../../activities/guest/monitor-account';
import type { AccessActivities } from '../../activities/guest/access';
import type { CertificateActivities } from '../../activities/guest/certificates';
import type { TlsActivities } from '../../activities/tls/activities';
import type { GuestActivities } from '../../activities/guest/activities';
import type { AccessState } from '../../lib/access';
import type { ReplicaStatus, ReplicationActivities } from '../../activities/guest/replication';
import type { RegistryActivities } from '../../activities/registry/activities';
import { replicationUserName } from '../../lib/names';
import { fakeRegistryActivities } from './fake-registry';
import type { SnapshotActivities } from '../../activities/snapshots/activities';
import { ErrorType } from '../../lib/errors';
import { monitorWorkflowId } from '../../lib/names';
import type { MemberHealth, ReplicationSettings } from '../../lib/schemas';
import type { CertificateLife } from '../../lib/certificates-due';

export interface FakeInstance {
  id: string;
  projectId: string;
  name: string;
  status: string;
  fault?: string | null;
  lock: string | null;
  lockType?: string | null;
  novaServerId: string | null;
  address: string | null;
  replicaOf: string | null;
  setId: string | null;
  readOnly: boolean;
  flavorId?: string;
  volumeSize?: number;
  /** A fenced former source: the member that replaced it (as the registry's replaced_by). */
  replacedBy?: string | null;
  errantGtids?: unknown;
  /** Its availability zone (az1 unless a test places it elsewhere). */
  zone?: string;
}

export interface FakeWorld {
  instances: Map<string, FakeInstance>;
  servers: Map<string, { name: string; status: string }>;
  /** Replication sets that exist, and the operation holding each one's lock. */
  sets: Map<string, string | null>;
  setLockTypes: Map<string, string | null>;
  /** The last certificate serial the fake CA signed (each signature gets the next). */
  certificateSerial?: number;
  /** Members' server certificates as the registry records them; set: the watch looks at them (TLS sets). */
  serverCertificates?: CertificateLife[];
  /** How often the watch read them. */
  certificateReads?: number;
  credentials: Map<string, { userName: string; sealedPassword: string }>;
  /** Each instance's monitoring account as the registry records it (issued, then ready once its agent made it). */
  monitorAccounts: Map<string, { sealedPassword: string; ready: boolean }>;
  /** Nova servers whose agent refuses to make the monitoring account. */
  refuseMonitorAccount: Set<string>;
  /** Every poll of the watch activity (its heartbeats), which the workflow's history never sees. */
  watchPolls: number;
  /** The watch's reads of members' monitoring credentials (none once every member's account is ready). */
  credentialReads: number;
  /** The watch's status read of every member takes this long (a slow member, a starved worker). */
  watchReadMs?: number;
  /** A member closes the connection the watch keeps to it (its server died): the running watch's reader says so. */
  dropWatchConnection?: (instanceId: string) => void;
  /** Replication accounts per Nova server (the source's mysql.user). */
  accounts: Map<string, Set<string>>;
  snapshots: Set<string>;
  calls: string[];
  /** Every ensureMonitor call, in order (no monitor is started: start one in the test if it needs it). */
  monitorsEnsured: EnsureMonitorInput[];
  failBuild?: boolean;
  failPrepare?: boolean;
  failSnapshot?: boolean;
  /** The next N restores fail for good. */
  failRestores?: number;
  maxReplicas?: number;
  /** TROVE_MAX_DEPTH (1 unless a test builds a cascade). */
  maxDepth?: number;
  /** Instances whose MariaDB the orchestrator cannot reach. */
  down: Set<string>;
  /** Per Nova server: replication status fields that differ from a healthy replica's, or null for a silent agent. */
  statusOf: Map<string, Partial<ReplicaStatus> | null>;
  failCatchUp?: boolean;
  /** A replica's detachReplication fails for good (its agent errs). */
  failDetachReplication?: boolean;
  /** Restores take this long and then log 'restored' (to see what overlaps them). */
  slowRestoreMs?: number;
  /** The first N restores are quick all the same. */
  quickRestores?: number;
  /** Nova takes this long to answer a create, and the server exists only once it has. */
  slowCreateServerMs?: number;
  hangConfigureSemiSync?: boolean;
  /** Zone profiles an administrator defined (default: dr-az1-az2, semi-sync and automatic failover on). */
  zoneProfiles?: ZoneProfile[];
  /** Zones down, with how many more zoneAvailable polls say so. */
  downZones?: Map<string, number>;
  /** createReplicas' last registry step takes this long (to see what runs beside it). */
  slowFinishMs?: number;
  /** createReplicas' last registry step fails for good (the registry gone). */
  failFinish?: boolean;
  /** ensureReplicationSource takes this long and then logs 'source prepared'. */
  slowPrepareSourceMs?: number;
  failPrepareSource?: boolean;
  /** A following restore waits for the snapshot to exist, as the real one waits for its file (until cancelled). */
  restoreWaitsForSnapshot?: boolean;
  settings: ReplicationSettings;
  health?: MemberHealth[];
  /** Data volume sizes per Nova server, as extendVolume leaves them. */
  volumes: Map<string, number>;
  /** Each server's databases and users, as its guest's accessState reports them. */
  access: Map<string, AccessState>;
  failResize?: boolean;
  /** Backups' records (the registry's backups table): status and what their snapshot holds. */
  backups: Map<string, { status: string; sizeBytes?: number; gtid?: string; failReason?: string | null }>;
  /** Per Nova server: its gtid_binlog_state (default 0-101-7). */
  binlogStateOf: Map<string, string>;
}

/** A valid provisionInstance input (the password already sealed, as callers must). */
export function sampleProvisionSpec(instanceId: string) {
  return {
    instanceId,
    projectId: 'proj-a',
    name: 'db1',
    flavorId: '1',
    volumeSizeGb: 1,
    databases: ['app'],
    users: [{ name: 'alice', host: '%', sealedPassword: 'v1.aaaa.bbbb.cccc', databases: ['app'] }],
  };
}

export function newWorld(): FakeWorld {
  return {
    instances: new Map(),
    servers: new Map(),
    sets: new Map(),
    setLockTypes: new Map(),
    credentials: new Map(),
    monitorAccounts: new Map(),
    refuseMonitorAccount: new Set(),
    watchPolls: 0,
    credentialReads: 0,
    accounts: new Map(),
    snapshots: new Set(),
    calls: [],
    monitorsEnsured: [],
    down: new Set(),
    statusOf: new Map(),
    volumes: new Map(),
    access: new Map(),
    binlogStateOf: new Map(),
    backups: new Map(),
    settings: { autoFailover: false, semiSync: false, quietPeriodSeconds: 600, failoverAfterSeconds: 2, lastFailoverAt: null, lastFailoverOperation: null, lastFailoverAcknowledged: true, tls: false },
  };
}

/** A source instance as if provisionInstance had run, on server `<prefix>-src`. */
export function seedSource(w: FakeWorld, id: string, prefix: string, projectId = 'proj-a'): FakeInstance {
  const inst: FakeInstance = { id, projectId, name: 'master', status: 'ACTIVE', lock: null, novaServerId: `${prefix}-src`, address: '127.0.1.1', replicaOf: null, setId: null, readOnly: false };
  w.instances.set(id, inst);
  w.servers.set(`${prefix}-src`, { name: `trove-${id}`, status: 'ACTIVE' });
  return inst;
}

/** A source with replicas on servers `<prefix>-1`..: a set as createReplicas leaves it. */
/**
 * A DR set that lost its primary zone: source and first replica in az1, silent; the others in
 * az2, answering; the set follows the default profile (az1, then az2).
 */
export function seedLostZoneSet(w: FakeWorld, prefix: string, profileId: string, replicas = 3): { source: FakeInstance; replicas: FakeInstance[] } {
  const set = seedSet(w, prefix, replicas);
  w.settings.zoneProfileId = profileId;
  w.down.add(set.source.id);
  set.replicas.forEach((r, i) => {
    r.zone = i === 0 ? 'az1' : 'az2';
    w.statusOf.set(r.novaServerId!, i === 0 ? null : { ioRunning: false, gtidIoPos: '0-101-9', gtidSlavePos: '0-101-9' });
  });
  if (set.replicas[0]) w.down.add(set.replicas[0].id);
  return set;
}

export function seedSet(w: FakeWorld, prefix: string, replicas = 2): { source: FakeInstance; replicas: FakeInstance[] } {
  const source = seedSource(w, `00000000-0000-4000-8000-${prefix.slice(-8).padStart(12, '0')}`, prefix);
  source.setId = source.id;
  w.sets.set(source.id, null);
  const made = Array.from({ length: replicas }, (_, i) => {
    const id = `00000000-0000-4000-8000-${String(i + 1).padStart(4, '0')}${prefix.slice(-8)}`;
    const r: FakeInstance = { id, projectId: source.projectId, name: `master-replica-${i + 1}`, status: 'ACTIVE', lock: null, novaServerId: `${prefix}-${i + 1}`, address: `127.0.2.${i + 1}`, replicaOf: source.id, setId: source.id, readOnly: true };
    w.instances.set(id, r);
    w.servers.set(r.novaServerId!, { name: `trove-${id}`, status: 'ACTIVE' });
    w.credentials.set(id, { userName: replicationUserName(id), sealedPassword: 'v1.aaaa.bbbb.cccc' });
    return r;
  });
  return { source, replicas: made };
}

const fail = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);
const FAKE_PEM = '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n';
const FAKE_NEXT_PEM = '-----BEGIN CERTIFICATE-----\nnext\n-----END CERTIFICATE-----\n';

export function fakeControlActivities(w: FakeWorld, serverIdPrefix: string): ComputeActivities & RegistryActivities & SnapshotActivities & MonitorActivities & TlsActivities & WatchActivities {
  let n = 0;
  const reg = fakeRegistryActivities(w);
  return {
    ...reg,
    ...createWatchActivities(fakeWatchDeps(w, reg)),
    // A set's authority and its signatures, as far as the workflows look at them (PEM-shaped text).
    async ensureSetAuthority({ setId }) {
      w.calls.push('ensureSetAuthority');
      return { setId, created: true, caCertificatePem: FAKE_PEM };
    },
    async beginCaRotation({ setId }) {
      w.calls.push('beginCaRotation');
      return { setId, created: true, caCertificatePem: FAKE_NEXT_PEM, previousCaCertificatePem: FAKE_PEM };
    },
    async completeCaRotation({ setId, caCertificatePem }) {
      w.calls.push('completeCaRotation');
      return { setId, caCertificatePem };
    },
    async signServerCertificate({ instanceId, authority }) {
      w.calls.push(`signServerCertificate:${instanceId}${authority === 'next' ? ':next' : ''}`);
      w.certificateSerial = (w.certificateSerial ?? 0) + 1;
      // A new certificate: 825 days from now, as the registry then records it.
      if (w.serverCertificates) {
        const issued = new Date();
        w.serverCertificates = [...w.serverCertificates.filter((c) => c.instanceId !== instanceId), { instanceId, issued, notAfter: new Date(issued.getTime() + 825 * 86_400_000) }];
      }
      return { instanceId, certificatePem: FAKE_PEM, caCertificatePem: FAKE_PEM, serial: w.certificateSerial.toString(16).toUpperCase().padStart(2, '0'), notAfter: '2029-03-07T00:00:00.000Z' };
    },
    async getFlavor(id) {
      w.calls.push('getFlavor');
      if (id === '999') throw fail(`flavorRef: flavor "${id}" does not exist`, ErrorType.InvalidInput);
      return { id, name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 };
    },
    async createServer(input) {
      w.calls.push('createServer');
      if (w.slowCreateServerMs) await new Promise((r) => setTimeout(r, w.slowCreateServerMs));
      const id = `${serverIdPrefix}-${++n}`;
      if (input.group) w.calls.push(`inGroup:${input.group}`);
      w.servers.set(id, { name: input.name, status: 'BUILD' });
      return id;
    },
    async waitForServerActive(id) {
      w.calls.push('waitForServerActive');
      if (w.failBuild) {
        w.servers.get(id)!.status = 'ERROR';
        throw fail(`server ${id} went to ERROR: injected`, ErrorType.ServerBuildFailed);
      }
      w.servers.get(id)!.status = 'ACTIVE';
      return { novaServerId: id, address: `127.0.2.${id.split('-').pop()}`, availabilityZone: 'az1' };
    },
    async deleteServer(ref) {
      w.calls.push('deleteServer');
      let count = 0;
      for (const [id, s] of w.servers) {
        if (id === ref.novaServerId || s.name === ref.name) {
          w.servers.delete(id);
          count++;
        }
      }
      return count;
    },
    async ensureServerGroup({ name }) {
      w.calls.push(`ensureServerGroup:${name}`);
      return `group-of-${name}`;
    },
    async deleteServerGroup({ name }) {
      w.calls.push(`deleteServerGroup:${name}`);
      return { deleted: [`group-of-${name}`] };
    },
    async resizeServer({ novaServerId, flavorId }) {
      w.calls.push(`resizeServer:${novaServerId}:${flavorId}`);
      if (w.failResize) throw fail(`server ${novaServerId} went to ERROR: injected`, ErrorType.ResizeFailed);
      return { status: 'VERIFY_RESIZE' };
    },
    async finishResize({ novaServerId, confirm }) {
      w.calls.push(`${confirm ? 'confirmResize' : 'revertResize'}:${novaServerId}`);
    },
    async extendVolume({ novaServerId, sizeGb }) {
      w.calls.push(`extendVolume:${novaServerId}:${sizeGb}`);
      const now = Math.max(w.volumes.get(novaServerId) ?? 0, sizeGb);
      w.volumes.set(novaServerId, now);
      return { sizeGb: now };
    },
    async probeMembers(targets) {
      w.calls.push('probeMembers');
      return Object.fromEntries(targets.map((t) => [t.instanceId, { reachable: !w.down.has(t.instanceId) }]));
    },
    async fenceServer(novaServerId) {
      w.calls.push('fenceServer');
      const s = w.servers.get(novaServerId);
      const alreadyOff = !s || s.status === 'SHUTOFF';
      if (s) s.status = 'SHUTOFF';
      return { alreadyOff };
    },
    async zoneAvailable(zone) {
      w.calls.push(`zoneAvailable:${zone}`);
      const down = w.downZones?.get(zone) ?? 0;
      // A test counts down the polls a lost zone stays down.
      if (down > 0) w.downZones!.set(zone, down - 1);
      return { zone, available: down === 0 };
    },
    async unfenceServer(novaServerId) {
      w.calls.push(`unfenceServer:${novaServerId}`);
      const s = w.servers.get(novaServerId);
      const started = s?.status === 'SHUTOFF';
      if (s) s.status = 'ACTIVE';
      return { started };
    },
    async deleteSnapshot(snapshotId) {
      w.calls.push('deleteSnapshot');
      return w.snapshots.delete(snapshotId);
    },
    async ensureMonitor(input) {
      w.calls.push('ensureMonitor');
      w.monitorsEnsured.push(input);
      return { workflowId: monitorWorkflowId(input.setId), runId: `fake-run-${input.setId}` };
    },
  };
}

/** A healthy replica's status, which statusOf overrides per server. */
const HEALTHY_STATUS: ReplicaStatus = { configured: true, sourceHost: '127.0.1.1', ioRunning: true, sqlRunning: true, secondsBehind: 0, lastIoError: '', lastSqlError: '', gtidSlavePos: '0-101-5', gtidBinlogPos: '0-101-5', gtidIoPos: '0-101-5', readOnly: true, serverId: 102, semiSyncSource: false, semiSyncReplica: false, tls: false };

/** The watch activity over the fake world: the real polling loop (activities/control/watch.ts) with the world's registry, probes and statuses. */
function fakeWatchDeps(w: FakeWorld, reg: RegistryActivities): WatchDeps {
  return {
    describeSet: (setId) => {
      w.watchPolls++;
      return reg.describeSet(setId);
    },
    async monitorCredentials(ids) {
      w.credentialReads++;
      return Object.fromEntries(ids.map((id) => [id, w.monitorAccounts.get(id) ?? { sealedPassword: null, ready: false }]));
    },
    async probe(targets) {
      return Object.fromEntries(targets.map((t) => [t.instanceId, { reachable: !w.down.has(t.instanceId) }]));
    },
    statusReader: (lost) => {
      w.dropWatchConnection = (id) => lost?.(id);
      return {
      async read(t) {
        // The read goes over the orchestrator's own path, which a member that is down for the probe does not answer either.
        if (w.down.has(t.instanceId)) throw new Error('no answer');
        if (w.watchReadMs) await new Promise((r) => setTimeout(r, w.watchReadMs));
        const o = w.statusOf.get(w.instances.get(t.instanceId)?.novaServerId ?? '');
        if (o === null) throw new Error('no answer');
        return { ...HEALTHY_STATUS, ...o };
      },
      async close() {},
      };
    },
    async storeHealth(_setId, health) {
      w.calls.push('storeHealth');
      w.health = health;
    },
    // TLS sets only (world.settings.tls): their certificates as world.serverCertificates holds them.
    certificateRenewal: {
      async serverCertificates() {
        w.certificateReads = (w.certificateReads ?? 0) + 1;
        return w.serverCertificates ?? [];
      },
      renewBeforeDays: 30,
    },
  };
}

export function fakeGuestActivities(w: FakeWorld, novaServerId = 'srv'): GuestActivities & ReplicationActivities & AccessActivities & CertificateActivities & MonitorAccountActivities {
  const accounts = () => {
    if (!w.accounts.has(novaServerId)) w.accounts.set(novaServerId, new Set());
    return w.accounts.get(novaServerId)!;
  };
  const status = HEALTHY_STATUS;
  return {
    async prepare() {
      w.calls.push('prepare');
      if (w.failPrepare) throw fail('mariadbd exited with code 1 at start', ErrorType.GuestFailed);
      return { address: '127.0.1.1', port: 3306, initialized: true, restarted: false };
    },
    async restart() {
      return { pid: 1 };
    },
    async stop() {
      return { stopped: true };
    },
    async status() {
      return { running: true, pid: 1, prepared: true, readOnly: false, serverId: 101, version: '10.11' };
    },
    async certificateRequest() {
      w.calls.push(`certificateRequest:${novaServerId}`);
      return { address: '127.0.2.1', csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nfake\n-----END CERTIFICATE REQUEST-----\n' };
    },
    async installCertificate() {
      w.calls.push(`installCertificate:${novaServerId}`);
      return { address: '127.0.2.1', reloaded: 'flush ssl' as const, notAfter: '2029-01-01T00:00:00.000Z' };
    },
    async installTrust({ caCertificatePem }) {
      const authorities = caCertificatePem.split('BEGIN CERTIFICATE').length - 1;
      w.calls.push(`installTrust:${novaServerId}:${authorities}`);
      return { address: '127.0.2.1', reloaded: 'flush ssl' as const, authorities };
    },
    async accessState() {
      w.calls.push('accessState');
      return w.access.get(novaServerId) ?? { databases: [], users: [] };
    },
    async changeAccess(action) {
      // The users API's changes, as far as the workflow's checks look at them.
      w.calls.push(`changeAccess:${action.kind}`);
      const state = w.access.get(novaServerId) ?? { databases: [], users: [] };
      if (action.kind === 'createDatabases') state.databases.push(...action.databases.map((d) => d.name));
      if (action.kind === 'createUsers') state.users.push(...action.users.map((u) => ({ name: u.name, host: u.host ?? '%', databases: [...(u.databases ?? [])] })));
      w.access.set(novaServerId, state);
      return { done: action.kind };
    },
    async volumeInfo() {
      return { sizeGb: w.volumes.get(novaServerId) ?? null, usedBytes: 1024 };
    },
    async ensureReplicationSource() {
      w.calls.push('ensureReplicationSource');
      if (w.slowPrepareSourceMs) await new Promise((r) => setTimeout(r, w.slowPrepareSourceMs));
      if (w.failPrepareSource) throw fail('binary logging cannot be enabled: mariadbd did not restart', ErrorType.GuestFailed);
      w.calls.push('source prepared');
      return { alreadySource: true, restarted: false };
    },
    async createSnapshot({ snapshotId }) {
      w.calls.push('createSnapshot');
      if (w.failSnapshot) throw fail('mariadb-backup exited with 1', ErrorType.GuestFailed);
      w.snapshots.add(snapshotId);
      return {
        snapshotId,
        master: { host: '127.0.1.1', port: 3306 },
        dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: 1024, location: `file:///snapshots/${snapshotId}`, checksum: 'sha256:00' },
        binlog: { file: 'mysql-bin.000001', position: 4, gtid: '0-101-5' },
        created: '2026-11-22T00:00:00.000Z',
      };
    },
    async restoreSnapshot({ snapshotId, follow }) {
      w.calls.push('restoreSnapshot');
      if (follow && w.restoreWaitsForSnapshot) {
        while (!w.snapshots.has(snapshotId)) {
          Context.current().heartbeat();
          await Promise.race([new Promise((r) => setTimeout(r, 100)), Context.current().cancelled]);
        }
      }
      // A following restore reads the snapshot as it is written: a failed one is aborted under it.
      if (follow && w.failSnapshot) throw fail('snapshot was aborted while being read', ErrorType.GuestFailed);
      if (w.failRestores && w.failRestores > 0) {
        w.failRestores--;
        throw fail('snapshot is corrupt: checksum mismatch', ErrorType.GuestFailed);
      }
      if (w.quickRestores && w.quickRestores > 0) w.quickRestores--;
      else if (w.slowRestoreMs) {
        await new Promise((r) => setTimeout(r, w.slowRestoreMs));
        w.calls.push('restored');
      }
      return { bytes: 1024, skipped: false };
    },
    async createReplicationUser({ userName, requireSsl }) {
      w.calls.push(requireSsl ? 'createReplicationUser:ssl' : 'createReplicationUser');
      accounts().add(userName);
      return { userName, requireSsl: requireSsl ?? false };
    },
    async dropReplicationUser({ userName }) {
      w.calls.push('dropReplicationUser');
      return { dropped: accounts().delete(userName) };
    },
    async startReplication({ source }) {
      w.calls.push(source.tls ? `startReplication:tls:${novaServerId}` : 'startReplication');
      return { ...status, tls: source.tls ?? false };
    },
    async ensureMonitorAccount() {
      w.calls.push(`ensureMonitorAccount:${novaServerId}`);
      if (w.refuseMonitorAccount.has(novaServerId)) throw fail('the agent does not answer', ErrorType.GuestFailed);
      return { userName: 'os_monitor' };
    },
    async replicationStatus() {
      const o = w.statusOf.get(novaServerId);
      if (o === null) throw fail('the agent does not answer', ErrorType.GuestFailed);
      return { ...status, ...o };
    },
    async gtidPosition() {
      return { gtidBinlogPos: '0-101-7', gtidBinlogState: w.binlogStateOf.get(novaServerId) ?? '0-101-7', gtidSlavePos: '' };
    },
    async waitForGtid() {
      w.calls.push(`waitForGtid:${novaServerId}`);
      if (w.failCatchUp) throw fail('replica did not reach 0-101-9 within 30s', ErrorType.GuestFailed);
      return status;
    },
    async detachReplication(_input?: { writable?: boolean }) {
      w.calls.push(`detachReplication:${novaServerId}`);
      if (w.failDetachReplication) throw fail('STOP SLAVE failed: the agent lost its connection', ErrorType.GuestFailed);
      return { wasReplica: true };
    },
    async promoteWhenCaughtUp(_input: { gtid: string; timeoutSeconds: number }) {
      // The real one's two steps, with the same calls and failures.
      w.calls.push(`waitForGtid:${novaServerId}`);
      if (w.failCatchUp) throw fail('replica did not reach 0-101-9 within 30s', ErrorType.GuestFailed);
      w.calls.push(`detachReplication:${novaServerId}`);
      if (w.failDetachReplication) throw fail('STOP SLAVE failed: the agent lost its connection', ErrorType.GuestFailed);
      return { caughtUp: status, wasReplica: true };
    },
    async setReadOnly({ readOnly }) {
      w.calls.push(`setReadOnly:${novaServerId}:${readOnly}`);
      return { readOnly };
    },
    async fenceWrites() {
      w.calls.push(`fenceWrites:${novaServerId}`);
      return { gtidBinlogPos: '0-101-9', killedSessions: 0 };
    },
    async setGtidDomain({ domainId }) {
      w.calls.push(`setGtidDomain:${novaServerId}:${domainId}`);
      return { domainId };
    },
    async configureSemiSync({ role }) {
      w.calls.push('configureSemiSync');
      // An agent that took the task and then went silent (its server died under it).
      if (w.hangConfigureSemiSync) await Context.current().sleep(120_000);
      return { role };
    },
  };
}
