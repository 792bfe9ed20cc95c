// Replication activities served by a server's guest agent: as a source (snapshot,
// replication accounts, GTID position) and as a replica (restore, attach, catch up,
// detach). Each checks the server's state first, so a retry after a crash converges.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cancellationSignal, Context, heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/errors';
import { unsealSecret } from '../../lib/secrets';
import type { SnapshotMeta, SnapshotStore } from '../snapshots/store';
import { ensureAdminPassword } from './admin-secret';
import { setAuthorityInstalled } from './tls-identity';
import { prepareBackup, streamBackup } from './mariabackup';
import { withHeartbeats } from './keep-alive';
import { extractSnapshot, restoreTarget, type Extracted } from './snapshot-extract';
import { ADMIN_USER, MYSQL_PORT, nativePasswordHash, SEMI_SYNC_TIMEOUT_MS, type SemiSyncRole } from './mariadb-config';
import { startMariadb, stopMariadb } from './mariadb-process';
import { queryRows, withAdmin, writeServerConfig, type GuestDeps } from './server';
import { readReplicaStatus, type ReplicaStatus, type SlaveStatusRow } from './replica-status';

export type { ReplicaStatus } from './replica-status';

export interface ReplicationSource {
  host: string;
  port: number;
  userName: string;
  sealedPassword: string;
  /** Connect with TLS and verify the source's certificate against this server's copy of the set's CA. */
  tls?: boolean;
}

export interface RestoreResult {
  bytes: number;
  skipped: boolean;
  /** The extraction began as the agent booted (Nova metadata), before this activity ran. */
  startedAtBoot?: boolean;
  /** extract: from the activity's start to the verified extraction (a followed snapshot: until it is committed and read). */
  seconds?: { extract: number; prepare: number; start: number };
}

const REPLICATION_USER = /^[A-Za-z0-9_]{1,32}$/;

function checkUserName(name: string): string {
  if (!REPLICATION_USER.test(name)) throw ApplicationFailure.nonRetryable(`userName: must match ${REPLICATION_USER.source}`, ErrorType.InvalidInput);
  return name;
}

