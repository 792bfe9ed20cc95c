// TLS replication on the real stack: a set turned TLS on while a writer writes keeps
// replicating (certificates loaded with FLUSH SSL, no restart); every link verifies its
// source's certificate and every replication account requires TLS; a replica created
// afterwards inherits TLS; a promote keeps every link TLS; a client verifies any member with
// the CA `show` gives; bad input is refused changing nothing.
import type { TLSSocket } from 'node:tls';
import { createConnection } from 'mysql2/promise';
import { SteadyWriter } from '../../bench/lib/writer';
import { replicationUserName, workflowIds } from '../../lib/names';
import { parseSecretKey, unsealSecret } from '../../lib/secrets';
import { activityInputs, patchMarkers } from '../helpers/histories';
import { adminQuery, checksums } from '../helpers/mysql';
import { eventually, useTestStack, showInstance, waitIdle, novaServerOf } from '../helpers/stack';
import { tlsLinks } from '../helpers/tls-links';

const APP = { user: 'app', password: 'app-pass-tls-3' };

const env = useTestStack();

const show = (id: string) => showInstance(env, id);
const idle = (id: string) => waitIdle(env, id);
const novaIdOf = (id: string) => novaServerOf(env, id);
const sql = async <T = any>(id: string, query: string, args: unknown[] = []) => adminQuery<T>(env.dataDir, await novaIdOf(id), query, args);
const ipOf = async (id: string) => (await show(id)).ip[0] as string;
const result = (operationId: string) => env.temporal.workflow.getHandle(operationId).result();

const { slaveStatus, expectTlsLink } = tlsLinks(env);

