// TLS replication, the rest of issue 19 on the real stack: a CA rotation under a steady
// writer (members trust both CAs, get certificates from the new one, then trust it alone;
// FLUSH SSL only, the link never reconnects, nothing lost, no errant GTID, `show` gives the
// new CA, the old one no longer verifies any member, no private key in the history or logs);
// each link's TLS in the health `show` reports, and a plain link in a TLS set reported as a
// problem; TLS turned on for a master-master pair: both directions TLS, verified, their
// accounts requiring it.
import { readFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createConnection } from 'mysql2/promise';
import { SteadyWriter } from '../../bench/lib/writer';
import { PRIVATE_KEY_MARKERS } from '../../lib/certificates';
import { replicationUserName } from '../../lib/names';
import { activityInputs, fetchDecodedHistory } from '../helpers/histories';
import { adminQuery, checksums } from '../helpers/mysql';
import { eventually, novaServerOf, showInstance, useTestStack, waitIdle } from '../helpers/stack';

const APP = { user: 'app', password: 'app-pass-tls-more' };

const env = useTestStack();

const show = (id: string) => showInstance(env, id);
const idle = (id: string) => waitIdle(env, id);
const sql = async <T = any>(id: string, query: string, args: unknown[] = []) => adminQuery<T>(env.dataDir, await novaServerOf(env, id), query, args);
const ipOf = async (id: string) => (await show(id)).ip[0] as string;
const result = (operationId: string) => env.temporal.workflow.getHandle(operationId).result();

async function slaveStatus(id: string): Promise<Record<string, any>> {
  const [s] = await sql(id, 'SHOW SLAVE STATUS');
  return s as Record<string, any>;
}

/** The link into `replica` runs, verified TLS, from `sourceIp`. */
async function expectTlsLink(replica: string, sourceIp: string) {
  await eventually(`${replica} replicating over TLS`, async () => {
    const s = await slaveStatus(replica);
    return s?.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes' ? s : undefined;
  }, 60_000);
  const s = await slaveStatus(replica);
  expect({ host: s.Master_Host, ssl: s.Master_SSL_Allowed, verify: s.Master_SSL_Verify_Server_Cert, ioError: s.Last_IO_Error }).toEqual({ host: sourceIp, ssl: 'Yes', verify: 'Yes', ioError: '' });
}

