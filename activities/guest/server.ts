// What every guest activity needs: the server's files, its admin connection, and a way to
// (re)write its option file. Kept apart so that the lifecycle and replication activities
// share one definition of each.
import { promises as fs } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { ensureAdminPassword } from './admin-secret';
import type { ServerLayout } from './layout';
import { nativePasswordHash, renderInitSql, renderMyCnf } from './mariadb-config';
import { connectAdmin, type MariadbBinaries } from './mariadb-process';

export interface GuestDeps {
  layout: ServerLayout;
  address: string;
  flavorRamMb: number;
  secretKey: Buffer;
  binaries: MariadbBinaries & { backup: string; mbstream: string };
  snapshotDir: string;
}

/** Writes a file only when its content changes; says whether it did. */
export async function writeIfChanged(file: string, content: string, mode = 0o600): Promise<boolean> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await fs.writeFile(`${file}.tmp`, content, { mode });
  await fs.rename(`${file}.tmp`, file);
  return true;
}

/** Writes my.cnf and init.sql; says whether my.cnf changed (a restart applies it). */
export async function writeServerConfig(d: GuestDeps, mysqlServerId: number, readOnly: boolean): Promise<boolean> {
  await fs.mkdir(d.layout.runDir, { recursive: true });
  const password = await ensureAdminPassword(d.layout);
  const changed = await writeIfChanged(d.layout.configFile, renderMyCnf(d.layout, { serverId: mysqlServerId, address: d.address, flavorRamMb: d.flavorRamMb, readOnly }));
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
