// Versioned migrations: files NNN_name.sql applied in order, each once, recorded in
// schema_migrations. A named lock keeps two starting processes from racing.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Pool, RowDataPacket } from 'mysql2/promise';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

export function listMigrations(dir = MIGRATIONS_DIR): { version: number; name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(path.join(dir, f), 'utf8') }));
}

export interface MigrateOptions {
  /** Where the NNN_name.sql files are (this folder's migrations/ by default). */
  dir?: string;
  /** Apply versions up to and including this one only (a test of a later migration over older data). */
  upTo?: number;
}

export async function migrate(pool: Pool, opts: MigrateOptions = {}): Promise<string[]> {
  const conn = await pool.getConnection();
  const applied: string[] = [];
  try {
    await conn.query("SELECT GET_LOCK('trove_migrations', 60)");
    await conn.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))',
    );
    const [rows] = await conn.query<RowDataPacket[]>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    for (const m of listMigrations(opts.dir)) {
      if (done.has(m.version) || (opts.upTo !== undefined && m.version > opts.upTo)) continue;
      // DDL commits implicitly in MariaDB, so each statement runs on its own.
      for (const stmt of m.sql.split(/;\s*$/m).map((s) => s.trim()).filter((s) => s && !/^(--[^\n]*\n?)+$/.test(s))) {
        await conn.query(stmt);
      }
      await conn.query('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [m.version, m.name]);
      applied.push(m.name);
    }
  } finally {
    await conn.query("SELECT RELEASE_LOCK('trove_migrations')").catch(() => undefined);
    conn.release();
  }
  return applied;
}
