// The watch on the real stack (issue 17): a healthy set's monitor writes no history while it
// polls (its polls are heartbeats of one activity), reads each member's replication status
// with the member's own monitoring account, and the health the API shows stays current
// although the registry is written only when it changes (and a slow lease).
import { createConnection } from 'mysql2/promise';
import { monitorWorkflowId, MONITOR_USER } from '../../lib/names';
import { unsealSecret, parseSecretKey } from '../../lib/secrets';
import { adminQuery } from '../helpers/mysql';
import { eventually, sleep, startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack;
let source: string;
let replica: string;

const show = async (id: string) => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
const idle = (i: any) => i && i.status === 'ACTIVE' && !i.operation;
const waitIdle = (id: string) => eventually(`${id} idle`, async () => (idle(await show(id)) ? true : undefined), 240_000);

beforeAll(async () => {
  env = await startTestStack();
  const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'watched', flavorRef: '1', volume: { size: 1 } } });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  source = created.body.instance.id;
  await waitIdle(source);
  const rep = await env.api('POST', `/v1.0/proj-a/instances/${source}/action`, { replicate: { count: 1 } });
  if (rep.status !== 202) throw new Error(`replicate answered ${rep.status}: ${JSON.stringify(rep.body)}`);
  replica = rep.body.replicas[0].id;
  await env.temporal.workflow.getHandle(rep.body.operation.id).result();
  await waitIdle(replica);
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

test('a healthy set: the watch makes each member its monitoring account, then 15 s of polls add no history event; the API health stays current', async () => {
  const handle = env.temporal.workflow.getHandle(monitorWorkflowId(source));
  expect((await handle.describe()).type).toBe('watchReplicationSet');
  await eventually('both accounts ready and health read through them', async () => {
    const creds = await env.registry!.monitorAccounts.credentials([source, replica]);
    const h = (await show(source)).replication_health as any[] | undefined;
    return Object.values(creds).every((c) => c.ready) && h?.length === 2 && h.every((m) => m.reachable && m.agent_answered && (m.role === 'source' || m.io_running)) ? true : undefined;
  }, 60_000);

  const before = (await handle.fetchHistory()).events?.length ?? 0;
  const observedBefore = (await env.registry!.pool.query('SELECT MAX(observed) AS o FROM replication_health WHERE set_id = ?', [source]))[0] as any[];
  await sleep(15_000);
  const after = (await handle.fetchHistory()).events?.length ?? 0;
  // 15 polls at the default 1 s: the 0.1.0 monitor wrote ~19 events a second here.
  expect(after).toBe(before);
  expect(before).toBeLessThan(60);
  // The registry was written at most by the lease (every 10 s), not every poll...
  const observedAfter = (await env.registry!.pool.query('SELECT MAX(observed) AS o FROM replication_health WHERE set_id = ?', [source]))[0] as any[];
  expect(+observedAfter[0].o - +observedBefore[0].o).toBeLessThanOrEqual(16_000);
  // ...and the API shows the health as current all the same (the watch vouches for it).
  const h = (await show(source)).replication_health as any[];
  for (const m of h) expect(Date.now() - Date.parse(m.observed)).toBeLessThanOrEqual(1000);
}, 120_000);

test("the monitoring account reads replication status only, has its own password per member, and left no transaction in a replica's binlog", async () => {
  const key = parseSecretKey(env.stack.env.TROVE_SECRET_KEY!);
  const creds = await env.registry!.monitorAccounts.credentials([source, replica]);
  const [ps, pr] = [source, replica].map((id) => unsealSecret(key, creds[id]!.sealedPassword!));
  expect(ps).not.toBe(pr);
  const r = (await env.registry!.instances.get(replica))!;
  const c = await createConnection({ host: r.address!, port: 3306, user: MONITOR_USER, password: pr });
  try {
    const [rows] = await c.query('SHOW SLAVE STATUS');
    expect((rows as any[])[0].Slave_IO_Running).toBe('Yes');
    await expect(c.query('SELECT * FROM mysql.user')).rejects.toThrow(/denied/i);
  } finally {
    await c.end();
  }
  // On the writable source: no change allowed either (and the replica's password does not open it).
  const s = (await env.registry!.instances.get(source))!;
  await expect(createConnection({ host: s.address!, port: 3306, user: MONITOR_USER, password: pr })).rejects.toThrow(/denied/i);
  const cs = await createConnection({ host: s.address!, port: 3306, user: MONITOR_USER, password: ps });
  try {
    await expect(cs.query('CREATE DATABASE nope')).rejects.toThrow(/denied/i);
  } finally {
    await cs.end();
  }
  // Made with the binlog off: the replica's binlog holds only what it replicated (its own server id never appears).
  const [pos] = await adminQuery(env.dataDir, r.novaServerId!, 'SELECT @@global.gtid_binlog_pos AS b, @@global.server_id AS id');
  expect(String((pos as any).b)).not.toMatch(new RegExp(`-${(pos as any).id}-`));
});
