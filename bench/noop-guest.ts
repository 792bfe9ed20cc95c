// Guest agents that do nothing, for measuring the orchestrator's own overhead. With Nova's
// `fake` driver no process runs on a server, so nobody would serve its task queue
// (guest-<novaServerId>). NoopGuests polls Nova's server list and starts one activity
// worker per new server (all on one NativeConnection), answering every guest activity at
// once with a value of the right shape. A server the benchmark is done with can be retired
// (its worker stops and is not started again).
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { GuestActivities } from '../activities/guest/activities';
import type { ReplicaStatus, ReplicationActivities } from '../activities/guest/replication';
import type { SnapshotMeta } from '../activities/snapshots/store';
import { guestTaskQueue } from '../lib/names';
import { NovaClient, serverAddress } from '../lib/nova-client';

/** Every activity a guest agent serves; tsc checks the no-op answers against the real ones. */
export type NoopGuestActivities = GuestActivities & ReplicationActivities;

/** The binlog position every no-op snapshot "was taken at", and every no-op server has reached. */
export const NOOP_GTID = '0-1-1';
const MYSQL_PORT = 3306;
/** sha256 of no bytes: the checksum of the empty dataset a no-op snapshot holds. */
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function noopGuestActivities(address: () => Promise<string>): NoopGuestActivities {
  const replicaStatus = (): ReplicaStatus => ({
    configured: true,
    sourceHost: null,
    ioRunning: true,
    sqlRunning: true,
    secondsBehind: 0,
    lastIoError: '',
    lastSqlError: '',
    gtidSlavePos: NOOP_GTID,
    gtidBinlogPos: NOOP_GTID,
    gtidIoPos: NOOP_GTID,
    readOnly: true,
    serverId: 1,
    semiSyncSource: false,
    semiSyncReplica: false,
    tls: false,
  });
  return {
    async prepare() {
      return { address: await address(), port: MYSQL_PORT, initialized: true, restarted: false };
    },
    async restart() {
      return { pid: 1 };
    },
    async stop() {
      return { stopped: true };
    },
    async status() {
      return { running: true, pid: 1, prepared: true, readOnly: false, serverId: 1, version: '10.11.0-MariaDB-noop' };
    },
    async volumeInfo() {
      return { sizeGb: null, usedBytes: 0 };
    },
    async ensureReplicationSource() {
      return { alreadySource: true, restarted: false };
    },
    async createSnapshot({ snapshotId }): Promise<SnapshotMeta> {
      return {
        snapshotId,
        master: { host: await address(), port: MYSQL_PORT },
        dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: 0, location: `noop://${snapshotId}`, checksum: EMPTY_SHA256 },
        binlog: { file: 'mysql-bin.000001', position: 4, gtid: NOOP_GTID },
        created: new Date().toISOString(),
      };
    },
    async restoreSnapshot() {
      return { bytes: 0, skipped: false };
    },
    async createReplicationUser({ userName, requireSsl }) {
      return { userName, requireSsl: requireSsl ?? false };
    },
    async dropReplicationUser() {
      return { dropped: true };
    },
    async startReplication() {
      return replicaStatus();
    },
    async replicationStatus() {
      return replicaStatus();
    },
    async gtidPosition() {
      return { gtidBinlogPos: NOOP_GTID, gtidBinlogState: NOOP_GTID, gtidSlavePos: '' };
    },
    async waitForGtid() {
      return replicaStatus();
    },
    async detachReplication() {
      return { wasReplica: true };
    },
    async promoteWhenCaughtUp() {
      return { caughtUp: await replicaStatus(), wasReplica: true };
    },
    async setReadOnly({ readOnly }) {
      return { readOnly };
    },
    async fenceWrites() {
      return { gtidBinlogPos: NOOP_GTID, killedSessions: 0 };
    },
    async configureSemiSync({ role }) {
      return { role };
    },
    async setGtidDomain({ domainId }) {
      return { domainId };
    },
  };
}

export interface NoopGuestsOptions {
  temporalAddress: string;
  namespace?: string;
  novaUrl: string;
  novaToken: string;
  /** The stack's payload encryption (its orchestrator encrypts what it sends these workers). */
  dataConverter?: DataConverter;
  /** How often Nova's server list is read; a new server waits at most this long for its worker. */
  pollMs?: number;
  log?: (line: string) => void;
}

