// Cascading replicas on the real stack: a replica of a replica is built from the relay's own
// snapshot and follows it; the relay stays free of errant transactions (its replication
// accounts are not binlogged), the depth limit is refused at once; detaching the relay moves
// its replica up to the source without losing its position; promoting a replica two links
// deep flattens the set under it.
import { createConnection } from 'mysql2/promise';
import { replicationUserName } from '../../lib/names';
import { adminQuery, checksums } from '../helpers/mysql';
import { eventually, useTestStack, showInstance, waitIdle, novaServerOf } from '../helpers/stack';

const APP = { user: 'app', password: 'app-pass-9' };
const MAX_DEPTH = 2;

const env = useTestStack({ extraEnv: { TROVE_MAX_DEPTH: String(MAX_DEPTH) } });

const show = (id: string) => showInstance(env, id);
const idle = (id: string) => waitIdle(env, id);
const novaIdOf = (id: string) => novaServerOf(env, id);
const sql = async (id: string, query: string) => adminQuery(env.dataDir, await novaIdOf(id), query);

async function app(id: string, query: string, args: unknown[] = []): Promise<any[]> {
  const i = await show(id);
  const c = await createConnection({ host: i.ip[0], port: i.port, ...APP, database: 'shop' });
  try {
    return (await c.query(query, args))[0] as any[];
  } finally {
    await c.end();
  }
}

async function createSource(name: string): Promise<string> {
  const res = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name, flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] } });
  expect(res).toMatchObject({ status: 202 });
  await idle(res.body.instance.id);
  await app(res.body.instance.id, 'CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40))');
  return res.body.instance.id;
}

async function replicaOf(source: string, name: string): Promise<string> {
  const res = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name, replica_of: source } });
  expect(res).toMatchObject({ status: 202 });
  await env.temporal.workflow.getHandle(res.body.operation.id).result();
  await idle(res.body.instance.id);
  return res.body.instance.id;
}

const hasRow = (id: string, row: number) => eventually(`row ${row} on ${id}`, async () => ((await app(id, 'SELECT id FROM orders WHERE id = ?', [row])).length === 1 ? true : undefined), 60_000);
const roles = async (id: string) => Object.fromEntries((await show(id)).topology.members.map((m: { id: string; role: string; mysql?: { slave_of: { id: string }[] } }) => [m.id, `${m.role}<${m.mysql?.slave_of[0]!.id ?? ''}`]));

