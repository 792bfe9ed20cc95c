// The registry's connection and its one transaction helper. Every store method takes an
// optional Db so that a change spanning several stores commits as one transaction.
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2/promise';

/** A pool, or one connection inside a transaction: both answer query(). */
export type Db = Pick<Pool, 'query'>;

export interface RegistryConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The registry's connection as a process's configuration names it (lib/config.ts). */
export function registryConnectionOf(c: { TROVE_REGISTRY_HOST: string; TROVE_REGISTRY_PORT: number; TROVE_REGISTRY_USER: string; TROVE_REGISTRY_PASSWORD: string; TROVE_REGISTRY_DATABASE: string }): RegistryConnection {
  return { host: c.TROVE_REGISTRY_HOST, port: c.TROVE_REGISTRY_PORT, user: c.TROVE_REGISTRY_USER, password: c.TROVE_REGISTRY_PASSWORD, database: c.TROVE_REGISTRY_DATABASE };
}

export function createRegistryPool(c: RegistryConnection, extra: Partial<PoolOptions> = {}): Pool {
  return createPool({ ...c, connectionLimit: 8, timezone: 'Z', ...extra });
}

/**
 * Rows grouped by a column, each group in the rows' order. The watch's batches hydrate a
 * thousand members at once: filtering every row list per member was quadratic.
 */
export function groupBy<R extends Record<string, unknown>>(rows: R[], column: keyof R): Map<unknown, R[]> {
  const out = new Map<unknown, R[]>();
  for (const r of rows) {
    const list = out.get(r[column]);
    if (list) list.push(r);
    else out.set(r[column], [r]);
  }
  return out;
}

/** Runs fn in one transaction on one connection: all of it, or none of it. */
export async function inTransaction<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await fn(conn);
    await conn.commit();
    return result;
  } catch (e) {
    await conn.rollback();
    throw e;
  } finally {
    conn.release();
  }
}
