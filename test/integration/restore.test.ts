// Restoring the master side on the real stack (issue 18, B3): a master writes a transaction
// its replica never receives, is ejected (fenced) and replaced; `trove rebuild-as-replica`
// reports that errant transaction (result, show) before discarding it, rebuilds the old
// master from a fresh snapshot of the new source as its replica (equal checksums), and a
// promote switches back (fail back). Refusals are synchronous 400s naming the rule. Then
// backups through the real OpenStack client: backup create keeps a snapshot in the store,
// instance create --backup builds a new master holding its data (the backup cannot be deleted
// while that restore reads it: 409), backup delete frees it.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';
import { run, type CliIo } from '../../cli/main';
import { REPO_ROOT } from '../../lib/config';
import { snapshotsLeft } from '../helpers/invariants';
import { checkInvariants } from '../helpers/invariants';
import { adminQuery, checksums } from '../helpers/mysql';
import { eventually, novaServerOf, showInstance, useTestStack, waitIdle } from '../helpers/stack';
import { writableSampler, writableViolations } from '../helpers/writable';

const APP = { user: 'app', password: 'app-pass-7' };
const TABLES = ['shop.orders'];
const env = useTestStack();

const ipOf = async (id: string) => (await env.registry!.instances.get(id))!.address!;
const app = async (id: string): Promise<Connection> => createConnection({ host: await ipOf(id), port: 3306, ...APP, database: 'shop', connectTimeout: 2000 });
const rows = async (id: string, sql: string, args: unknown[] = []) => {
  const c = await app(id);
  try {
    return (await c.query(sql, args))[0] as Record<string, unknown>[];
  } finally {
    await c.end();
  }
};
const action = (id: string, body: unknown) => env.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
async function accepted(id: string, body: unknown) {
  const res = await action(id, body);
  if (res.status !== 202) throw new Error(`action answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.operation.id as string;
}

/** The real trove CLI in-process against the stack's API. */
async function trove(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env: { TROVE_URL: env.apiUrl, TROVE_TOKEN: env.token, TROVE_PROJECT: 'proj-a' },
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    fetch,
    pollIntervalMs: 300,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

let master: string;
let replica: string;

beforeAll(async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'shop-db', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  master = created.body.instance.id;
  await waitIdle(env, master);
  const c = await app(master);
  await c.query('CREATE TABLE orders (id INT PRIMARY KEY, v VARCHAR(40))');
  await c.query('INSERT INTO orders VALUES ?', [Array.from({ length: 300 }, (_, i) => [i + 1, `row ${i + 1}`])]);
  await c.end();
  const rep = await action(master, { replicate: { count: 1 } });
  replica = rep.body.replicas[0].id;
  await env.temporal.workflow.getHandle(rep.body.operation.id).result();
  await waitIdle(env, replica);
}, 240_000);

test('refused at once, naming the rule, with nothing changed: the source, a replica', async () => {
  const onSource = await action(master, { rebuild_as_replica: {} });
  expect(onSource.status).toBe(400);
  expect(onSource.body.badRequest.message).toMatch(/is the source of replication set .*; only a former source that a failover replaced can be rebuilt as a replica/);
  const onReplica = await action(replica, { rebuild_as_replica: {} });
  expect(onReplica.status).toBe(400);
  expect(onReplica.body.badRequest.message).toMatch(/is already a replica/);
  const bad = await action(master, { rebuild_as_replica: { force: true } });
  expect(bad.status).toBe(400);
  expect(bad.body.badRequest.message).toMatch(/rebuild_as_replica/);
  expect((await showInstance(env, master)).operation).toBeUndefined();
  expect((await showInstance(env, master)).replicas).toHaveLength(1);
});

test('failover, rebuild-as-replica reporting the errant transaction, then fail back', async () => {
  // The replica stops receiving; the master then commits a transaction nobody else gets.
  await adminQuery(env.dataDir, await novaServerOf(env, replica), 'STOP SLAVE');
  await rows(master, 'INSERT INTO orders VALUES (9001, ?)', ['errant']);
  const [{ pos }] = (await rows(master, 'SELECT @@global.gtid_binlog_pos AS pos')) as { pos: string }[];
  const errantGtid = pos; // one domain: the master's last GTID is the errant one

  const eject = await accepted(master, { eject_replica_source: { force: true } });
  expect(await env.temporal.workflow.getHandle(eject).result()).toMatchObject({ newSourceId: replica, fencedInstanceId: master });
  // What the eject leaves: the old master fenced, out of the set, naming its replacement.
  const fenced = await showInstance(env, master);
  expect(fenced.status).toBe('ERROR');
  expect(fenced.replaced_by.id).toBe(replica);
  const masterServer = await novaServerOf(env, master);
  expect((await env.nova.listServers()).find((s) => s.id === masterServer)?.status).toBe('SHUTOFF');
  // The new source takes writes the old master never saw.
  await rows(replica, 'INSERT INTO orders VALUES (9002, ?)', ['after failover']);

  // The fenced old master boots again for the rebuild: it must never be writable beside the new source.
  const stopSampler = writableSampler(env, async () => [master, replica], 50);
  const cli = await trove('rebuild-as-replica', 'shop-db', '--wait', '--json');
  expect(writableViolations(await stopSampler())).toEqual([]);
  expect(cli.stderr).toMatch(/has been accepted/);
  expect(cli.code).toBe(0);
  const rebuilt = JSON.parse(cli.stdout);
  expect(rebuilt.replica_of.id).toBe(replica);
  expect(rebuilt.status).toBe('ACTIVE');
  expect(rebuilt.writable).toBe(false);
  expect(rebuilt.replaced_by).toBeUndefined();
  // The errant transaction, reported on the instance and in the operation's result.
  expect(rebuilt.errant_gtids.gtids).toEqual([errantGtid]);
  expect(rebuilt.errant_gtids.source_id).toBe(replica);
  const result = await env.temporal.workflow.getHandle(rebuilt.errant_gtids.operation).result();
  expect(result).toMatchObject({ instanceId: master, sourceId: replica, errantGtids: [errantGtid] });
  const plain = await trove('show', master);
  expect(plain.stdout).toContain(errantGtid);

  // Discarded: the old master now holds exactly the new source's data.
  expect(await rows(master, 'SELECT id FROM orders WHERE id IN (9001, 9002) ORDER BY id')).toEqual([{ id: 9002 }]);
  await rows(replica, 'INSERT INTO orders VALUES (9003, ?)', ['replicated']);
  await eventually('9003 on the rebuilt replica', async () => (await rows(master, 'SELECT 1 FROM orders WHERE id = 9003')).length === 1, 10_000);
  const sums = await checksums(env.dataDir, await novaServerOf(env, replica), TABLES);
  expect(await checksums(env.dataDir, await novaServerOf(env, master), TABLES)).toEqual(sums);
  // A second rebuild is refused: it is a member again.
  expect((await action(master, { rebuild_as_replica: {} })).status).toBe(400);

  // Fail back: the old master takes writes again, the other follows it. The API's pre-flight
  // reads the monitor's look, which may predate the rebuilt link by a poll.
  const back = await eventually('promote accepted', async () => {
    const res = await action(master, { promote_to_replica_source: {} });
    if (res.status === 409) return undefined;
    if (res.status !== 202) throw new Error(`promote answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.operation.id as string;
  }, 30_000);
  expect(await env.temporal.workflow.getHandle(back).result()).toMatchObject({ newSourceId: master, formerSourceId: replica });
  await waitIdle(env, master);
  expect((await showInstance(env, master)).writable).toBe(true);
  expect((await showInstance(env, replica)).replica_of.id).toBe(master);
  await rows(master, 'INSERT INTO orders VALUES (9004, ?)', ['failed back']);
  await eventually('9004 on the former new source', async () => (await rows(replica, 'SELECT 1 FROM orders WHERE id = 9004')).length === 1, 10_000);
  const after = await checksums(env.dataDir, await novaServerOf(env, master), TABLES);
  expect(await checksums(env.dataDir, await novaServerOf(env, replica), TABLES)).toEqual(after);
  expect(await checkInvariants(env)).toEqual([]);
}, 240_000);