/** A new client session to `id` verifying with `ca`: its cipher, or the error. */
async function clientTls(id: string, ca: string): Promise<string> {
  try {
    const c = await createConnection({ host: await ipOf(id), port: 3306, ...APP, database: 'shop', ssl: { ca }, connectTimeout: 5000 });
    try {
      const [[cipher]] = (await c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")) as any;
      return cipher.Value as string;
    } finally {
      await c.end();
    }
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** The member's health as `show` reports it, once the watch has read its link. */
async function linkHealth(id: string, wanted: (h: any) => boolean, what: string): Promise<any> {
  return eventually(what, async () => {
    const h = ((await show(id)).replication_health ?? []).find((x: any) => x.id === id);
    return h && wanted(h) ? h : undefined;
  }, 60_000);
}

async function createSource(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name, flavorRef: '1', volume: { size: 1 }, ...extra, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  expect(created.status).toBe(202);
  const id = created.body.instance.id as string;
  await idle(id);
  return id;
}

test('a CA rotation under writes: both CAs trusted, certificates from the new one, then the new one alone; no restart, the link never reconnects, nothing lost; health shows each link TLS and a plain link as a problem', async () => {
  const source = await createSource('rot-src');
  const rep = await env.api('POST', `/v1.0/proj-a/instances/${source}/action`, { replicate: { count: 1, replication: { tls: true } } });
  expect(rep.status).toBe(202);
  await result(rep.body.operation.id);
  const r1 = rep.body.replicas[0].id as string;
  await idle(r1);
  const oldCa = (await show(source)).tls.ca_certificate as string;
  expect(await clientTls(r1, oldCa)).toMatch(/^TLS_|ECDHE/);

  // Health: the replica's link is TLS, the source has none; no problem.
  const h = await linkHealth(r1, (x) => x.link_tls === 'tls', 'the link read as TLS');
  expect(h.tls_problem).toBeUndefined();
  expect(((await show(source)).replication_health as any[]).find((x) => x.id === source).link_tls).toBe('-');

  // Bad input: 400 naming the field, nothing started.
  const bad = await env.api('PATCH', `/v1.0/proj-a/instances/${r1}/replication`, { replication: { tls: { rotate_ca: false } } });
  expect(bad.status).toBe(400);
  expect(bad.body.badRequest.message).toMatch(/replication\.tls: .*\{"rotate_ca": true\}/);

  const w = await createConnection({ host: await ipOf(source), port: 3306, ...APP, database: 'shop' });
  await w.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
  await w.end();
  const dumpThreads = async () => (await sql<{ ID: number }>(source, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' ORDER BY ID")).map((x) => Number(x.ID));
  await eventually('a dump thread', async () => ((await dumpThreads()).length === 1 ? true : undefined), 20_000);
  const dumpBefore = await dumpThreads();
  const uptime = async (id: string) => Number((await sql<{ u: string }>(id, "SELECT VARIABLE_VALUE AS u FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"))[0]!.u);
  const uptimeBefore = await Promise.all([source, r1].map(uptime));
  const writer = new SteadyWriter({ [source]: await ipOf(source) }, { ...APP, database: 'shop' }, source, 1);
  writer.start();
  let rotated: { renewed: boolean; rotatedCa: { caCertificatePem: string; previousCaCertificatePem: string }; certificates: { instanceId: string; reloaded: string; serial: string }[] };
  let rotationId: string;
  const startedAt = Date.now();
  let endedAt = 0;
  try {
    const rotate = await env.api('PATCH', `/v1.0/proj-a/instances/${r1}/replication`, { replication: { tls: { rotate_ca: true } } });
    expect(rotate.status).toBe(202);
    expect(rotate.body.operation.type).toBe('enableReplicationTls');
    rotationId = rotate.body.operation.id;
    rotated = (await result(rotationId)) as typeof rotated;
    endedAt = Date.now();
  } finally {
    await writer.stop();
  }
  expect(writer.acks.length).toBeGreaterThan(10);
  // Writes never wait on a rotation (FLUSH SSL blocks no transaction): the figure goes to the report.
  const gap = writer.longestGapMs(startedAt, endedAt);
  console.log(`CA rotation: ${endedAt - startedAt} ms, ${writer.acks.length} writes acknowledged, longest write gap ${gap} ms`);
  expect(gap).toBeLessThan(2000);

  // The new CA is the set's; every member serves a certificate from it, loaded with FLUSH SSL.
  const newCa = (await show(source)).tls.ca_certificate as string;
  expect(newCa).not.toBe(oldCa);
  expect(rotated.rotatedCa.caCertificatePem).toBe(newCa);
  expect(rotated.rotatedCa.previousCaCertificatePem).toBe(oldCa);
  expect(rotated.certificates.map((c) => c.reloaded)).toEqual(['flush ssl', 'flush ssl']);
  const after = await Promise.all([source, r1].map(uptime));
  after.forEach((u, i) => expect(u).toBeGreaterThanOrEqual(uptimeBefore[i]!));
  for (const id of [source, r1]) {
    expect(await clientTls(id, newCa)).toMatch(/^TLS_|ECDHE/);
    expect(await clientTls(id, oldCa)).toMatch(/^error: .*(certificate|verify)/i);
  }
  // In three steps: both CAs trusted (2 members), certificates from the new CA, the new CA alone.
  const trust = (await activityInputs(env.temporal, rotationId!, 'installTrust')) as { caCertificatePem: string }[];
  expect(trust.map((t) => t.caCertificatePem.split('BEGIN CERTIFICATE').length - 1)).toEqual([2, 2, 1, 1]);
  expect(await activityInputs(env.temporal, rotationId!, 'startReplication')).toEqual([]);

  // The link never reconnected (same dump thread), and every acknowledged write arrived, no errant GTID.
  expect(await dumpThreads()).toEqual(dumpBefore);
  const last = Math.max(...writer.acks.map((a) => a.id));
  await eventually(`${r1} has write ${last}`, async () => ((await sql(r1, 'SELECT id FROM shop.writes WHERE id = ?', [last])).length === 1 ? true : undefined), 60_000);
  const [[srcPos], [repPos]] = await Promise.all([source, r1].map((id) => sql<{ pos: string; sid: number }>(id, 'SELECT @@global.gtid_binlog_pos AS pos, @@global.server_id AS sid')));
  expect(repPos!.pos).toBe(srcPos!.pos);
  expect(repPos!.pos.split(',').every((g) => g.split('-')[1] === String(srcPos!.sid))).toBe(true);
  const sums = await Promise.all([source, r1].map(async (id) => checksums(env.dataDir, await novaServerOf(env, id), ['shop.writes'])));
  expect(sums[1]).toEqual(sums[0]);

  // A reconnect verifies the source with the new CA alone.
  await sql(r1, 'STOP SLAVE IO_THREAD');
  await sql(r1, 'START SLAVE IO_THREAD');
  await expectTlsLink(r1, await ipOf(source));

  // No private key in the rotation's history (payloads decoded) or in the stack's log.
  const history = historyToJSON(await fetchDecodedHistory(env.temporal, rotationId!));
  const log = readFileSync(env.logFile, 'utf8');
  for (const marker of PRIVATE_KEY_MARKERS) {
    expect(history.includes(marker)).toBe(false);
    expect(log.includes(marker)).toBe(false);
  }
  const decoded = [...history.matchAll(/"([A-Za-z0-9+/]{12,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
  for (const marker of PRIVATE_KEY_MARKERS) expect(decoded.includes(marker)).toBe(false);

  // A link made plain behind the orchestrator's back is a health problem in a TLS set.
  await sql(r1, 'STOP SLAVE');
  await sql(r1, 'CHANGE MASTER TO MASTER_SSL = 0, MASTER_SSL_VERIFY_SERVER_CERT = 0');
  await sql(r1, 'START SLAVE');
  const plain = await linkHealth(r1, (x) => x.link_tls === 'plain', 'the plain link in the health');
  expect(plain.tls_problem).toMatch(/the set replicates over TLS but this link does not/);
  await sql(r1, 'STOP SLAVE');
  await sql(r1, 'CHANGE MASTER TO MASTER_SSL = 1, MASTER_SSL_VERIFY_SERVER_CERT = 1');
  await sql(r1, 'START SLAVE');
  await expectTlsLink(r1, await ipOf(source));
  const fixed = await linkHealth(r1, (x) => x.link_tls === 'tls', 'the link TLS again');
  expect(fixed.tls_problem).toBeUndefined();
}, 600_000);

test('TLS turned on for a master-master pair: both directions re-pointed with TLS, verified, each account requiring it; writes still flow', async () => {
  const a = await createSource('tls-pa', { availability_zone: 'az1', locality: 'anti-affinity' });
  const made = await env.api('POST', `/v1.0/proj-a/instances/${a}/action`, { create_pair: { name: 'tls-pb' } });
  expect(made.status).toBe(202);
  await result(made.body.operation.id);
  const b = made.body.instance.id as string;
  await Promise.all([idle(a), idle(b)]);
  expect((await slaveStatus(a)).Master_SSL_Allowed).toBe('No');

  const on = await env.api('PATCH', `/v1.0/proj-a/instances/${b}/replication`, { replication: { tls: true } });
  expect(on.status).toBe(202);
  const done = (await result(on.body.operation.id)) as { links: { replicaId: string; sourceId: string }[] };
  expect(done.links.map((l) => `${l.replicaId}<-${l.sourceId}`).sort()).toEqual([`${a}<-${b}`, `${b}<-${a}`].sort());

  const ca = (await show(a)).tls.ca_certificate as string;
  for (const [side, from] of [[a, b], [b, a]] as const) {
    await expectTlsLink(side, await ipOf(from));
    // The account `side` replicates with, on `from`, logs in over TLS only.
    const rows = await sql<{ ssl_type: string }>(from, "SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = '%'", [replicationUserName(side)]);
    expect(rows).toEqual([{ ssl_type: 'ANY' }]);
    expect(await clientTls(side, ca)).toMatch(/^TLS_|ECDHE/);
  }
  // Health: both sides' links read as TLS (the active side's link is its reverse one).
  for (const side of [a, b]) await linkHealth(side, (x) => x.link_tls === 'tls', `${side}'s link TLS in the health`);

  const w = await createConnection({ host: await ipOf(a), port: 3306, ...APP, database: 'shop', ssl: { ca } });
  await w.query('CREATE TABLE pair_tls (id INT PRIMARY KEY)');
  await w.query('INSERT INTO pair_tls VALUES (1)');
  await w.end();
  await eventually('the write on the passive side', async () => ((await sql(b, 'SELECT id FROM shop.pair_tls')).length === 1 ? true : undefined), 30_000);
  // The reverse link runs too, without error, over TLS.
  await expectTlsLink(a, await ipOf(b));
}, 600_000);
