// Switchover and failover on the real stack: promote a replica and back with data checked
// everywhere; replica health; no failover when only the orchestrator's path to the
// source is cut (a real firewall rule), failover when the source hangs; and a crash under
// a writer with semi-sync on: no acknowledged write lost, never two writable members.
import { execFileSync } from 'node:child_process';
import { createConnection, type Connection } from 'mysql2/promise';
import { SteadyWriter } from '../../bench/lib/writer';
import { adminConnection, adminQuery, checksums } from '../helpers/mysql';
import { eventually, sleep, startTestStack, type TestStack } from '../helpers/stack';
import { writableForApp } from '../../bench/lib/app-probes';

const PROBE_ADDRESS = '127.0.0.254';
const APP = { user: 'app', password: 'app-pass-9' };
const TABLES = ['shop.orders'];
let env: TestStack;
let firewallRule: string[] | undefined;

const show = async (id: string) => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
const novaIdOf = async (id: string) => (await env.registry!.instances.get(id))!.novaServerId!;
const ipOf = async (id: string) => (await env.registry!.instances.get(id))!.address!;
const idle = (i: any) => i && i.status === 'ACTIVE' && !i.operation;

async function waitIdle(id: string) {
  return eventually(`${id} idle`, async () => {
    const i = await show(id);
    return idle(i) ? i : undefined;
  }, 240_000);
}