const OPENSTACK = path.join(REPO_ROOT, '.venv', 'bin', 'openstack');

/** `openstack <args> -f json` with token auth against the test API, scoped to proj-a (as openstack-client.test.ts). */
async function openstack(...args: string[]): Promise<any> {
  try {
    const { stdout } = await promisify(execFile)(OPENSTACK, ['--os-auth-type', 'admin_token', '--os-token', env.token, '--os-endpoint', `${env.apiUrl}/v1.0/proj-a`, ...args], {
      timeout: 60_000,
      env: { PATH: process.env.PATH!, HOME: env.dataDir, COLUMNS: '100' },
    });
    return args.includes('json') ? JSON.parse(stdout) : stdout;
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`openstack ${args.join(' ')} failed: ${e.stderr ?? String(err)}`, { cause: err });
  }
}

test('backups with the OpenStack client: kept in the store, a new master built from one, deleted', async () => {
  // The master of the set (after the fail back above) holds rows up to 9004.
  const source = master;
  const [{ n: rowsAtBackup }] = (await rows(source, 'SELECT COUNT(*) AS n FROM orders')) as { n: number }[];
  const sums = await checksums(env.dataDir, await novaServerOf(env, source), TABLES);

  const created = await openstack('database', 'backup', 'create', 'nightly', '--instance', 'shop-db', '-f', 'json');
  expect(created).toMatchObject({ name: 'nightly', instance_id: source, datastore: 'mariadb' });
  expect(['NEW', 'BUILDING', 'COMPLETED']).toContain(created.status);
  const done = await eventually('backup COMPLETED', async () => {
    const b = await openstack('database', 'backup', 'show', created.id, '-f', 'json');
    if (b.status === 'FAILED') throw new Error(`backup FAILED: ${JSON.stringify(b)}`);
    return b.status === 'COMPLETED' ? b : undefined;
  }, 120_000);
  expect(done.size).toBeGreaterThan(0);
  expect(await snapshotsLeft(env.dataDir)).toEqual([created.id]);
  const listed = await openstack('database', 'backup', 'list', '-f', 'json');
  expect(listed.map((b: { ID: string }) => b.ID)).toEqual([created.id]);
  // Written after the backup: the restored instance must not have it.
  await rows(source, 'INSERT INTO orders VALUES (9005, ?)', ['after the backup']);
  expect(await checkInvariants(env)).toEqual([]);

  // A backup still being taken cannot be deleted; one that does not exist is 404.
  expect((await env.api('DELETE', '/v1.0/proj-a/backups/0c1e2f3a-0000-4000-8000-000000000001')).status).toBe(404);
  // restorePoint naming no backup of the project is refused before anything is created.
  const bad = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'nope', flavorRef: '1', volume: { size: 1 }, restorePoint: { backupRef: '0c1e2f3a-0000-4000-8000-000000000001' } } });
  expect(bad.status).toBe(400);
  expect(bad.body.badRequest.message).toMatch(/instance\.restorePoint\.backupRef: backup .* not found/);

  const restored = await openstack('database', 'instance', 'create', 'restored-db', '--flavor', '1', '--size', '1', '--backup', created.id, '-f', 'json');
  const restoredId = restored.id as string;
  // While the restore reads the backup, deleting it is refused naming the rule (it used to
  // fail the restore half way), and nothing is deleted.
  const during = await env.api('DELETE', `/v1.0/proj-a/backups/${created.id}`);
  expect(during.status).toBe(409);
  expect(JSON.stringify(during.body)).toMatch(new RegExp(`backup ${created.id} is being restored into instance ${restoredId}; a backup cannot be deleted while a restore reads it`));
  expect(JSON.stringify(during.body)).toContain(`provision-instance-${restoredId}`);
  expect(await snapshotsLeft(env.dataDir)).toEqual([created.id]);
  await waitIdle(env, restoredId);
  // The backup's data, its application user with it, and writable: a new master.
  expect(await rows(restoredId, 'SELECT COUNT(*) AS n FROM orders')).toEqual([{ n: rowsAtBackup }]);
  expect(await rows(restoredId, 'SELECT 1 FROM orders WHERE id = 9005')).toEqual([]);
  expect(await checksums(env.dataDir, await novaServerOf(env, restoredId), TABLES)).toEqual(sums);
  await rows(restoredId, 'INSERT INTO orders VALUES (9100, ?)', ['on the restored master']);
  expect((await showInstance(env, restoredId)).writable).toBe(true);

  await openstack('database', 'backup', 'delete', created.id);
  await eventually('backup gone', async () => (await env.api('GET', `/v1.0/proj-a/backups/${created.id}`)).status === 404, 30_000);
  expect(await snapshotsLeft(env.dataDir)).toEqual([]);
  expect(await checkInvariants(env)).toEqual([]);
}, 240_000);
