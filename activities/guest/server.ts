// What every guest activity needs: the server's files, its admin connection, and a way to
// (re)write its option file. Kept apart so that the lifecycle and replication activities
// share one definition of each.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { ensureAdminPassword } from './admin-secret';
import { ensureServerIdentity } from './tls-identity';
import type { ServerLayout } from './layout';
import { nativePasswordHash, renderInitSql, renderMyCnf, type SemiSyncRole } from './mariadb-config';
import { connectAdmin, type MariadbBinaries } from './mariadb-process';
import type { Maintenance } from './watchdog';
import type { BootExtraction } from './snapshot-extract';

export interface GuestDeps {
  layout: ServerLayout;
  address: string;
  flavorRamMb: number;
  secretKey: Buffer;
  binaries: MariadbBinaries & { backup: string; mbstream: string; python: string };
  snapshotDir: string;
  /** Held while an activity stops the database on purpose, so the watchdog keeps off. */
  maintenance: Maintenance;
  /** The snapshot extraction this server started as it booted, if Nova's metadata named one. */
  bootExtraction?: BootExtraction;
}

/** Writes a file only when its content changes; says whether it did. */
export async function writeIfChanged(file: string, content: string, mode = 0o600): Promise<boolean> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await fs.writeFile(`${file}.tmp`, content, { mode });
  await fs.rename(`${file}.tmp`, file);
  return true;
}

/** What the orchestrator decided for this server; my.cnf is rendered from it. */
export interface ServerSettings {
  mysqlServerId: number;
  readOnly: boolean;
  semiSync: SemiSyncRole;
  /** Set on a side of a master-master pair (setGtidDomain). */
  gtidDomainId?: number;
  /** The fence (Nova metadata, its time) this server last booted after: it booted read-only then. */
  fencedAt?: string;
}

const settingsFile = (d: GuestDeps) => path.join(d.layout.dir, 'settings.json');

export async function readServerSettings(d: GuestDeps): Promise<ServerSettings | undefined> {
  try {
    return JSON.parse(await fs.readFile(settingsFile(d), 'utf8')) as ServerSettings;
  } catch {
    return undefined;
  }
}

/**
 * Merges a change into the server's settings and writes my.cnf and init.sql, so a setting
 * made at run time (read_only, semi-sync) survives a restart. Says whether my.cnf changed.
 */
export async function writeServerConfig(d: GuestDeps, patch: Partial<ServerSettings>): Promise<boolean> {
  await fs.mkdir(d.layout.runDir, { recursive: true });
  const current = await readServerSettings(d);
  const next: ServerSettings = { readOnly: false, semiSync: 'off', ...current, ...patch } as ServerSettings;
  if (!next.mysqlServerId) throw new Error('the server has no server_id yet: prepare or restore it first');
  await writeIfChanged(settingsFile(d), JSON.stringify(next));
  const password = await ensureAdminPassword(d.layout);
  // my.cnf names the TLS files: they exist before any start reads it.
  await ensureServerIdentity(d.layout, d.address);
  const changed = await writeIfChanged(
    d.layout.configFile,
    renderMyCnf(d.layout, { serverId: next.mysqlServerId, address: d.address, flavorRamMb: d.flavorRamMb, readOnly: next.readOnly, semiSync: next.semiSync, ...(next.gtidDomainId !== undefined ? { gtidDomainId: next.gtidDomainId } : {}) }),
  );
  await writeIfChanged(d.layout.initFile, renderInitSql(nativePasswordHash(password)));
  return changed;
}

export async function withAdmin<T>(d: GuestDeps, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await connectAdmin(d.layout, await ensureAdminPassword(d.layout));
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export async function queryRows<T>(c: Connection, sql: string, args: unknown[] = []): Promise<T[]> {
  const [rows] = await c.query(sql, args);
  return rows as T[];
}
