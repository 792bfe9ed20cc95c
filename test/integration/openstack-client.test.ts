// A whole life cycle driven by the real OpenStack client (python-openstackclient +
// python-troveclient, installed into .venv by scripts/setup.sh), as a Trove user types it:
// `openstack database instance create ...`. After each step the database itself is checked
// (who can log in, what replicates, who takes writes), not only what the client prints.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { REPO_ROOT } from '../../lib/config';
import { eventually, useTestStack } from '../helpers/stack';

const run = promisify(execFile);
const OPENSTACK = path.join(REPO_ROOT, '.venv', 'bin', 'openstack');

const env = useTestStack();

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `openstack <args>` with token auth against the test API, scoped to proj-a. */
async function openstack(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(OPENSTACK, ['--os-auth-type', 'admin_token', '--os-token', env.token, '--os-endpoint', `${env.apiUrl}/v1.0/proj-a`, ...args], {
      timeout: 60_000,
      env: { PATH: process.env.PATH!, HOME: env.dataDir, COLUMNS: '100' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** A command that must succeed; its `-f json` output parsed when it has one. */
async function ok(...args: string[]): Promise<any> {
  const r = await openstack(...args);
  if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  if (!args.includes('json') || !r.stdout.trim()) return r.stdout;
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`openstack ${args.join(' ')} printed no JSON: ${r.stdout}`);
  }
}

const show = (ref: string) => ok('database', 'instance', 'show', ref, '-f', 'json');

async function waitStatus(ref: string, status: string, timeoutMs = 240_000): Promise<any> {
  return eventually(`${ref} ${status} (as the client shows it)`, async () => {
    const s = await show(ref);
    if (s.status === 'ERROR' && status !== 'ERROR') throw new Error(`${ref} went to ERROR: ${JSON.stringify(s.fault ?? s)}`);
    return s.status === status ? s : undefined;
  }, timeoutMs);
}

/** The client's `addresses` column: a list of {address, type} (or its text form in older releases). */
function addressOf(shown: any): string {
  const a = shown.addresses;
  if (Array.isArray(a)) return a[0].address;
  const m = /(\d+\.\d+\.\d+\.\d+)/.exec(String(a));
  if (!m) throw new Error(`no address in ${JSON.stringify(a)}`);
  return m[1]!;
}

async function query(shown: any, user: string, password: string, sql: string, database?: string): Promise<any[]> {
  const port = (await env.api('GET', `/v1.0/proj-a/instances/${shown.id}`)).body.instance.port as number;
  const conn = await createConnection({ host: addressOf(shown), port, user, password, database });
  try {
    const [rows] = await conn.query(sql);
    return rows as any[];
  } finally {
    await conn.end();
  }
}

const roleOf = (list: any[], name: string) => list.find((i) => i.Name === name)?.Role;

test('a life cycle with `openstack database ...`: create with a database and a user, db and user commands, restart, resize, replicas, roles, detach, rename, promote, eject refused, delete', async () => {
  // Create: the client looks the flavor up, sends access, datastore mysql, a database and a user.
  const created = await ok('database', 'instance', 'create', 'osc-db', '--flavor', '1', '--size', '1', '--datastore', 'mysql', '--datastore-version', '10.11', '--databases', 'shop', '--users', 'app:app-pass-1', '-f', 'json');
  expect(created).toMatchObject({ name: 'osc-db', status: 'BUILD' });
  const source = await waitStatus('osc-db', 'ACTIVE');
  await query(source, 'app', 'app-pass-1', 'CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20))', 'shop');
  await query(source, 'app', 'app-pass-1', "INSERT INTO orders VALUES (1, 'tea')", 'shop');

  // Databases and users, as the client's db and user commands manage them.
  await ok('database', 'db', 'create', 'osc-db', 'extra');
  expect((await ok('database', 'db', 'list', 'osc-db', '-f', 'json')).map((d: any) => d.Name).sort()).toEqual(['extra', 'shop']);
  await ok('database', 'user', 'create', 'osc-db', 'bob', 'bob-pass-1', '--databases', 'extra');
  expect((await ok('database', 'user', 'list', 'osc-db', '-f', 'json')).map((u: any) => u.Name).sort()).toEqual(['app', 'bob']);
  expect(await query(source, 'bob', 'bob-pass-1', 'SELECT DATABASE() AS db', 'extra')).toEqual([{ db: 'extra' }]);
  await ok('database', 'user', 'grant', 'access', 'osc-db', 'bob', 'shop');
  expect((await ok('database', 'user', 'show', 'access', 'osc-db', 'bob', '-f', 'json')).map((d: any) => d.Name).sort()).toEqual(['extra', 'shop']);
  expect(await query(source, 'bob', 'bob-pass-1', 'SELECT COUNT(*) AS n FROM orders', 'shop')).toEqual([{ n: 1 }]);
  await ok('database', 'user', 'revoke', 'access', 'osc-db', 'bob', 'shop');
  await expect(query(source, 'bob', 'bob-pass-1', 'SELECT 1', 'shop')).rejects.toThrow(/denied/i);
  await ok('database', 'user', 'update', 'attributes', 'osc-db', 'bob', '--new_password', 'bob-pass-2');
  await expect(query(source, 'bob', 'bob-pass-1', 'SELECT 1')).rejects.toThrow(/denied/i);
  expect(await query(source, 'bob', 'bob-pass-2', 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  await ok('database', 'user', 'delete', 'osc-db', 'bob');
  await ok('database', 'db', 'delete', 'osc-db', 'extra');
  await expect(query(source, 'bob', 'bob-pass-2', 'SELECT 1')).rejects.toThrow(/denied/i);
  expect((await query(source, 'app', 'app-pass-1', "SHOW DATABASES LIKE 'extra'"))).toEqual([]);

  // Restart: the server's MariaDB starts again and keeps its data.
  const [{ up: upBefore }] = await query(source, 'app', 'app-pass-1', "SELECT VARIABLE_VALUE + 0 AS up FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'");
  await ok('database', 'instance', 'restart', 'osc-db');
  await eventually('osc-db restarted', async () => {
    const s = await show('osc-db');
    if (s.status !== 'ACTIVE') return undefined;
    const [{ up }] = await query(source, 'app', 'app-pass-1', "SELECT VARIABLE_VALUE + 0 AS up FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'").catch(() => [{ up: Infinity }]);
    return up < upBefore ? true : undefined;
  }, 180_000);
  await waitStatus('osc-db', 'ACTIVE');
  expect(await query(source, 'app', 'app-pass-1', 'SELECT item FROM orders', 'shop')).toEqual([{ item: 'tea' }]);

  // Resize: a bigger volume, then another flavor; the data stays.
  await ok('database', 'instance', 'resize', 'volume', 'osc-db', '2');
  await eventually('volume 2 GB', async () => {
    const s = await show('osc-db');
    return s.status === 'ACTIVE' && s.volume === 2 ? true : undefined;
  }, 120_000);
  await ok('database', 'instance', 'resize', 'flavor', 'osc-db', '2');
  await eventually('flavor 2', async () => {
    const s = await show('osc-db');
    return s.status === 'ACTIVE' && String(s.flavor) === '2' ? true : undefined;
  }, 240_000);
  expect(await query(source, 'app', 'app-pass-1', 'SELECT item FROM orders', 'shop')).toEqual([{ item: 'tea' }]);

  // Two replicas of it in one request.
  await ok('database', 'instance', 'create', 'osc-r', '--replica-of', 'osc-db', '--replica-count', '2', '-f', 'json');
  const replicas = await eventually('two replicas of osc-db', async () => {
    const list = await ok('database', 'instance', 'list', '-f', 'json');
    const rs = list.filter((i: any) => i.Name !== 'osc-db' && i.Name.startsWith('osc-r'));
    return rs.length === 2 ? rs : undefined;
  }, 30_000);
  const [r1, r2] = await Promise.all(replicas.map((r: any) => waitStatus(r.ID, 'ACTIVE')));
  const list = await ok('database', 'instance', 'list', '-f', 'json');
  expect(roleOf(list, 'osc-db')).toBe('primary');
  expect(roleOf(list, r1.name)).toBe('replica');
  expect(roleOf(list, r2.name)).toBe('replica');
  for (const r of [r1, r2]) {
    expect(await query(r, 'app', 'app-pass-1', 'SELECT item FROM orders', 'shop')).toEqual([{ item: 'tea' }]);
    expect(await query(r, 'app', 'app-pass-1', 'SELECT @@read_only AS ro')).toEqual([{ ro: 1 }]);
  }

  // Detach the first replica: it keeps the data and takes writes of its own.
  await ok('database', 'instance', 'detach', r1.id);
  await eventually('r1 detached', async () => ((await show(r1.id)).replica_of ? undefined : true), 120_000);
  await waitStatus(r1.id, 'ACTIVE');
  expect(await query(r1, 'app', 'app-pass-1', 'SELECT @@read_only AS ro')).toEqual([{ ro: 0 }]);
  await query(r1, 'app', 'app-pass-1', "INSERT INTO orders VALUES (2, 'detached')", 'shop');
  expect(await query(source, 'app', 'app-pass-1', 'SELECT COUNT(*) AS n FROM orders', 'shop')).toEqual([{ n: 1 }]);

  // Eject of a healthy source is refused at once, by the client, with the reason.
  await eventually('the monitor has looked at the set', async () => ((await env.api('GET', `/v1.0/proj-a/instances/${source.id}`)).body.instance.replication_health ? true : undefined), 60_000);
  const eject = await openstack('database', 'instance', 'eject', 'osc-db');
  expect(eject.code).not.toBe(0);
  expect(eject.stderr).toMatch(/healthy|force/i);
  expect((await show('osc-db')).status).toBe('ACTIVE');

  // Promote the second replica: it becomes the writable source, the old one its replica.
  await ok('database', 'instance', 'promote', r2.id);
  await eventually('r2 is the source', async () => (roleOf(await ok('database', 'instance', 'list', '-f', 'json'), r2.name) === 'primary' ? true : undefined), 180_000);
  await waitStatus(r2.id, 'ACTIVE');
  expect(await query(r2, 'app', 'app-pass-1', 'SELECT @@read_only AS ro')).toEqual([{ ro: 0 }]);
  await query(r2, 'app', 'app-pass-1', "INSERT INTO orders VALUES (3, 'promoted')", 'shop');
  await eventually('the write reaches the old source', async () => {
    const rows = await query(source, 'app', 'app-pass-1', 'SELECT item FROM orders WHERE id = 3', 'shop');
    return rows.length === 1 ? true : undefined;
  }, 60_000);
  expect(roleOf(await ok('database', 'instance', 'list', '-f', 'json'), 'osc-db')).toBe('replica');

  // Rename: the client finds it by its new name.
  await ok('database', 'instance', 'update', r1.id, '--name', 'osc-standalone');
  expect((await show('osc-standalone')).id).toBe(r1.id);

  // Delete everything: the replica first (a source with replicas is refused), then the sources.
  const refused = await openstack('database', 'instance', 'delete', r2.id);
  expect(refused.code).not.toBe(0);
  // The client prints only "Unable to delete ..." (it logs the API's reason at debug level).
  expect(refused.stderr).toMatch(/unable to delete/i);
  expect((await show(r2.id)).status).toBe('ACTIVE');
  await ok('database', 'instance', 'delete', source.id);
  await eventually('the old source gone', async () => ((await ok('database', 'instance', 'list', '-f', 'json')).some((i: any) => i.ID === source.id) ? undefined : true), 180_000);
  for (const ref of [r1.id, r2.id]) await ok('database', 'instance', 'delete', ref);
  await eventually('every instance gone', async () => ((await ok('database', 'instance', 'list', '-f', 'json')).length === 0 ? true : undefined), 180_000);
}, 900_000);
