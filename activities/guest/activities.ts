// Activities that must run on the database host. The guest agent of each server serves
// them on its own task queue (guest-<novaServerId>). Each one is idempotent: it checks
// the state on disk and in mariadbd before acting, so a retry after any crash converges.
import { promises as fs, existsSync } from 'node:fs';
import { heartbeat } from '@temporalio/activity';
import type { UserSpec } from '../../lib/schemas';
import { createDatabase, ensureUser } from './accounts';
import { MYSQL_PORT } from './mariadb-config';
import { initializeDatadir, runningPid, startMariadb, stopMariadb } from './mariadb-process';
import { readServerSettings, withAdmin, writeServerConfig, type GuestDeps } from './server';
import { readVolumeInfo, type VolumeInfo } from './volume';
import { markStopped, stoppedMarker } from './watchdog';

export type { GuestDeps } from './server';

export interface PrepareInput {
  mysqlServerId: number;
  readOnly: boolean;
  databases: string[];
  users: UserSpec[];
}

export interface PrepareResult {
  address: string;
  port: number;
  initialized: boolean;
  restarted: boolean;
}

export interface GuestStatus {
  running: boolean;
  pid: number | null;
  prepared: boolean;
  readOnly: boolean | null;
  serverId: number | null;
  version: string | null;
}

export function createGuestActivities(d: GuestDeps) {
  const { layout } = d;

  /** Init datadir, write config, start mariadbd, create databases and users. */
  async function prepare(input: PrepareInput): Promise<PrepareResult> {
    heartbeat('config');
    await markStopped(layout, false);
    const cnfChanged = await writeServerConfig(d, { mysqlServerId: input.mysqlServerId, readOnly: input.readOnly });
    heartbeat('init');
    const initialized = await initializeDatadir(layout.datadir, d.binaries.installDb);
    let restarted = false;
    if (cnfChanged && (await runningPid(layout))) {
      await stopMariadb(layout);
      restarted = true;
    }
    heartbeat('start');
    await startMariadb(layout, d.binaries);
    heartbeat('accounts');
    await withAdmin(d, async (c) => {
      for (const db of input.databases) await createDatabase(c, { name: db });
      for (const u of input.users) await ensureUser(c, d, u);
      await c.query(`SET GLOBAL read_only = ${input.readOnly ? 'ON' : 'OFF'}`);
    });
    await fs.writeFile(layout.preparedMarker, new Date().toISOString());
    return { address: d.address, port: MYSQL_PORT, initialized, restarted };
  }

  return {
    /** Init datadir, write config, start mariadbd, create databases and users. */
    async prepare(input: PrepareInput): Promise<PrepareResult> {
      return d.maintenance.during(() => prepare(input));
    },

    async restart(): Promise<{ pid: number }> {
      return d.maintenance.during(async () => {
        await markStopped(layout, false);
        await stopMariadb(layout);
        return { pid: await startMariadb(layout, d.binaries) };
      });
    },

    async stop(): Promise<{ stopped: boolean }> {
      return d.maintenance.during(async () => {
        await markStopped(layout, true);
        return { stopped: await stopMariadb(layout) };
      });
    },

    /** The data volume's size as Nova shows it, and the bytes used on it (Trove's get_volume_info). */
    async volumeInfo(): Promise<VolumeInfo> {
      return readVolumeInfo(layout);
    },

    async status(): Promise<GuestStatus> {
      const pid = (await runningPid(layout)) ?? null;
      const base = { running: pid !== null, pid, prepared: existsSync(layout.preparedMarker) };
      const stopped = { ...base, running: false, pid: null, readOnly: null, serverId: null, version: null };
      if (pid === null) return stopped;
      try {
        return await withAdmin(d, async (c) => {
          const [rows] = await c.query('SELECT @@global.read_only AS ro, @@global.server_id AS sid, VERSION() AS v');
          const r = (rows as { ro: number; sid: number; v: string }[])[0]!;
          return { ...base, readOnly: Boolean(r.ro), serverId: Number(r.sid), version: r.v };
        });
      } catch (err) {
        // A server that exits between the pid check and the connection (CI: ECONNRESET right
        // after stop) is not running; one that is still there and refuses is an error.
        if ((await runningPid(layout)) === null) return stopped;
        throw err;
      }
    },
  };
}

export type GuestActivities = ReturnType<typeof createGuestActivities>;

/**
 * At agent start: a server that was prepared gets its database back (reboot, agent restart),
 * its option file rendered again first: a server resized to a new flavor boots with that
 * flavor's memory, and its buffer pool follows.
 */
export async function resumeIfPrepared(d: GuestDeps, boot: { fencedAt?: string } = {}): Promise<number | undefined> {
  if (!existsSync(d.layout.preparedMarker) || existsSync(stoppedMarker(d.layout))) return undefined;
  const settings = await readServerSettings(d);
  // First boot after a fence (Nova's metadata says when): read-only, though it was writable
  // when the power went; whoever unfenced it decides what it becomes. Later boots keep what
  // was set since.
  const fenced = boot.fencedAt !== undefined && settings?.fencedAt !== boot.fencedAt;
  if (settings) await writeServerConfig(d, fenced ? { readOnly: true, fencedAt: boot.fencedAt } : {});
  return startMariadb(d.layout, d.binaries);
}
