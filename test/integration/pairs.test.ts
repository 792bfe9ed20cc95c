// Master-master pairs (issue 19, C1–C3) on the real stack: a pair made from an instance that
// holds data (its second master built from one snapshot on another host of the zone), each
// side in its own GTID domain, replication both ways, the passive side read-only for the
// application's account at every sampled moment, also across its restart; a switch of the
// active side and back under a steady writer: no acknowledged write lost, never two
// writable sides, the write gap measured; `show` and `list`; bad input refused with 400
// and nothing changed.
import { SteadyWriter } from '../../bench/lib/writer';
import { pairMembers } from '../helpers/pair-members';
import { eventually, sleep, useTestStack, waitIdle } from '../helpers/stack';

const env = useTestStack();
const APP = { user: 'app', password: 'app-pass-9' };

const { show, action, result, census, rec, ipOf, admin, app, writable, appCanWrite } = pairMembers(env, APP);

let a: string;
let b: string;

test('create a pair from an instance holding data: another host of its zone, own GTID domains, replication both ways, the passive side read-only', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'pa', flavorRef: '1', volume: { size: 1 }, availability_zone: 'az1', locality: 'anti-affinity', databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  expect(created.status).toBe(202);
  a = created.body.instance.id;
  await waitIdle(env, a);
  const c = await app(a);
  await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
  await c.query('CREATE TABLE probes (id INT PRIMARY KEY)');
  await c.query('INSERT INTO writes VALUES ?', [Array.from({ length: 200 }, (_, i) => [i + 1, `row ${i + 1}`])]);
  await c.end();

  const made = await action(a, { create_pair: { name: 'pb' } });
  b = made.instance.id;
  expect(made).toMatchObject({ instance: { name: 'pb' }, operation: { type: 'createPair' } });
  const built = await result(made.operation.id);
  expect(built).toMatchObject({ activeId: a, passiveId: b });
  await waitIdle(env, b);
  await waitIdle(env, a);

  // Same zone, another host (the source's anti-affinity group).
  const [sa, sb] = await Promise.all([a, b].map(async (id) => (await env.nova.getServer((await rec(id)).novaServerId!))!));
  expect(sb!['OS-EXT-AZ:availability_zone']).toBe('az1');
  expect(sb!['OS-EXT-SRV-ATTR:host']).not.toBe(sa!['OS-EXT-SRV-ATTR:host']);

  // Each side its own GTID domain (its server_id), in my.cnf too; one writable side.
  const [[da], [db]] = await Promise.all([a, b].map((id) => admin<{ d: number; s: number; ro: number }>(id, 'SELECT @@global.gtid_domain_id AS d, @@global.server_id AS s, @@global.read_only AS ro')));
  expect(da!.d).toBe(da!.s);
  expect(db!.d).toBe(db!.s);
  expect(da!.d).not.toBe(db!.d);
  expect([da!.ro, db!.ro]).toEqual([0, 1]);

  // Both directions replicate: a's slave points at b and b's at a, both threads running.
  for (const [side, from] of [[a, b], [b, a]] as const) {
    const [st] = await admin<{ Master_Host: string; Slave_IO_Running: string; Slave_SQL_Running: string }>(side, 'SHOW SLAVE STATUS');
    expect(st).toMatchObject({ Master_Host: await ipOf(from), Slave_SQL_Running: 'Yes' });
    await eventually(`${side} IO thread running`, async () => (await admin<{ Slave_IO_Running: string }>(side, 'SHOW SLAVE STATUS'))[0]?.Slave_IO_Running === 'Yes', 20_000);
  }
  // The 200 rows came with the snapshot; a new write reaches the passive side.
  const w = await app(a);
  await w.query('INSERT INTO writes VALUES (1001, "after the pair")');
  await w.end();
  await eventually('the write on the passive side', async () => (await admin<{ n: number }>(b, 'SELECT COUNT(*) AS n FROM shop.writes'))[0]!.n === 201, 10_000);
  expect(await appCanWrite(b, 1)).toBe(false);
  // Databases and users are changed on the active side and replicate; on the passive side they are refused.
  expect((await env.api('POST', `/v1.0/proj-a/instances/${a}/databases`, { databases: [{ name: 'pairdb' }] })).status).toBe(202);
  const onPassive = await env.api('POST', `/v1.0/proj-a/instances/${b}/databases`, { databases: [{ name: 'other' }] });
  expect(onPassive.status).toBe(400);
  expect(onPassive.body.badRequest.message).toMatch(/is a read replica of .*: .*make the change on/);
  await eventually('the database on the passive side', async () => (await admin<{ n: number }>(b, "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'pairdb'"))[0]!.n === 1, 10_000);

  // show presents the pair, list a role for each.
  const shown = await show(a);
  expect(shown).toMatchObject({ role: 'active', writable: true, pair: { active: { id: a, name: 'pa' }, passive: { id: b, name: 'pb' } } });
  expect(shown.pair.replication.map((l: { from: string; to: string }) => [l.from, l.to])).toEqual([[a, b], [b, a]]);
  expect(shown.topology.members.map((m: { role: string }) => m.role)).toEqual(['co-master', 'co-master']);
  expect(await show(b)).toMatchObject({ role: 'passive', writable: false, replicates_from: [a], replicates_to: [a] });
  const listed = (await env.api('GET', '/v1.0/proj-a/instances')).body.instances;
  expect(Object.fromEntries(listed.map((i: { id: string; role: string }) => [i.id, i.role]))).toMatchObject({ [a]: 'active', [b]: 'passive' });
  // Lag each way once the monitor has looked.
  await eventually('lag each way in show', async () => {
    const p = (await show(a)).pair;
    return p.replication.every((l: { seconds_behind: number | null; io_running: boolean | null }) => l.seconds_behind !== null && l.io_running === true) ? p : undefined;
  }, 30_000);
}, 300_000);