async function action(id: string, body: unknown) {
  const res = await env.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
  if (res.status !== 202) throw new Error(`action answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const writable = async (id: string) => writableForApp({ host: await ipOf(id), ...APP, database: 'shop' });

function app(host: string, timeoutMs = 1000): Promise<Connection> {
  return createConnection({ host, port: 3306, ...APP, database: 'shop', connectTimeout: timeoutMs });
}

/** A write on source reaches every other member within 5 s. */
async function writeReachesAll(sourceId: string, others: string[], id: number) {
  const c = await app(await ipOf(sourceId));
  await c.query('INSERT INTO orders VALUES (?, ?)', [id, `w${id}`]);
  await c.end();
  for (const o of others) {
    await eventually(`write ${id} on ${o}`, async () => {
      const r = await app(await ipOf(o));
      const [rows] = await r.query('SELECT 1 FROM orders WHERE id = ?', [id]);
      await r.end();
      return (rows as unknown[]).length === 1;
    }, 5000);
  }
}

let master: string;
let replicas: string[];

beforeAll(async () => {
  env = await startTestStack({ extraEnv: { TROVE_PROBE_ADDRESS: PROBE_ADDRESS } });
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'primary', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  master = created.body.instance.id;
  await waitIdle(master);
  const c = await app(await ipOf(master));
  await c.query('CREATE TABLE orders (id INT PRIMARY KEY, v VARCHAR(40))');
  await c.query('INSERT INTO orders VALUES ?', [Array.from({ length: 500 }, (_, i) => [i + 1, `row ${i + 1}`])]);
  await c.end();
  const rep = await action(master, { replicate: { count: 2 } });
  replicas = rep.replicas.map((r: { id: string }) => r.id);
  await env.temporal.workflow.getHandle(rep.operation.id).result();
  for (const r of replicas) await waitIdle(r);
}, 300_000);

afterAll(async () => {
  if (firewallRule) execFileSync('iptables', ['-D', ...firewallRule]);
  await env?.stop();
});

test('promote a replica and promote back: data equal everywhere, writes flow from each new source', async () => {
  const [r1, r2] = replicas as [string, string];
  const op = await action(r1, { promote_to_replica_source: {} });
  const result = await env.temporal.workflow.getHandle(op.operation.id).result();
  expect(result).toMatchObject({ newSourceId: r1, formerSourceId: master, movedReplicas: [r2] });
  expect((await show(r1)).replica_of).toBeUndefined();
  expect((await show(r1)).writable).toBe(true);
  expect((await show(master)).replica_of.id).toBe(r1);
  expect((await show(r2)).replica_of.id).toBe(r1);
  expect(await writable(master)).toBe(false);
  await writeReachesAll(r1, [master, r2], 10_001);
  const sums = await checksums(env.dataDir, await novaIdOf(r1), TABLES);
  for (const id of [master, r2]) expect(await checksums(env.dataDir, await novaIdOf(id), TABLES)).toEqual(sums);

  const back = await action(master, { promote_to_replica_source: {} });
  await env.temporal.workflow.getHandle(back.operation.id).result();
  expect((await show(master)).writable).toBe(true);
  expect((await show(r1)).replica_of.id).toBe(master);
  expect((await show(r2)).replica_of.id).toBe(master);
  await writeReachesAll(master, [r1, r2], 10_002);
  const again = await checksums(env.dataDir, await novaIdOf(master), TABLES);
  for (const id of [r1, r2]) expect(await checksums(env.dataDir, await novaIdOf(id), TABLES)).toEqual(again);
  // Each replica holds exactly one account on the source: the promoted ones' stale accounts were dropped.
  const users = await adminQuery<{ User: string }>(env.dataDir, await novaIdOf(master), "SELECT User FROM mysql.user WHERE User LIKE 'repl\\_%'");
  expect(users).toHaveLength(2);
});

// The benchmarks' writer measures switchover and failover gaps; a session the server ends
// (fenceWrites kills them) must cost it one failed write, not its 2 s query timeout: mysql2
// never failed the write in flight on a connection the writer itself had closed.
test("the benchmarks' writer: a session the server kills costs no write timeout", async () => {
  const c = await app(await ipOf(master));
  await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
  await c.end();
  const writer = new SteadyWriter({ [master]: await ipOf(master) }, { ...APP, database: 'shop' }, master, 1);
  writer.start();
  await sleep(300);
  const admin = await adminConnection(env.dataDir, await novaIdOf(master));
  const from = Date.now();
  for (let i = 0; i < 30; i++) {
    const [sessions] = await admin.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = 'app'");
    for (const s of sessions as { id: number }[]) await admin.query('KILL CONNECTION ?', [s.id]).catch(() => undefined);
    await sleep(40);
  }
  const to = Date.now();
  await admin.end();
  await writer.stop();
  expect(writer.acks.length).toBeGreaterThan(30);
  expect(writer.longestGapMs(from, to)).toBeLessThan(1000);
});

test('promoting the source itself is refused and changes nothing', async () => {
  const res = await env.api('POST', `/v1.0/proj-a/instances/${master}/action`, { promote_to_replica_source: {} });
  expect(res.status).toBe(400);
  expect(res.body.badRequest.message).toMatch(/not a replica/);
  // Ejecting a source the monitor sees healthy is refused at once (it was a 202 and a failure
  // that lived only in Temporal): the rulebook, with the monitor's last look.
  const eject = await env.api('POST', `/v1.0/proj-a/instances/${master}/action`, { eject_replica_source: {} });
  expect(eject).toMatchObject({ status: 409, body: { conflictingRequest: { message: expect.stringMatching(/source is healthy \(the orchestrator reaches it\); eject it only with force/) } } });
  const replica = await env.api('POST', `/v1.0/proj-a/instances/${replicas[0]}/action`, { eject_replica_source: {} });
  expect(replica).toMatchObject({ status: 400, body: { badRequest: { message: expect.stringMatching(/is a replica; eject the source it replicates from/) } } });
  expect((await show(master)).writable).toBe(true);
  expect((await show(master)).operation).toBeUndefined();
});

test('replica health: every member, thread states, lag and GTID positions', async () => {
  // Health is what the monitor saw at its last poll: wait for a poll after the switchovers.
  const health = await eventually('settled health of 3 members', async () => {
    const h = (await show(master)).replication_health as any[] | undefined;
    const settled = h && h.length === 3 && h.every((m) => m.reachable && m.agent_answered && (m.role === 'source' ? m.id === master : m.transactions_behind === 0 && m.io_running));
    return settled ? h : undefined;
  }, 30_000);
  const src = health.find((h) => h.id === master);
  expect(src).toMatchObject({ role: 'source', reachable: true, read_only: false });
  for (const r of replicas) {
    expect(health.find((h) => h.id === r)).toMatchObject({ role: 'replica', io_running: true, sql_running: true, transactions_behind: 0, read_only: true });
  }
  expect(src.gtid_binlog).toMatch(/^\d+-\d+-\d+/);
});

test('the orchestrator alone loses the source: no failover; the source hangs: failover', async () => {
  const settings = await env.api('PATCH', `/v1.0/proj-a/instances/${master}/replication`, { replication: { auto_failover: true, failover_after: 2 } });
  expect(settings.body.replication).toMatchObject({ auto_failover: true, failover_after: 2, last_failover: null });
  const masterIp = await ipOf(master);
  firewallRule = ['INPUT', '-s', PROBE_ADDRESS, '-d', masterIp, '-p', 'tcp', '--dport', '3306', '-j', 'DROP'];
  execFileSync('iptables', ['-A', ...firewallRule]);
  await eventually('the monitor sees the source unreachable', async () => {
    const h = (await show(master)).replication_health as any[];
    return h.find((m) => m.id === master)?.reachable === false;
  }, 20_000);
  await sleep(8000); // four polls past failover_after
  expect((await env.api('GET', `/v1.0/proj-a/instances/${master}/replication`)).body.replication.last_failover).toBeNull();
  expect((await show(master)).replicas).toHaveLength(2);
  for (const r of replicas) expect((await show(r)).replica_of.id).toBe(master);

  const hangAt = Date.now();
  await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${await novaIdOf(master)}/hang`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  const newSource = await eventually('a replica took over', async () => {
    for (const r of replicas) {
      const i = await show(r);
      if (idle(i) && !i.replica_of && i.writable) return r;
    }
    return undefined;
  }, 60_000);
  console.log(`hang to new source: ${Date.now() - hangAt} ms`);
  execFileSync('iptables', ['-D', ...firewallRule]);
  firewallRule = undefined;
  const fenced = await show(master);
  expect(fenced.status).toBe('ERROR');
  expect(fenced.fault.message).toMatch(/fenced/);
  const server = await env.nova.getServer(await novaIdOf(master));
  expect(server?.status).toBe('SHUTOFF');
  const other = replicas.find((r) => r !== newSource)!;
  expect((await show(other)).replica_of.id).toBe(newSource);
  await writeReachesAll(newSource, [other], 20_001);
  const st = (await env.api('GET', `/v1.0/proj-a/instances/${newSource}/replication`)).body.replication;
  expect(st.last_failover).toMatchObject({ acknowledged: false });
  master = newSource;
  replicas = [other];
});