/** The replication account of `replica` on `source` logs in over TLS only, and TLS verifies with the set's CA. */
async function expectAccountRequiresTls(source: string, replica: string, ca: string) {
  const user = replicationUserName(replica);
  const rows = await sql<{ ssl_type: string }>(source, "SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = '%'", [user]);
  expect(rows).toEqual([{ ssl_type: 'ANY' }]);
  const account = await env.registry!.accounts.get(replica);
  const password = unsealSecret(parseSecretKey(env.stack.env.TROVE_SECRET_KEY!), account!.sealedPassword);
  const host = await ipOf(source);
  await expect(createConnection({ host, port: 3306, user, password }).then((c) => c.end())).rejects.toThrow(/Access denied/);
  const c = await createConnection({ host, port: 3306, user, password, ssl: { ca } });
  try {
    const [[cipher]] = (await c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")) as any;
    expect(cipher.Value).not.toBe('');
  } finally {
    await c.end();
  }
}

/** A client verifies the member with the CA `show` gave (the certificate names its address). */
async function expectClientTls(id: string, ca: string) {
  const c = await createConnection({ host: await ipOf(id), port: 3306, ...APP, database: 'shop', ssl: { ca } });
  try {
    const [[cipher]] = (await c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")) as any;
    expect(cipher.Value).toMatch(/^TLS_|ECDHE/);
  } finally {
    await c.end();
  }
}

test('a set turned TLS on under writes keeps replicating over verified TLS; new replicas inherit it; a promote keeps it', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'tls-src', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  const source = created.body.instance.id as string;
  await idle(source);

  // Not in a set: TLS is a set's setting (404 as for every setting); a set cannot go back to plain.
  expect((await env.api('PATCH', `/v1.0/proj-a/instances/${source}/replication`, { replication: { tls: true } })).status).toBe(404);
  const rep = await env.api('POST', `/v1.0/proj-a/instances/${source}/action`, { replicate: { count: 2 } });
  expect(rep.status).toBe(202);
  await result(rep.body.operation.id);
  const [r1, r2] = rep.body.replicas.map((r: { id: string }) => r.id) as [string, string];
  await Promise.all([idle(r1), idle(r2)]);
  const off = await env.api('PATCH', `/v1.0/proj-a/instances/${source}/replication`, { replication: { tls: false } });
  expect(off.status).toBe(400);
  expect(off.body.badRequest?.message ?? JSON.stringify(off.body)).toMatch(/replication\.tls: can only be true/);
  expect((await show(source)).tls).toBeUndefined();
  expect((await slaveStatus(r1)).Master_SSL_Allowed).toBe('No');
  // A plain set that replicates is not made TLS by one more replica: 400, nothing built.
  const plainMore = await env.api('POST', `/v1.0/proj-a/instances/${source}/action`, { replicate: { count: 1, replication: { tls: true } } });
  expect(plainMore.status).toBe(400);
  expect(plainMore.body.badRequest.message).toMatch(/replicate\.replication\.tls: the replication set already replicates in plain text \(2 link\(s\)\)/);
  expect((await show(source)).replicas ?? []).toHaveLength(2);

  const c = await createConnection({ host: await ipOf(source), port: 3306, ...APP, database: 'shop' });
  await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
  await c.end();
  const pidsBefore = await Promise.all([source, r1, r2].map(async (id) => (await sql<{ u: number }>(id, "SELECT VARIABLE_VALUE AS u FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"))[0]!.u));
  const writer = new SteadyWriter({ [source]: await ipOf(source) }, { ...APP, database: 'shop' }, source, 1);
  writer.start();
  try {
    const on = await env.api('PATCH', `/v1.0/proj-a/instances/${r2}/replication`, { replication: { tls: true } });
    expect(on.status).toBe(202);
    expect(on.body.operation.type).toBe('enableReplicationTls');
    const done = (await result(on.body.operation.id)) as { certificates: { instanceId: string; reloaded: string }[]; links: unknown[]; authorityCreated: boolean };
    expect(done.authorityCreated).toBe(true);
    expect(done.links).toHaveLength(2);
    // Loaded with FLUSH SSL: no server restarted.
    expect(done.certificates.map((x) => x.reloaded)).toEqual(['flush ssl', 'flush ssl', 'flush ssl']);
  } finally {
    await writer.stop();
  }
  expect(writer.acks.length).toBeGreaterThan(10);
  const pidsAfter = await Promise.all([source, r1, r2].map(async (id) => (await sql<{ u: number }>(id, "SELECT VARIABLE_VALUE AS u FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"))[0]!.u));
  pidsAfter.forEach((u, i) => expect(Number(u)).toBeGreaterThanOrEqual(Number(pidsBefore[i])));

  const view = await show(source);
  expect(view.tls.enabled).toBe(true);
  const ca = view.tls.ca_certificate as string;
  expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
  expect((await env.api('GET', `/v1.0/proj-a/instances/${r1}/replication`)).body.replication.tls).toBe(true);
  const sourceIp = await ipOf(source);
  for (const r of [r1, r2]) {
    await expectTlsLink(r, sourceIp);
    await expectAccountRequiresTls(source, r, ca);
  }
  // Every acknowledged write reached every replica, over the TLS links.
  const last = Math.max(...writer.acks.map((a) => a.id));
  for (const r of [r1, r2]) await eventually(`${r} has write ${last}`, async () => ((await sql(r, 'SELECT id FROM shop.writes WHERE id = ?', [last])).length === 1 ? true : undefined), 60_000);
  const sums = await Promise.all([source, r1, r2].map(async (id) => checksums(env.dataDir, await novaIdOf(id), ['shop.writes'])));
  expect(sums[1]).toEqual(sums[0]);
  expect(sums[2]).toEqual(sums[0]);
  for (const id of [source, r1, r2]) await expectClientTls(id, ca);

  // A replica created afterwards inherits TLS.
  const more = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'tls-r3', replica_of: source } });
  expect(more.status).toBe(202);
  await result(more.body.operation.id);
  const r3 = more.body.instance.id as string;
  await idle(r3);
  await expectTlsLink(r3, sourceIp);
  await expectAccountRequiresTls(source, r3, ca);
  await expectClientTls(r3, ca);
  const build = await env.temporal.workflow.getHandle(`build-replica-${r3}`).fetchHistory();
  const markers = (build.events ?? []).filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName);
  expect(markers).toEqual(['core_patch']);

  // A promote keeps every link TLS, the former source's included.
  const promote = await env.api('POST', `/v1.0/proj-a/instances/${r1}/action`, { promote_to_replica_source: {} });
  expect(promote.status).toBe(202);
  await result(promote.body.operation.id);
  await idle(r1);
  const newIp = await ipOf(r1);
  for (const r of [source, r2, r3]) {
    await expectTlsLink(r, newIp);
    await expectAccountRequiresTls(r1, r, ca);
  }
  const c2 = await createConnection({ host: newIp, port: 3306, ...APP, database: 'shop', ssl: { ca } });
  await c2.query("INSERT INTO writes (id, v) VALUES (1000000, 'after promote')");
  await c2.end();
  for (const r of [source, r2, r3]) await eventually(`${r} has the write after the promote`, async () => ((await sql(r, 'SELECT id FROM shop.writes WHERE id = 1000000')).length === 1 ? true : undefined), 60_000);
}, 900_000);