test('the passive side stays read-only for the application at every sampled moment, across its restart', async () => {
  let stop = false;
  let writes = 0;
  let samples = 0;
  const sampler = (async () => {
    for (let n = 50_000; !stop; n++) {
      samples++;
      if (await appCanWrite(b, n)) writes++;
      await sleep(30);
    }
  })();
  const op = await action(b, { restart: {} });
  await result(op.operation.id);
  await waitIdle(env, b);
  stop = true;
  await sampler;
  // Sampled through the restart: a sample waits up to 0.5 s on a server that is down, so a
  // quick restart on a loaded machine gives few (10 in one CI run).
  expect(samples).toBeGreaterThanOrEqual(5);
  expect(writes).toBe(0);
  // It did restart (a fresh server), and came up read-only in its own domain from my.cnf.
  const [st] = await admin<{ ro: number; d: number; s: number; up: string }>(b, "SELECT @@global.read_only AS ro, @@global.gtid_domain_id AS d, @@global.server_id AS s, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME') AS up");
  expect(Number(st!.up)).toBeLessThan(60);
  expect({ ro: st!.ro, d: st!.d }).toEqual({ ro: 1, d: st!.s });
  await eventually('b replicates from a again', async () => (await admin<{ Slave_IO_Running: string }>(b, 'SHOW SLAVE STATUS'))[0]?.Slave_IO_Running === 'Yes', 30_000);
}, 180_000);

let r: string;

test('a read replica hangs off the active side (replicas of the passive side are refused)', async () => {
  const refused = await env.api('POST', `/v1.0/proj-a/instances/${b}/action`, { replicate: { count: 1, instance: { availability_zone: 'az2' } } });
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toMatch(/is the passive side of a master-master pair: replicas of a pair hang off its active side/);
  const made = await action(a, { replicate: { count: 1, instance: { name: 'pr', availability_zone: 'az2' } } });
  r = made.replicas[0].id;
  await result(made.operation.id);
  await waitIdle(env, r);
  expect(await show(r)).toMatchObject({ role: 'replica', replica_of: { id: a } });
  expect((await admin<{ Master_Host: string }>(r, 'SHOW SLAVE STATUS'))[0]!.Master_Host).toBe(await ipOf(a));
}, 180_000);

test('bad input is refused with 400 naming the rule, and nothing changes', async () => {
  const before = await census();
  const cases: [string, unknown, RegExp][] = [
    [a, { create_pair: { nom: 'x' } }, /create_pair: Unrecognized key: "nom"/],
    [a, { create_pair: { name: '-bad name' } }, /create_pair.name: must match/],
    [a, { create_pair: {} }, /instance .* is already a side of the master-master pair/],
    [b, { create_pair: {} }, /already a side of the master-master pair/],
    [a, { switch_active: {} }, /is already the active side of its pair; switch to/],
    [b, { promote_to_replica_source: {} }, /is a master-master pair .*; switch its active side/],
    [b, { detach: {} }, /is a side of the master-master pair .*; break the pair first/],
    [r, { create_pair: {} }, /set .* already has a master-master pair .*; a set has at most one/],
    [r, { switch_active: {} }, /is not a side of a master-master pair/],
  ];
  for (const [id, body, message] of cases) {
    const res = await env.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
    expect({ body, status: res.status }).toEqual({ body, status: 400 });
    expect(res.body.badRequest.message).toMatch(message);
  }
  // The active side goes only after a switch (the passive side may be deleted: pairs-more.test.ts).
  const del = await env.api('DELETE', `/v1.0/proj-a/instances/${a}`);
  expect(del.status).toBe(409);
  expect(JSON.stringify(del.body)).toMatch(/is the active side of the master-master pair .*; switch the active side to .* first \(switch_active\)/);
  expect(await census()).toEqual(before);
  expect((await show(a)).pair.active.id).toBe(a);
  // (A source without an anti-affinity group is refused by the same rulebook: test/unit/rules.test.ts.)
}, 120_000);

