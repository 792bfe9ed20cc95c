// Activities that must run on the database host. The guest agent of each server serves
// them on its own task queue (guest-<novaServerId>). Each one is idempotent: it checks
// the state on disk and in mariadbd before acting, so a retry after any crash converges.
import { promises as fs, existsSync } from 'node:fs';
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/errors';
import type { UserSpec } from '../../lib/schemas';
import { unsealSecret } from '../../lib/secrets';
import { ensureAdminPassword } from './admin-secret';
import type { ServerLayout } from './layout';
import { MYSQL_PORT, nativePasswordHash, quoteIdent, renderInitSql, renderMyCnf } from './mariadb-config';
import { connectAdmin, initializeDatadir, runningPid, startMariadb, stopMariadb, type MariadbBinaries } from './mariadb-process';

export interface GuestDeps {
  layout: ServerLayout;
  address: string;
  flavorRamMb: number;
  secretKey: Buffer;
  binaries: MariadbBinaries;
}

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

/** Writes a file only when its content changes; says whether it did. */
async function writeIfChanged(file: string, content: string, mode = 0o600): Promise<boolean> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await fs.writeFile(`${file}.tmp`, content, { mode });
  await fs.rename(`${file}.tmp`, file);
  return true;
}

export function createGuestActivities(d: GuestDeps) {
  const { layout } = d;

  async function writeConfig(mysqlServerId: number, readOnly: boolean): Promise<boolean> {
    await fs.mkdir(layout.runDir, { recursive: true });
    const password = await ensureAdminPassword(layout);
    const cnfChanged = await writeIfChanged(layout.configFile, renderMyCnf(layout, { serverId: mysqlServerId, address: d.address, flavorRamMb: d.flavorRamMb, readOnly }));
    await writeIfChanged(layout.initFile, renderInitSql(nativePasswordHash(password)));
    return cnfChanged;
  }

  async function withAdmin<T>(fn: (c: import('mysql2/promise').Connection) => Promise<T>): Promise<T> {
    const conn = await connectAdmin(layout, await ensureAdminPassword(layout));
    try {
      return await fn(conn);
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  return {
    /** Init datadir, write config, start mariadbd, create databases and users. */
    async prepare(input: PrepareInput): Promise<PrepareResult> {
      heartbeat('config');
      const cnfChanged = await writeConfig(input.mysqlServerId, input.readOnly);
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
      await withAdmin(async (c) => {
        for (const db of input.databases) await c.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(db)}`);
        for (const u of input.users) {
          let password: string;
          try {
            password = unsealSecret(d.secretKey, u.sealedPassword);
          } catch {
            throw ApplicationFailure.nonRetryable(`users: the password of "${u.name}" cannot be unsealed with this deployment's key`, ErrorType.InvalidInput);
          }
          const account = `'${u.name}'@'${u.host}'`;
          const hash = nativePasswordHash(password);
          await c.query(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY PASSWORD '${hash}'`);
          await c.query(`ALTER USER ${account} IDENTIFIED BY PASSWORD '${hash}'`);
          for (const db of u.databases) await c.query(`GRANT ALL PRIVILEGES ON ${quoteIdent(db)}.* TO ${account}`);
        }
        await c.query(`SET GLOBAL read_only = ${input.readOnly ? 'ON' : 'OFF'}`);
      });
      await fs.writeFile(layout.preparedMarker, new Date().toISOString());
      return { address: d.address, port: MYSQL_PORT, initialized, restarted };
    },

    async restart(): Promise<{ pid: number }> {
      await stopMariadb(layout);
      return { pid: await startMariadb(layout, d.binaries) };
    },

    async stop(): Promise<{ stopped: boolean }> {
      return { stopped: await stopMariadb(layout) };
    },

    async status(): Promise<GuestStatus> {
      const pid = (await runningPid(layout)) ?? null;
      const base = { running: pid !== null, pid, prepared: existsSync(layout.preparedMarker) };
      if (pid === null) return { ...base, readOnly: null, serverId: null, version: null };
      return withAdmin(async (c) => {
        const [rows] = await c.query('SELECT @@global.read_only AS ro, @@global.server_id AS sid, VERSION() AS v');
        const r = (rows as { ro: number; sid: number; v: string }[])[0]!;
        return { ...base, readOnly: Boolean(r.ro), serverId: Number(r.sid), version: r.v };
      });
    },
  };
}

export type GuestActivities = ReturnType<typeof createGuestActivities>;

/** At agent start: a server that was prepared gets its database back (reboot, agent restart). */
export async function resumeIfPrepared(d: GuestDeps): Promise<number | undefined> {
  if (!existsSync(d.layout.preparedMarker)) return undefined;
  return startMariadb(d.layout, d.binaries);
}