/** The inputs of every activity of that type the workflow scheduled (payloads decoded). */
async function scheduledInputs(workflowId: string, activityType: string): Promise<any[]> {
  return activityInputs(env.temporal, workflowId, activityType);
}

test('a set TLS from its first replica: the replica attaches over verified TLS with an account that requires it, never in clear text; a renewal under writes serves new certificates without touching the link', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'tls-first', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  const source = created.body.instance.id as string;
  await idle(source);

  // Bad input, synchronously: TLS is asked for, never refused by a flag; nothing is created.
  const before = (await env.api('GET', '/v1.0/proj-a/instances')).body.instances.length;
  for (const [body, field] of [
    [{ instance: { name: 'x', replica_of: source, replication: { tls: false } } }, /instance\.replication\.tls: can only be true/],
    [{ instance: { name: 'x', replica_of: source, replication: { tls: true, verify: false } } }, /instance\.replication: .*verify/],
  ] as const) {
    const bad = await env.api('POST', '/v1.0/proj-a/instances', body);
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(field);
  }
  expect((await env.api('GET', '/v1.0/proj-a/instances')).body.instances.length).toBe(before);

  const rep = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'tls-first-r1', replica_of: source, replication: { tls: true } } });
  expect(rep.status).toBe(202);
  const operationId = rep.body.operation.id as string;
  await result(operationId);
  const r1 = rep.body.instance.id as string;
  await idle(r1);

  const view = await show(source);
  expect(view.tls.enabled).toBe(true);
  const ca = view.tls.ca_certificate as string;
  expect((await env.api('GET', `/v1.0/proj-a/instances/${r1}/replication`)).body.replication.tls).toBe(true);
  await expectTlsLink(r1, await ipOf(source));
  await expectAccountRequiresTls(source, r1, ca);
  await expectClientTls(source, ca);
  await expectClientTls(r1, ca);
  // No clear-text window: the one link the build started was TLS, and its account was made
  // requiring TLS (never altered to it afterwards); the source's certificate came first.
  const build = workflowIds.buildReplica(r1);
  expect((await scheduledInputs(build, 'startReplication')).map((i) => i.source.tls)).toEqual([true]);
  expect((await scheduledInputs(build, 'createReplicationUser')).map((i) => i.requireSsl)).toEqual([true]);
  expect(await patchMarkers(env.temporal, operationId)).toContain('2026-12-tls-from-first-replica');
  expect((await scheduledInputs(operationId, 'ensureSetAuthority'))).toHaveLength(1);

  // The set replicates: a write reaches the replica over TLS.
  const c = await createConnection({ host: await ipOf(source), port: 3306, ...APP, database: 'shop', ssl: { ca } });
  await c.query('CREATE TABLE first (id INT PRIMARY KEY)');
  await c.query('INSERT INTO first VALUES (1)');
  await c.end();
  await eventually('the write on the replica', async () => ((await sql(r1, 'SELECT id FROM shop.first')).length === 1 ? true : undefined), 60_000);

  // Renewal under a steady writer: every member serves a new certificate from the same CA
  // (FLUSH LOCAL SSL), the running link is not reconnected, no errant GTID, nothing lost.
  const certsBefore = (await show(source)).tls.certificates as { instance_id: string; serial: string; expires: string }[];
  expect(certsBefore.map((x) => x.instance_id).sort()).toEqual([source, r1].sort());
  const dumpThreads = async () => (await sql<{ ID: number }>(source, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' ORDER BY ID")).map((x) => Number(x.ID));
  const dumpBefore = await dumpThreads();
  expect(dumpBefore).toHaveLength(1);
  const w = await createConnection({ host: await ipOf(source), port: 3306, ...APP, database: 'shop', ssl: { ca } });
  await w.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
  await w.end();
  const writer = new SteadyWriter({ [source]: await ipOf(source) }, { ...APP, database: 'shop' }, source, 1);
  writer.start();
  let renewed: { renewed: boolean; certificates: { instanceId: string; reloaded: string; serial: string; notAfter: string }[] };
  let renewId: string;
  try {
    const bad = await env.api('PATCH', `/v1.0/proj-a/instances/${r1}/replication`, { replication: { tls: { renew: false } } });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/replication\.tls/);
    const renew = await env.api('PATCH', `/v1.0/proj-a/instances/${r1}/replication`, { replication: { tls: { renew: true } } });
    expect(renew.status).toBe(202);
    expect(renew.body.operation.type).toBe('enableReplicationTls');
    renewId = renew.body.operation.id;
    renewed = (await result(renewId)) as typeof renewed;
  } finally {
    await writer.stop();
  }
  expect(writer.acks.length).toBeGreaterThan(10);
  expect(renewed.renewed).toBe(true);
  expect(renewed.certificates.map((x) => x.reloaded)).toEqual(['flush ssl', 'flush ssl']);
  const certsAfter = (await show(source)).tls.certificates as typeof certsBefore;
  for (const x of certsAfter) {
    const old = certsBefore.find((b) => b.instance_id === x.instance_id)!;
    expect(x.serial).not.toBe(old.serial);
    expect(x.serial).toBe(renewed.certificates.find((c) => c.instanceId === x.instance_id)!.serial);
    expect(Date.parse(x.expires)).toBeGreaterThan(Date.now() + 800 * 86_400_000);
    // The new certificate is the one served: a new session is handed its serial (expiries have a
    // second's resolution, so a renewal within a second of the first issue has the same one).
    const c = await createConnection({ host: await ipOf(x.instance_id), port: 3306, ...APP, database: 'shop', ssl: { ca } });
    try {
      const [[st]] = (await c.query("SHOW SESSION STATUS LIKE 'Ssl_server_not_after'")) as any;
      expect(new Date(st.Value).toISOString()).toBe(x.expires);
      const served = (c as unknown as { connection: { stream: TLSSocket } }).connection.stream.getPeerCertificate();
      expect(served.serialNumber.toUpperCase()).toBe(x.serial.toUpperCase());
    } finally {
      await c.end();
    }
  }
  for (const id of [source, r1]) await expectClientTls(id, ca);
  // The link was left running: same dump thread on the source, never re-pointed, still verified TLS.
  expect(await dumpThreads()).toEqual(dumpBefore);
  expect(await scheduledInputs(renewId!, 'startReplication')).toEqual([]);
  await expectTlsLink(r1, await ipOf(source));
  // Every acknowledged write reached the replica, and it holds no transaction of its own.
  const last = Math.max(...writer.acks.map((a) => a.id));
  await eventually(`${r1} has write ${last}`, async () => ((await sql(r1, 'SELECT id FROM shop.writes WHERE id = ?', [last])).length === 1 ? true : undefined), 60_000);
  const [[srcPos], [repPos]] = await Promise.all([source, r1].map((id) => sql<{ pos: string; sid: number }>(id, 'SELECT @@global.gtid_binlog_pos AS pos, @@global.server_id AS sid')));
  expect(repPos!.pos.split(',').every((g) => g.split('-')[1] === String(srcPos!.sid))).toBe(true);
  expect(repPos!.pos).toBe(srcPos!.pos);
  const sums = await Promise.all([source, r1].map(async (id) => checksums(env.dataDir, await novaIdOf(id), ['shop.writes'])));
  expect(sums[1]).toEqual(sums[0]);
}, 600_000);