test('switch the active side and back under a steady writer: no acknowledged write lost, never two writable sides, the write gap', async () => {
  const ips = { [a]: await ipOf(a), [b]: await ipOf(b) };
  const writer = new SteadyWriter(ips, { ...APP, database: 'shop' }, a, 100_000);
  let stop = false;
  let maxWritable = 0;
  let looks = 0;
  const watcher = (async () => {
    while (!stop) {
      const flags = await Promise.all([a, b].map(writable));
      maxWritable = Math.max(maxWritable, flags.filter(Boolean).length);
      looks++;
      await sleep(20);
    }
  })();
  writer.start();
  await sleep(1000);
  const gaps: number[] = [];
  for (const [to, from] of [[b, a], [a, b]] as const) {
    const t0 = Date.now();
    const op = await action(to, { switch_active: {} });
    const switched = await result(op.operation.id);
    expect(switched).toMatchObject({ activeId: to, formerActiveId: from });
    await eventually(`a write on ${to}`, async () => writer.firstAckOn((m) => m === to, t0), 10_000);
    await sleep(700);
    gaps.push(writer.longestGapMs(t0, Date.now()));
    expect((await show(to))).toMatchObject({ role: 'active', writable: true, pair: { active: { id: to }, passive: { id: from } } });
    // The read replica follows the active side.
    expect((await show(r)).replica_of.id).toBe(to);
    expect((await admin<{ Master_Host: string }>(r, 'SHOW SLAVE STATUS'))[0]!.Master_Host).toBe(ips[to]);
  }
  stop = true;
  await writer.stop();
  await watcher;
  console.log(`pair switchover write gaps: ${gaps.join(' ms, ')} ms; ${writer.acks.length} acknowledged writes; ${looks} looks at both sides`);

  expect(maxWritable).toBe(1);
  expect(writer.acks.filter((x) => x.member === b).length).toBeGreaterThan(0);
  // Every acknowledged write is on both sides.
  const acked = writer.acks.map((x) => x.id);
  for (const side of [a, b, r]) {
    await eventually(`every acknowledged write on ${side}`, async () => {
      const rows = await admin<{ id: number }>(side, 'SELECT id FROM shop.writes WHERE id >= 100000');
      const present = new Set(rows.map((x) => x.id));
      return acked.every((id) => present.has(id));
    }, 15_000);
  }
  for (const gap of gaps) expect(gap).toBeLessThan(1000);
}, 180_000);

test('the active side crashes under a writer with semi-sync: the monitor fails over inside the pair, no acknowledged write lost, never two writable sides', async () => {
  const s = await env.api('PATCH', `/v1.0/proj-a/instances/${a}/replication`, { replication: { semi_sync: true, auto_failover: true, failover_after: 1, acknowledge_failover: true } });
  expect(s.status).toBe(200);
  await eventually('semi-sync on the active side', async () => (await admin<{ Value: string }>(a, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'"))[0]?.Value === 'ON', 30_000);
  // Only the passive side acknowledges (it is the side that takes over); the read replica does not.
  await eventually('the passive side a semi-sync replica, the read replica not', async () => {
    const [pb] = await admin<{ Value: string }>(b, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'");
    const [pr] = await admin<{ Value: string }>(r, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_slave_enabled'");
    return pb?.Value === 'ON' && pr?.Value === 'OFF';
  }, 30_000);

  const writer = new SteadyWriter({ [a]: await ipOf(a), [b]: await ipOf(b) }, { ...APP, database: 'shop' }, a, 200_000);
  let stop = false;
  let maxWritable = 0;
  const watcher = (async () => {
    while (!stop) {
      const flags = await Promise.all([a, b].map(writable));
      maxWritable = Math.max(maxWritable, flags.filter(Boolean).length);
      await sleep(50);
    }
  })();
  writer.start();
  await sleep(1000);
  const crashAt = Date.now();
  const crashed = await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${(await rec(a)).novaServerId}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  expect(crashed.ok).toBe(true);
  const first = await eventually('the first write on the passive side', async () => writer.firstAckOn((m) => m === b, crashAt), 60_000);
  await sleep(500);
  stop = true;
  await writer.stop();
  await watcher;
  console.log(`pair failover: crash to first write on the other side ${first.at - crashAt} ms; ${writer.acks.length} acknowledged writes`);

  expect(maxWritable).toBe(1);
  const acked = writer.acks.map((x) => x.id);
  const rows = await admin<{ id: number }>(b, 'SELECT id FROM shop.writes WHERE id >= 200000');
  const present = new Set(rows.map((x) => x.id));
  expect(acked.filter((id) => !present.has(id))).toEqual([]);

  // The dead side left fenced; the other is the source, its replica follows it.
  await waitIdle(env, b);
  expect(await show(a)).toMatchObject({ status: 'ERROR', fault: { message: expect.stringMatching(/fenced by pair-failover-automatic-/) } });
  expect(await show(b)).toMatchObject({ role: 'source', writable: true });
  expect((await show(r)).replica_of.id).toBe(b);
  await eventually('every acknowledged write on the replica', async () => {
    const got = new Set((await admin<{ id: number }>(r, 'SELECT id FROM shop.writes WHERE id >= 200000')).map((x) => x.id));
    return acked.every((id) => got.has(id));
  }, 15_000);
}, 180_000);
