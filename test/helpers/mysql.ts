// Direct MariaDB access for tests: as the application user over TCP, or as a server's
// admin over its socket (the admin password never leaves the server's folder).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';

export async function adminConnection(dataDir: string, novaServerId: string): Promise<Connection> {
  const dir = path.join(dataDir, 'servers', novaServerId);
  const { password } = JSON.parse(readFileSync(path.join(dir, 'admin.json'), 'utf8')) as { password: string };
  return createConnection({ socketPath: path.join(dir, 'run', 'mysqld.sock'), user: 'os_admin', password });
}

export async function adminQuery<T = Record<string, unknown>>(dataDir: string, novaServerId: string, sql: string, args: unknown[] = []): Promise<T[]> {
  const c = await adminConnection(dataDir, novaServerId);
  try {
    const [rows] = await c.query(sql, args);
    return rows as T[];
  } finally {
    await c.end();
  }
}

/** CHECKSUM TABLE of every listed table, as one comparable object. */
export async function checksums(dataDir: string, novaServerId: string, tables: string[]): Promise<Record<string, string>> {
  const rows = await adminQuery<{ Table: string; Checksum: number | string }>(dataDir, novaServerId, `CHECKSUM TABLE ${tables.join(', ')}`);
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}