test('crash under a writer with semi-sync on: failover, no acknowledged write lost, never two writable members', async () => {
  const s = await env.api('PATCH', `/v1.0/proj-a/instances/${master}/replication`, { replication: { semi_sync: true, acknowledge_failover: true } });
  expect(s.body.replication).toMatchObject({ semi_sync: true, last_failover: { acknowledged: true } });
  await eventually('semi-sync active on the source', async () => {
    const rows = await adminQuery<{ Value: string }>(env.dataDir, await novaIdOf(master), "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'");
    return rows[0]?.Value === 'ON';
  }, 30_000);

  const members = [master, ...replicas];
  const ips = Object.fromEntries(await Promise.all(members.map(async (m) => [m, await ipOf(m)] as const)));
  const acked: number[] = [];
  let writeTo = master;
  let stop = false;
  let maxWritable = 0;
  let firstNewWrite = 0;
  const writer = (async () => {
    let n = 30_000;
    while (!stop) {
      for (const target of [writeTo, ...members.filter((m) => m !== writeTo)]) {
        const c = await app(ips[target]!, 300).catch(() => undefined);
        if (!c) continue;
        try {
          await c.query({ sql: 'INSERT INTO orders VALUES (?, ?)', values: [n, 'writer'], timeout: 2000 });
          acked.push(n++);
          if (target !== master && !firstNewWrite) firstNewWrite = Date.now();
          writeTo = target;
          break;
        } catch (err) {
          // Committed before the crash but never acknowledged, and already on the new
          // source (semi-sync makes that likely): move on to the next id.
          if ((err as { errno?: number }).errno === 1062) n++;
          /* otherwise read-only or gone: try the next member */
        } finally {
          c.destroy();
        }
      }
      await sleep(20);
    }
  })();
  const watcher = (async () => {
    while (!stop) {
      const flags = await Promise.all(members.map(writable));
      maxWritable = Math.max(maxWritable, flags.filter(Boolean).length);
      await sleep(100);
    }
  })();
  await sleep(1500);
  const crashAt = Date.now();
  await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${await novaIdOf(master)}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  await eventually('the first write on the new source', async () => firstNewWrite > 0, 60_000);
  await sleep(1000);
  stop = true;
  await Promise.all([writer, watcher]);
  console.log(`crash to first write on the new source: ${firstNewWrite - crashAt} ms; ${acked.length} acknowledged writes`);

  const newSource = writeTo;
  expect(newSource).not.toBe(master);
  expect(maxWritable).toBeLessThanOrEqual(1);
  const c = await app(ips[newSource]!);
  const [rows] = await c.query('SELECT id FROM orders WHERE id >= 30000');
  await c.end();
  const present = new Set((rows as { id: number }[]).map((r) => r.id));
  expect(acked.filter((id) => !present.has(id))).toEqual([]);
});
