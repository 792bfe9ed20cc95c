// Read replicas on the real stack: N replicas from one snapshot of a master holding data,
// read-only and current; detach into an independent site; a failed replica cleans up
// after itself; the orchestrator crashing mid-restore still ends with correct replicas.
import { snapshotsLeft } from '../helpers/invariants';
import { createConnection, type Connection } from 'mysql2/promise';
import { adminQuery, checksums } from '../helpers/mysql';
import { serverFolders, serverProcesses } from '../helpers/leftovers';
import { eventually, replicaPhases, sleep, startTestStack, type TestStack, errorNextBuilds } from '../helpers/stack';
import { workflowIds } from '../../lib/names';
import { activityResult } from '../helpers/histories';

let env: TestStack;
let master: { id: string; ip: string; novaServerId: string };
const TABLES = ['shop.orders', 'inventory.items'];
const APP = { user: 'app', password: 'app-pass-7' };

async function show(id: string) {
  return (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
}

async function waitFor(id: string, pred: (i: any) => boolean, what: string, timeoutMs = 240_000) {
  return eventually(`${id} ${what}`, async () => {
    const i = await show(id);
    return i && pred(i) ? i : undefined;
  }, timeoutMs);
}

const idle = (i: any) => i.status === 'ACTIVE' && !i.operation;

async function novaIdOf(instanceId: string): Promise<string> {
  return (await env.registry!.instances.get(instanceId))!.novaServerId!;
}

function appConn(host: string, database?: string): Promise<Connection> {
  return createConnection({ host, port: 3306, ...APP, database });
}


const replicationUsersOn = async (novaServerId: string) =>
  (await adminQuery<{ User: string }>(env.dataDir, novaServerId, "SELECT User FROM mysql.user WHERE User LIKE 'repl\\_%' ORDER BY User")).map((r) => r.User);

async function replicate(count: number, headers: Record<string, string> = {}) {
  const res = await env.api('POST', `/v1.0/proj-a/instances/${master.id}/action`, { replicate: { count, instance: { flavorRef: '1' }, topology: { read_only: true } } }, headers);
  expect(res.status).toBe(202);
  return res.body as { replicas: { id: string; name: string }[]; operation: { id: string } };
}

beforeAll(async () => {
  env = await startTestStack();
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'master', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }, { name: 'inventory' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }, { name: 'inventory' }] }] },
  });
  if (created.status !== 202) throw new Error(`master create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const id = created.body.instance.id;
  const active = await waitFor(id, idle, 'ACTIVE');
  master = { id, ip: active.ip[0], novaServerId: await novaIdOf(id) };
  // 10,000 rows over two databases.
  const c = await appConn(master.ip);
  await c.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT)');
  await c.query('CREATE TABLE inventory.items (id INT PRIMARY KEY, sku VARCHAR(40), stock INT)');
  for (let b = 0; b < 6; b++) {
    const rows = Array.from({ length: 1000 }, (_, i) => [b * 1000 + i, `item-${b * 1000 + i}`, i % 17]);
    await c.query('INSERT INTO shop.orders VALUES ?', [rows]);
  }
  for (let b = 0; b < 4; b++) {
    const rows = Array.from({ length: 1000 }, (_, i) => [b * 1000 + i, `sku-${b * 1000 + i}`, i % 23]);
    await c.query('INSERT INTO inventory.items VALUES ?', [rows]);
  }
  await c.end();
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

let replicaIds: string[] = [];

test('two replicas from one snapshot: same data, read-only, current within 5 s, no snapshot left, one account each', async () => {
  const res = await replicate(2);
  replicaIds = res.replicas.map((r) => r.id);
  expect(replicaIds).toHaveLength(2);
  const replicas = await Promise.all(replicaIds.map((id) => waitFor(id, idle, 'ACTIVE')));
  const result = await env.temporal.workflow.getHandle(res.operation.id).result();
  expect(result.replicas.map((r: { status: string }) => r.status)).toEqual(['ACTIVE', 'ACTIVE']);
  expect(result.sourceRestarted).toBe(false);
  // Each replica's guest began extracting the snapshot as it booted (Nova metadata).
  for (const id of replicaIds) {
    expect(await activityResult(env.temporal, workflowIds.buildReplica(id), 'restoreSnapshot')).toMatchObject({ skipped: false, startedAtBoot: true });
  }

  const src = await show(master.id);
  expect(src.replicas.map((r: { id: string }) => r.id).sort()).toEqual([...replicaIds].sort());
  expect(src.topology.members).toHaveLength(3);
  expect(src.replicates_to.sort()).toEqual([...replicaIds].sort());
  expect(src.writable).toBe(true);
  for (const r of replicas) {
    expect(r.replica_of.id).toBe(master.id);
    expect(r.replicates_from).toEqual([master.id]);
    expect(r.writable).toBe(false);
  }

  // Same data on every member, table by table.
  const expected = await checksums(env.dataDir, master.novaServerId, TABLES);
  for (const id of replicaIds) expect(await checksums(env.dataDir, await novaIdOf(id), TABLES)).toEqual(expected);

  // Unique, persisted server_ids.
  const serverIds = await Promise.all([master.id, ...replicaIds].map(async (id) => (await adminQuery<{ sid: number }>(env.dataDir, await novaIdOf(id), 'SELECT @@server_id AS sid'))[0]!.sid));
  expect(new Set(serverIds).size).toBe(3);

  // The application user cannot write on a replica.
  for (const r of replicas) {
    const c = await appConn(r.ip[0], 'shop');
    await expect(c.query("INSERT INTO orders VALUES (99999, 'nope', 1)")).rejects.toThrow(/read-only|READ.ONLY/i);
    await c.end();
  }

  // A new write on the master reaches both replicas within 5 s.
  const m = await appConn(master.ip, 'shop');
  await m.query("INSERT INTO orders VALUES (100000, 'fresh', 1)");
  await m.end();
  const t0 = Date.now();
  for (const r of replicas) {
    await eventually('the write on the replica', async () => {
      const c = await appConn(r.ip[0], 'shop');
      const [rows] = await c.query('SELECT item FROM orders WHERE id = 100000');
      await c.end();
      return (rows as unknown[]).length === 1;
    }, 5000);
  }
  expect(Date.now() - t0).toBeLessThan(5000);

  expect(await snapshotsLeft(env.dataDir)).toEqual([]);
  expect(await replicationUsersOn(master.novaServerId)).toHaveLength(2);
  expect(await env.registry!.accounts.count()).toBe(2);
});

test('detach one replica: writable, keeps its data, no longer follows the master, its account is gone', async () => {
  const [detached, kept] = replicaIds as [string, string];
  const cred = await env.registry!.accounts.get(detached);
  const before = await checksums(env.dataDir, await novaIdOf(detached), TABLES);
  const res = await env.api('PATCH', `/v1.0/proj-a/instances/${detached}`, { instance: { replica_of: null } });
  expect(res.status).toBe(202);
  await env.temporal.workflow.getHandle(res.body.operation.id).result();

  const d = await waitFor(detached, (i) => idle(i) && !i.replica_of, 'detached');
  expect(d.writable).toBe(true);
  expect(await checksums(env.dataDir, await novaIdOf(detached), TABLES)).toEqual(before);
  const c = await appConn(d.ip[0], 'shop');
  await c.query("INSERT INTO orders VALUES (200000, 'local', 1)");
  await c.end();

  const src = await show(master.id);
  expect(src.replicas.map((r: { id: string }) => r.id)).toEqual([kept]);
  expect(await replicationUsersOn(master.novaServerId)).not.toContain(cred!.userName);
  expect(await replicationUsersOn(master.novaServerId)).toHaveLength(1);

  const m = await appConn(master.ip, 'shop');
  await m.query("INSERT INTO orders VALUES (300000, 'after-detach', 1)");
  await m.end();
  const keptIp = (await show(kept)).ip[0];
  await eventually('the write on the kept replica', async () => {
    const k = await appConn(keptIp, 'shop');
    const [rows] = await k.query('SELECT 1 FROM orders WHERE id = 300000');
    await k.end();
    return (rows as unknown[]).length === 1;
  }, 5000);
  await sleep(1000);
  const x = await appConn(d.ip[0], 'shop');
  const [rows] = await x.query('SELECT 1 FROM orders WHERE id = 300000');
  await x.end();
  expect(rows).toEqual([]);

  // Detaching something that is not a replica changes nothing.
  const again = await env.api('POST', `/v1.0/proj-a/instances/${detached}/topology/action`, { detach: {} });
  expect(again.status).toBe(400);
  expect(again.body.badRequest.message).toMatch(/not a replica/);
});

test('one replica build fails in Nova: the other completes, the failed one leaves nothing, the snapshot is gone', async () => {
  const serversBefore = (await env.nova.listServers()).length;
  const foldersBefore = serverFolders(env.dataDir).length;
  const procsBefore = serverProcesses(env.dataDir).length;
  await errorNextBuilds(env);
  const res = await replicate(2);
  const result = await env.temporal.workflow.getHandle(res.operation.id).result();
  const statuses = result.replicas.map((r: { status: string }) => r.status).sort();
  expect(statuses).toEqual(['ACTIVE', 'FAILED']);
  const failed = result.replicas.find((r: { status: string }) => r.status === 'FAILED');
  const ok = result.replicas.find((r: { status: string }) => r.status === 'ACTIVE');
  expect(failed.error).toMatch(/ERROR/);
  expect(await env.registry!.instances.get(failed.replicaId)).toBeUndefined();
  expect(await env.registry!.accounts.get(failed.replicaId)).toBeUndefined();
  expect((await env.nova.listServers()).length).toBe(serversBefore + 1);
  expect(serverFolders(env.dataDir).length).toBe(foldersBefore + 1);
  // The surviving replica's server runs its init, guest agent and mariadbd; the failed one nothing.
  await eventually('only the new replica\'s processes', async () => serverProcesses(env.dataDir).length === procsBefore + 3, 10_000);
  expect(await snapshotsLeft(env.dataDir)).toEqual([]);
  const users = await replicationUsersOn(master.novaServerId);
  expect(users).toHaveLength(2);
  expect(users).toContain((await env.registry!.accounts.get(ok.replicaId))!.userName);
  replicaIds = [replicaIds[1]!, ok.replicaId];
});

test('the orchestrator worker is SIGKILLed during the restore: the operation completes and nothing leaks', async () => {
  const res = await replicate(2);
  const handle = env.temporal.workflow.getHandle(res.operation.id);
  await eventually('a replica restoring', async () => {
    return (await replicaPhases(env.temporal, handle.workflowId)).some((r) => r.phase === 'restoring');
  }, 120_000);
  env.stack.parts.get('orchestrator')!.kill();
  const result = await handle.result();
  expect(result.replicas.map((r: { status: string }) => r.status)).toEqual(['ACTIVE', 'ACTIVE']);
  const all = [...replicaIds, ...res.replicas.map((r) => r.id)];
  const expected = await checksums(env.dataDir, master.novaServerId, TABLES);
  for (const id of all) expect(await checksums(env.dataDir, await novaIdOf(id), TABLES)).toEqual(expected);
  expect(await snapshotsLeft(env.dataDir)).toEqual([]);
  expect(await replicationUsersOn(master.novaServerId)).toHaveLength(all.length);
  expect(await env.registry!.accounts.count()).toBe(all.length);
  // master + detached + the replicas: one Nova server and one folder each.
  expect((await env.nova.listServers()).length).toBe(2 + all.length);
  expect(serverFolders(env.dataDir).length).toBe(2 + all.length);
  replicaIds = all;
});

test('two replicas of one set deleted at the same moment: both requests accepted, both replicas go', async () => {
  const doomed = replicaIds.slice(-2);
  const answers = await Promise.all(doomed.map((id) => env.api('DELETE', `/v1.0/proj-a/instances/${id}`)));
  expect(answers.map((r) => r.status)).toEqual([202, 202]);
  // A delete holds the set's lock: the other waits for it instead of failing "set busy".
  await Promise.all(doomed.map((id) => env.temporal.workflow.getHandle(workflowIds.deleteInstance(id)).result()));
  for (const id of doomed) expect(await env.registry!.instances.get(id)).toBeUndefined();
  const left = replicaIds.slice(0, -2);
  expect(await replicationUsersOn(master.novaServerId)).toHaveLength(left.length);
  expect((await env.nova.listServers()).length).toBe(2 + left.length);
});
