// What the application's account sees of a member, for writers and samplers in benchmarks
// and tests: a probe that fails (no answer, refused, timed out) counts as "no".
import { createConnection, type ConnectionOptions } from 'mysql2/promise';

async function withApp<T>(opts: ConnectionOptions, timeoutMs: number, use: (c: Awaited<ReturnType<typeof createConnection>>) => Promise<T>, otherwise: T): Promise<T> {
  const c = await createConnection({ port: 3306, ...opts, connectTimeout: timeoutMs }).catch(() => undefined);
  if (!c) return otherwise;
  try {
    return await use(c);
  } catch {
    return otherwise;
  } finally {
    c.destroy();
  }
}

/** The member answers this account with read_only off: it would accept the account's writes. */
export function writableForApp(opts: ConnectionOptions, timeoutMs = 500): Promise<boolean> {
  return withApp(opts, timeoutMs, async (c) => {
    const [rows] = await c.query({ sql: 'SELECT @@global.read_only AS ro', timeout: timeoutMs });
    return (rows as { ro: number }[])[0]!.ro === 0;
  }, false);
}

/** An INSERT through this account commits on the member now. */
export function appInsertCommits(opts: ConnectionOptions, sql: string, values: unknown[], timeoutMs = 500): Promise<boolean> {
  return withApp(opts, timeoutMs, async (c) => {
    await c.query({ sql, values, timeout: timeoutMs });
    return true;
  }, false);
}