export function createReplicationActivities(d: GuestDeps, store: SnapshotStore) {
  const { layout } = d;
  const restoredMarker = (snapshotId: string) => path.join(layout.dir, `restored-${snapshotId}`);

  /**
   * This server replicates from another (a relay in a cascade): an account made here must
   * stay out of its binlog. Binlogged, it would be a transaction of this server's own in the
   * stream it relays, an errant GTID that gtid_strict_mode refuses to follow with the next
   * replicated one; the top source's accounts, binlogged, reach every member as they should.
   */
  async function replicatesItself(): Promise<boolean> {
    return (await status()).configured;
  }

  const status = (): Promise<ReplicaStatus> => withAdmin(d, readReplicaStatus);

  /** Waits until this replica has applied gtid, failing early if replication broke. */
  async function waitForGtid(input: { gtid: string; timeoutSeconds: number }): Promise<ReplicaStatus> {
    const deadline = Date.now() + input.timeoutSeconds * 1000;
    for (;;) {
      const [row] = await withAdmin(d, (c) => queryRows<{ r: number }>(c, 'SELECT MASTER_GTID_WAIT(?, 1) AS r', [input.gtid]));
      const s = await status();
      heartbeat({ phase: 'catch-up', secondsBehind: s.secondsBehind, gtidSlavePos: s.gtidSlavePos, target: input.gtid });
      if (row!.r === 0) return s;
      if (s.lastSqlError) throw ApplicationFailure.nonRetryable(`replication SQL thread failed: ${s.lastSqlError}`, ErrorType.GuestFailed);
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(`replica did not reach ${input.gtid} within ${input.timeoutSeconds}s (at ${s.gtidSlavePos}; IO: ${s.lastIoError || (s.ioRunning ? 'running' : 'stopped')})`, ErrorType.GuestFailed);
      }
      await sleep(200);
    }
  }

  /** Stops replicating for good; writable at once unless the caller makes it so later. */
  async function detachReplication(input: { writable?: boolean } = {}): Promise<{ wasReplica: boolean }> {
    const writable = input.writable ?? true;
    const before = await status();
    await withAdmin(d, async (c) => {
      await c.query('STOP SLAVE');
      await c.query('RESET SLAVE ALL');
      if (writable) await c.query('SET GLOBAL read_only = OFF');
    });
    if (writable) await writeServerConfig(d, { readOnly: false });
    return { wasReplica: before.configured };
  }

  type RestoreInput = { snapshotId: string; mysqlServerId: number; readOnly: boolean; follow?: boolean };
  // One restore at a time on this server: a retry must never empty the folder an attempt
  // still running is extracting or preparing (it waits for that attempt to end instead).
  let lastRestore: Promise<unknown> = Promise.resolve();

  /**
   * Replaces this server's data with the snapshot's and starts MariaDB on it. follow: the
   * snapshot may still be being taken; extract it as it grows (verified at the end all
   * the same), so the restore overlaps the source's backup instead of following it.
   */
  function restore(input: RestoreInput): Promise<RestoreResult> {
    return withHeartbeats(async (beat) => {
      beat({ phase: 'restore' });
      const mine = lastRestore.then(() => restoreOnce(input, beat));
      lastRestore = mine.catch(() => undefined);
      return mine;
    });
  }

  async function restoreOnce(input: RestoreInput, beat: (details: unknown) => void): Promise<RestoreResult> {
    if (existsSync(restoredMarker(input.snapshotId))) {
      await writeServerConfig(d, { mysqlServerId: input.mysqlServerId, readOnly: input.readOnly });
      await startMariadb(layout, d.binaries);
      return { bytes: 0, skipped: true };
    }
    const started = Date.now();
    await stopMariadb(layout);
    const atBoot = d.bootExtraction?.take(input.snapshotId);
    let extracted: Extracted;
    if (atBoot) {
      // Started as the agent booted: report its progress while it runs on.
      const progress = setInterval(() => beat({ phase: 'restore', bytes: d.bootExtraction!.bytes, startedAtBoot: true }), 1000);
      try {
        extracted = await Promise.race([atBoot, Context.current().cancelled]);
      } finally {
        clearInterval(progress);
      }
    } else {
      await d.bootExtraction?.idle();
      extracted = await extractSnapshot(layout, d.binaries, store, input.snapshotId, {
        follow: input.follow ?? false,
        onProgress: (bytes) => beat({ phase: 'restore', bytes }),
        onWait: () => beat({ phase: 'waiting for snapshot data' }),
        signal: cancellationSignal(),
      });
    }
    const { meta } = extracted;
    const extractedAt = Date.now();
    beat({ phase: 'prepare', bytes: extracted.bytes });
    await prepareBackup(d.binaries.backup, restoreTarget(layout));
    await fs.rm(layout.datadir, { recursive: true, force: true });
    await fs.rename(restoreTarget(layout), layout.datadir);
    const preparedAt = Date.now();
    await writeServerConfig(d, { mysqlServerId: input.mysqlServerId, readOnly: input.readOnly });
    beat({ phase: 'start' });
    await startMariadb(layout, d.binaries);
    await fs.writeFile(restoredMarker(input.snapshotId), meta.binlog.gtid);
    await fs.writeFile(layout.preparedMarker, new Date().toISOString());
    // Where a restore spends its time, visible in the activity's result in the Web UI.
    const seconds = (from: number, to: number) => (to - from) / 1000;
    return { bytes: extracted.bytes, skipped: false, startedAtBoot: atBoot !== undefined, seconds: { extract: seconds(started, extractedAt), prepare: seconds(extractedAt, preparedAt), start: seconds(preparedAt, Date.now()) } };
  }

  return {
    /** Our instances always run with binlog and GTID; this confirms it rather than assuming. */
    async ensureReplicationSource(): Promise<{ alreadySource: boolean; restarted: boolean }> {
      const [row] = await withAdmin(d, (c) => queryRows<{ log_bin: number }>(c, 'SELECT @@global.log_bin AS log_bin'));
      if (row!.log_bin) return { alreadySource: true, restarted: false };
      throw ApplicationFailure.nonRetryable('this server runs without a binary log and cannot be a replication source', ErrorType.InvalidInput);
    },

    /** Streams a consistent mariadb-backup of this server into the snapshot store. */
    async createSnapshot(input: { snapshotId: string }): Promise<SnapshotMeta> {
      const existing = await store.meta(input.snapshotId);
      if (existing) return existing;
      const writer = await store.create(input.snapshotId);
      const scratchDir = path.join(layout.dir, 'backup-scratch');
      await fs.rm(scratchDir, { recursive: true, force: true });
      try {
        const result = await streamBackup(
          { backupBin: d.binaries.backup, socket: layout.socket, user: ADMIN_USER, password: await ensureAdminPassword(layout), scratchDir },
          writer.localPath ? { file: writer.localPath } : writer.openStream(),
          (bytes) => heartbeat({ phase: 'snapshot', bytes }),
          cancellationSignal(),
        );
        const meta: SnapshotMeta = {
          snapshotId: input.snapshotId,
          master: { host: d.address, port: MYSQL_PORT },
          dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: result.bytes, location: writer.location, checksum: result.checksum },
          binlog: result.binlog,
          created: new Date().toISOString(),
        };
        await writer.commit(meta);
        return meta;
      } catch (err) {
        await writer.abort();
        throw err;
      } finally {
        await fs.rm(scratchDir, { recursive: true, force: true });
      }
    },

    async restoreSnapshot(input: { snapshotId: string; mysqlServerId: number; readOnly: boolean; follow?: boolean }): Promise<RestoreResult> {
      return d.maintenance.during(() => restore(input));
    },

    /**
     * Returns the account's name only: the Web UI shows results, and the password is a secret.
     * requireSsl: the account logs in over TLS only (a TLS set's); without it, over either.
     */
    async createReplicationUser(input: { userName: string; sealedPassword: string; requireSsl?: boolean }): Promise<{ userName: string; requireSsl: boolean }> {
      const account = `'${checkUserName(input.userName)}'@'%'`;
      const hash = nativePasswordHash(unsealSecret(d.secretKey, input.sealedPassword));
      const requireSsl = input.requireSsl ?? false;
      const relay = await replicatesItself();
      await withAdmin(d, async (c) => {
        if (relay) await c.query('SET SESSION sql_log_bin = 0');
        await c.query(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY PASSWORD '${hash}'`);
        await c.query(`ALTER USER ${account} IDENTIFIED BY PASSWORD '${hash}' REQUIRE ${requireSsl ? 'SSL' : 'NONE'}`);
        await c.query(`GRANT REPLICATION SLAVE ON *.* TO ${account}`);
      });
      return { userName: input.userName, requireSsl };
    },

    async dropReplicationUser(input: { userName: string }): Promise<{ dropped: boolean }> {
      const name = checkUserName(input.userName);
      const relay = await replicatesItself();
      return withAdmin(d, async (c) => {
        if (relay) await c.query('SET SESSION sql_log_bin = 0');
        const rows = await queryRows(c, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [name]);
        await c.query(`DROP USER IF EXISTS '${name}'@'%'`);
        return { dropped: rows.length > 0 };
      });
    },

    /** Points this server at its source and starts replicating, from gtid on a fresh restore. */
    async startReplication(input: { source: ReplicationSource; gtid?: string; fromOwnBinlog?: boolean }): Promise<ReplicaStatus> {
      const tls = input.source.tls ?? false;
      const current = await status();
      if (current.configured && current.sourceHost === input.source.host && current.tls === tls && current.ioRunning && current.sqlRunning) return current;
      if (tls && !(await setAuthorityInstalled(layout))) {
        throw ApplicationFailure.nonRetryable("source.tls: this server has no certificate from its set's CA to verify its source with (installCertificate first)", ErrorType.InvalidInput);
      }
      const password = unsealSecret(d.secretKey, input.source.sealedPassword);
      await withAdmin(d, async (c) => {
        await c.query('STOP SLAVE');
        if (input.gtid !== undefined) await c.query('SET GLOBAL gtid_slave_pos = ?', [input.gtid]);
        // A former source has never replicated: it resumes from what it wrote itself.
        if (input.fromOwnBinlog && !current.configured) await c.query('SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos');
        // CHANGE MASTER keeps every option it is not given: TLS is set either way, so a link
        // re-pointed in a plain set never keeps a TLS setting from before.
        const ssl = tls ? 'MASTER_SSL = 1, MASTER_SSL_CA = ?, MASTER_SSL_VERIFY_SERVER_CERT = 1' : 'MASTER_SSL = 0, MASTER_SSL_VERIFY_SERVER_CERT = 0';
        await c.query(`CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1, ${ssl}`, [
          input.source.host,
          input.source.port,
          checkUserName(input.source.userName),
          password,
          ...(tls ? [layout.caCert] : []),
        ]);
        await c.query('START SLAVE');
      });
      return status();
    },

    async replicationStatus(): Promise<ReplicaStatus> {
      return status();
    },

    async gtidPosition(): Promise<{ gtidBinlogPos: string; gtidBinlogState: string; gtidSlavePos: string }> {
      const [row] = await withAdmin(d, (c) =>
        queryRows<{ pos: string; state: string; slave: string }>(c, 'SELECT @@global.gtid_binlog_pos AS pos, @@global.gtid_binlog_state AS state, @@global.gtid_slave_pos AS slave'),
      );
      // The binlog state (the last GTID of each domain and server) tells errant transactions apart (lib/gtid.ts errantTransactions).
      return { gtidBinlogPos: row!.pos, gtidBinlogState: row!.state, gtidSlavePos: row!.slave };
    },

    waitForGtid,
    detachReplication,

    /**
     * An unplanned failover's candidate: applies its relay log up to gtid, then stops
     * replicating and takes writes, in one call (one round trip through Temporal fewer
     * between the crash and the first write, issue 17). A retry converges: the wait returns
     * at once once applied, and the detach of a detached server changes nothing.
     */
    async promoteWhenCaughtUp(input: { gtid: string; timeoutSeconds: number }): Promise<{ caughtUp: ReplicaStatus; wasReplica: boolean }> {
      const caughtUp = await waitForGtid(input);
      const { wasReplica } = await detachReplication({ writable: true });
      return { caughtUp, wasReplica };
    },

    async setReadOnly(input: { readOnly: boolean }): Promise<{ readOnly: boolean }> {
      await withAdmin(d, (c) => c.query(`SET GLOBAL read_only = ${input.readOnly ? 'ON' : 'OFF'}`));
      await writeServerConfig(d, { readOnly: input.readOnly });
      return { readOnly: input.readOnly };
    },

    /**
     * Switchover's first step on the old source: no client can write any more. MariaDB's
     * read_only does not stop users with READ ONLY ADMIN, so every client session other
     * than replication's and our own is ended too. Returns the position to wait for.
     */
    async fenceWrites(): Promise<{ gtidBinlogPos: string; killedSessions: number }> {
      await writeServerConfig(d, { readOnly: true });
      return withAdmin(d, async (c) => {
        await c.query('SET GLOBAL read_only = ON');
        const sessions = await queryRows<{ id: number }>(
          c,
          "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler') AND COMMAND NOT IN ('Binlog Dump', 'Daemon') AND USER NOT LIKE 'repl\\_%'",
        );
        for (const s of sessions) await c.query('KILL CONNECTION ?', [s.id]).catch(() => undefined);
        const [row] = await queryRows<{ pos: string }>(c, 'SELECT @@global.gtid_binlog_pos AS pos');
        return { gtidBinlogPos: row!.pos, killedSessions: sessions.length };
      });
    },

    /**
     * A side of a master-master pair: its own writes go in GTID domain `domainId`, now (new
     * sessions) and after restarts (my.cnf), so the positions of the two sides never collide
     * and each side can follow the other's stream under gtid_strict_mode.
     */
    async setGtidDomain(input: { domainId: number }): Promise<{ domainId: number }> {
      if (!Number.isInteger(input.domainId) || input.domainId < 0 || input.domainId > 0xffffffff) {
        throw ApplicationFailure.nonRetryable('domainId: must be a whole number from 0 to 4294967295', ErrorType.InvalidInput);
      }
      await writeServerConfig(d, { gtidDomainId: input.domainId });
      await withAdmin(d, (c) => c.query(`SET GLOBAL gtid_domain_id = ${input.domainId}`));
      return { domainId: input.domainId };
    },

    /** Turns semi-synchronous replication on or off for this server's role, now and after restarts. */
    async configureSemiSync(input: { role: SemiSyncRole }): Promise<{ role: SemiSyncRole }> {
      await writeServerConfig(d, { semiSync: input.role });
      await withAdmin(d, async (c) => {
        await c.query(`SET GLOBAL rpl_semi_sync_master_enabled = ${input.role === 'source' ? 'ON' : 'OFF'}`);
        if (input.role === 'source') {
          await c.query('SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC');
          await c.query(`SET GLOBAL rpl_semi_sync_master_timeout = ${SEMI_SYNC_TIMEOUT_MS}`);
        }
        await c.query(`SET GLOBAL rpl_semi_sync_slave_enabled = ${input.role === 'replica' ? 'ON' : 'OFF'}`);
        // The IO thread picks the replica side up only when it reconnects; one still
        // connecting (just started by a move to a new source) started without it too.
        const [s] = await queryRows<SlaveStatusRow>(c, 'SHOW SLAVE STATUS');
        if (s && s.Slave_IO_Running !== 'No') {
          await c.query('STOP SLAVE IO_THREAD');
          await c.query('START SLAVE IO_THREAD');
        }
      });
      return { role: input.role };
    },

  };
}

export type ReplicationActivities = ReturnType<typeof createReplicationActivities>;
