// Automatic certificate renewal on the real stack: a stack that issues 90-second server
// certificates (TROVE_TLS_SERVER_CERT_DAYS), renewed 30 days ahead but never before two
// thirds of their life (lib/certificates-due.ts): the set's watch starts the renewal by
// itself once, every member then serves a new certificate, and the link runs on untouched.
import { createConnection } from 'mysql2/promise';
import { monitorWorkflowId } from '../../lib/names';
import { watchStateQuery } from '../../workflows/watch-replication-set';
import { adminQuery } from '../helpers/mysql';
import { eventually, novaServerOf, showInstance, useTestStack, waitIdle } from '../helpers/stack';

const APP = { user: 'app', password: 'app-pass-tls-renew' };
const LIFE_S = 90;

const env = useTestStack({ extraEnv: { TROVE_TLS_SERVER_CERT_DAYS: String(LIFE_S / 86_400), TROVE_TLS_RENEW_BEFORE_DAYS: '30' } });

const show = (id: string) => showInstance(env, id);
const sql = async <T = any>(id: string, query: string, args: unknown[] = []) => adminQuery<T>(env.dataDir, await novaServerOf(env, id), query, args);
const ipOf = async (id: string) => (await show(id)).ip[0] as string;

type Cert = { instance_id: string; serial: string; expires: string; issued: string };

test('a certificate within its renewal lead is renewed by the watch unasked, once; members serve the new certificate; the link never reconnects', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'renew-src', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  const source = created.body.instance.id as string;
  await waitIdle(env, source);
  const rep = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'renew-r1', replica_of: source, replication: { tls: true } } });
  expect(rep.status).toBe(202);
  await env.temporal.workflow.getHandle(rep.body.operation.id).result();
  const r1 = rep.body.instance.id as string;
  await waitIdle(env, r1);
  const setId = (await env.registry!.instances.get(source))!.replicationSetId!;

  const before = (await show(source)).tls.certificates as Cert[];
  expect(before.map((c) => c.instance_id).sort()).toEqual([source, r1].sort());
  // Short certificates, as configured.
  for (const c of before) expect(Date.parse(c.expires) - Date.parse(c.issued)).toBeLessThanOrEqual((LIFE_S + 2) * 1000);
  const dumpThreads = async () => (await sql<{ ID: number }>(source, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' ORDER BY ID")).map((x) => Number(x.ID));
  await eventually('a dump thread', async () => ((await dumpThreads()).length === 1 ? true : undefined), 20_000);
  const dumpBefore = await dumpThreads();

  // Nobody asks: the watch finds them due (two thirds into their life) and renews them.
  const watch = env.temporal.workflow.getHandle(monitorWorkflowId(setId));
  const renewal = await eventually('an automatic renewal', async () => (await watch.query(watchStateQuery)).certificateRenewals?.[0], 150_000);
  expect(renewal).toMatch(new RegExp(`^renew-certificates-automatic-${setId}-`));
  const startedAt = (await env.temporal.workflow.getHandle(renewal).describe()).startTime.getTime();
  const firstExpiry = Math.min(...before.map((c) => Date.parse(c.expires)));
  console.log(`automatic renewal started ${((startedAt - Math.min(...before.map((c) => Date.parse(c.issued)))) / 1000).toFixed(1)} s after the first certificate was issued, ${((firstExpiry - startedAt) / 1000).toFixed(1)} s before the first expiry`);
  expect(startedAt).toBeLessThan(firstExpiry);
  const done = (await env.temporal.workflow.getHandle(renewal).result()) as { renewed: boolean; certificates: { instanceId: string; serial: string; reloaded: string }[] };
  expect(done.renewed).toBe(true);
  expect(done.certificates.map((c) => c.reloaded)).toEqual(['flush ssl', 'flush ssl']);
  const after = (await show(source)).tls.certificates as Cert[];
  for (const c of after) {
    const old = before.find((b) => b.instance_id === c.instance_id)!;
    expect(c.serial).not.toBe(old.serial);
    expect(Date.parse(c.expires)).toBeGreaterThan(Date.parse(old.expires));
    // Renewed before it expired, not after.
    expect(Date.parse(c.issued)).toBeLessThan(Date.parse(old.expires));
    // The new certificate is the one a new session is served.
    const ca = (await show(source)).tls.ca_certificate as string;
    const s = await createConnection({ host: await ipOf(c.instance_id), port: 3306, ...APP, database: 'shop', ssl: { ca } });
    try {
      const [[st]] = (await s.query("SHOW SESSION STATUS LIKE 'Ssl_server_not_after'")) as any;
      expect(new Date(st.Value).toISOString()).toBe(c.expires);
    } finally {
      await s.end();
    }
  }
  // Started once (it is quiet after starting one), and the link ran on: same dump thread.
  expect((await watch.query(watchStateQuery)).certificateRenewals).toEqual([renewal]);
  expect(await dumpThreads()).toEqual(dumpBefore);
}, 400_000);