test('a replica of a replica follows its relay; the relay has no errant GTID and keeps replicating; past the depth limit is refused at once', async () => {
  const s = await createSource('cascade-s');
  await app(s, "INSERT INTO orders VALUES (1, 'before')");
  const r1 = await replicaOf(s, 'cascade-r1');
  const r2 = await replicaOf(r1, 'cascade-r2');
  expect(await roles(s)).toEqual({ [s]: 'source<', [r1]: `relay<${s}`, [r2]: `replica<${r1}` });
  expect((await show(r2)).replica_of.id).toBe(r1);

  // Writes on the source reach the end of the chain, many of them, through the relay.
  for (let i = 2; i <= 50; i++) await app(s, 'INSERT INTO orders VALUES (?, ?)', [i, `row-${i}`]);
  await hasRow(r2, 50);
  expect(await checksums(env.dataDir, await novaIdOf(r2), ['shop.orders'])).toEqual(await checksums(env.dataDir, await novaIdOf(s), ['shop.orders']));

  // The relay binlogged nothing of its own (r2's account was made there with sql_log_bin=0):
  // every GTID it holds was written by the source's server, and it still replicates.
  const [{ sid: relaySid }] = await sql(r1, 'SELECT @@server_id AS sid');
  const [{ state }] = await sql(r1, 'SELECT @@gtid_binlog_state AS state');
  expect(String(state).split(',').map((g) => g.split('-')[1])).not.toContain(String(relaySid));
  const [status] = await sql(r1, 'SHOW SLAVE STATUS');
  expect(status).toMatchObject({ Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Last_SQL_Errno: 0 });
  expect((await sql(r1, "SELECT User FROM mysql.user WHERE User LIKE 'repl\\_%'")).length).toBe(2);

  // r2 is two links deep: a replica of it would be three.
  const before = (await env.api('GET', '/v1.0/proj-a/instances')).body.instances.length;
  const refused = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'too-deep', replica_of: r2 } });
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toMatch(/instance\.replica_of: .*2 link\(s\) from its set's source.*2 allowed \(TROVE_MAX_DEPTH\)/);
  expect((await env.api('GET', '/v1.0/proj-a/instances')).body.instances.length).toBe(before);

  // A relay is a source of replicas: it is not deleted under them.
  expect((await env.api('DELETE', `/v1.0/proj-a/instances/${r1}`)).status).toBe(400);

  // Detach the relay: its replica moves up to the source and keeps its position.
  const detached = await env.api('POST', `/v1.0/proj-a/instances/${r1}/action`, { detach: {} });
  expect(detached).toMatchObject({ status: 202 });
  await env.temporal.workflow.getHandle(detached.body.operation.id).result();
  await idle(r1);
  expect(await roles(s)).toEqual({ [s]: 'source<', [r2]: `replica<${s}` });
  expect((await show(r1)).writable).toBe(true);
  await app(s, "INSERT INTO orders VALUES (51, 'after detach')");
  await app(r1, "INSERT INTO orders VALUES (1000, 'on the detached relay')");
  await hasRow(r2, 51);
  expect(await app(r2, 'SELECT id FROM orders WHERE id = 1000')).toEqual([]);
  const [moved] = await sql(r2, 'SHOW SLAVE STATUS');
  expect(moved).toMatchObject({ Master_Host: (await show(s)).ip[0], Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes' });
  // The detached relay kept no account of the replica that left it.
  expect(await sql(r1, "SELECT User FROM mysql.user WHERE User LIKE 'repl\\_%'")).not.toContainEqual({ User: replicationUserName(r2) });
}, 900_000);

test('promoting a replica two links deep flattens the set under it; writes reach every member', async () => {
  const s = await createSource('flat-s');
  const r1 = await replicaOf(s, 'flat-r1');
  const r2 = await replicaOf(r1, 'flat-r2');
  await app(s, "INSERT INTO orders VALUES (1, 'before')");
  await hasRow(r2, 1);

  const promoted = await env.api('POST', `/v1.0/proj-a/instances/${r2}/action`, { promote_to_replica_source: {} });
  expect(promoted).toMatchObject({ status: 202 });
  await env.temporal.workflow.getHandle(promoted.body.operation.id).result();
  await idle(r2);
  expect(await roles(r2)).toEqual({ [r2]: 'source<', [s]: `replica<${r2}`, [r1]: `replica<${r2}` });
  await app(r2, "INSERT INTO orders VALUES (2, 'after promote')");
  await hasRow(s, 2);
  await hasRow(r1, 2);
  for (const id of [s, r1]) expect(await sql(id, 'SELECT @@read_only AS ro')).toEqual([{ ro: 1 }]);
}, 900_000);

test('the source of a cascade crashes: its direct replica judges it lost (the relay\'s replica still replicating is no veto); eject without force flattens the set', async () => {
  const s = await createSource('crash-s');
  const r1 = await replicaOf(s, 'crash-r1');
  const r2 = await replicaOf(r1, 'crash-r2');
  await app(s, "INSERT INTO orders VALUES (1, 'before')");
  await hasRow(r2, 1);

  await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${await novaIdOf(s)}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  // Accepted once the monitor has seen the source gone (until then it is "healthy": 409).
  const ejected = await eventually('eject accepted', async () => {
    const res = await env.api('POST', `/v1.0/proj-a/instances/${s}/action`, { eject_replica_source: {} });
    if (res.status !== 202 && res.status !== 409) throw new Error(`eject answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.status === 202 ? res.body : undefined;
  }, 90_000);
  await env.temporal.workflow.getHandle(ejected.operation.id).result();
  const [newSource, other] = (await show(r1)).replica_of ? [r2, r1] : [r1, r2];
  await idle(newSource);
  expect(await roles(newSource)).toEqual({ [newSource]: 'source<', [other]: `replica<${newSource}` });
  await app(newSource, "INSERT INTO orders VALUES (2, 'after eject')");
  await hasRow(other, 2);
}, 900_000);

test('a relay dies: the monitor moves its replica up to the source (its position kept), the relay stays a member with a fault', async () => {
  const s = await createSource('relay-s');
  const r1 = await replicaOf(s, 'relay-r1');
  const r2 = await replicaOf(r1, 'relay-r2');
  await app(s, "INSERT INTO orders VALUES (1, 'before')");
  await hasRow(r2, 1);

  await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${await novaIdOf(r1)}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  await app(s, "INSERT INTO orders VALUES (2, 'while the relay is dead')");
  const [moved] = await eventually('r2 replicating from the source', async () => {
    const [st] = await sql(r2, 'SHOW SLAVE STATUS');
    return st?.Master_Host === (await show(s)).ip[0] && st.Slave_IO_Running === 'Yes' ? [st] : undefined;
  }, 90_000);
  expect(moved).toMatchObject({ Slave_SQL_Running: 'Yes', Last_SQL_Errno: 0 });
  await hasRow(r2, 2);
  await app(s, "INSERT INTO orders VALUES (3, 'after the move')");
  await hasRow(r2, 3);
  expect(await checksums(env.dataDir, await novaIdOf(r2), ['shop.orders'])).toEqual(await checksums(env.dataDir, await novaIdOf(s), ['shop.orders']));
  await eventually('the registry follows', async () => {
    const r = await roles(s);
    return r[r2] === `replica<${s}` ? r : undefined;
  }, 30_000);
  expect(await roles(s)).toEqual({ [s]: 'source<', [r1]: `replica<${s}`, [r2]: `replica<${s}` });
  expect((await show(r1)).fault.message).toMatch(/^relay lost: its replicas .* were moved to /);
}, 900_000);