interface Running {
  worker?: Worker;
  run?: Promise<void>;
  /** Set when the worker was retired while it was still being created. */
  retired?: boolean;
}

export class NoopGuests {
  private readonly running = new Map<string, Running>();
  private readonly retired = new Set<string>();
  private readonly addresses = new Map<string, Promise<string>>();
  private readonly nova: NovaClient;
  private readonly pollMs: number;
  private stopped = false;
  private loop?: Promise<void>;
  private lastError?: string;
  /** Workers started, and how long each took from seeing the server in Nova to polling. */
  readonly startMs: number[] = [];
  readonly failures: string[] = [];

  private constructor(
    private readonly connection: NativeConnection,
    private readonly o: NoopGuestsOptions,
  ) {
    this.nova = new NovaClient(o.novaUrl, o.novaToken);
    this.pollMs = o.pollMs ?? 50;
  }

  static async start(o: NoopGuestsOptions): Promise<NoopGuests> {
    const guests = new NoopGuests(await NativeConnection.connect({ address: o.temporalAddress }), o);
    guests.loop = guests.pollLoop();
    return guests;
  }

  /** Servers with a worker polling right now. */
  get active(): number {
    return [...this.running.values()].filter((r) => r.worker && !r.retired).length;
  }

  private address(novaServerId: string): Promise<string> {
    let a = this.addresses.get(novaServerId);
    if (!a) {
      a = this.nova.getServer(novaServerId).then((s) => (s && serverAddress(s)) || '127.0.0.1');
      this.addresses.set(novaServerId, a);
      a.catch(() => this.addresses.delete(novaServerId));
    }
    return a;
  }

  private async listServerIds(): Promise<string[]> {
    // The summary list (id, name, links): a few hundred servers stay a small answer.
    const res = await fetch(`${this.o.novaUrl}/servers`, { headers: { 'X-Auth-Token': this.o.novaToken }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`Nova GET /servers answered ${res.status}`);
    return ((await res.json()) as { servers: { id: string }[] }).servers.map((s) => s.id);
  }

  private async pollLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        for (const id of await this.listServerIds()) if (!this.running.has(id) && !this.retired.has(id)) this.startWorker(id);
        this.lastError = undefined;
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (msg !== this.lastError && !this.stopped) this.o.log?.(`noop guests: ${msg}`);
        this.lastError = msg;
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private startWorker(novaServerId: string): void {
    const entry: Running = {};
    this.running.set(novaServerId, entry);
    const seen = performance.now();
    entry.run = (async () => {
      const worker = await Worker.create({
        connection: this.connection,
        namespace: this.o.namespace ?? 'default',
        taskQueue: guestTaskQueue(novaServerId),
        dataConverter: this.o.dataConverter,
        activities: noopGuestActivities(() => this.address(novaServerId)),
        maxConcurrentActivityTaskExecutions: 20,
        maxConcurrentActivityTaskPolls: 2,
        shutdownGraceTime: '1s',
      });
      entry.worker = worker;
      // Retired while being created: run it only to shut it down cleanly.
      if (entry.retired) return worker.runUntil(Promise.resolve());
      this.startMs.push(performance.now() - seen);
      await worker.run();
    })().catch((err: unknown) => {
      const msg = `guest worker for ${novaServerId}: ${err instanceof Error ? err.message : String(err)}`;
      this.failures.push(msg);
      this.o.log?.(`noop guests: ${msg}`);
    });
  }

  /** Stops the worker of a server the benchmark is done with; it is not started again. */
  async retire(novaServerId: string): Promise<void> {
    this.retired.add(novaServerId);
    const entry = this.running.get(novaServerId);
    if (!entry) return;
    entry.retired = true;
    if (entry.worker && entry.worker.getState() === 'RUNNING') entry.worker.shutdown();
    await entry.run;
    this.running.delete(novaServerId);
  }

  /** Stops polling Nova and every worker, then closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.running.keys()].map((id) => this.retire(id)));
    await this.connection.close();
  }
}
