// Master-master pairs, the rest of issue 19 on the real stack: a pair asked for at create
// (replication.mode master-master); a pair made from a source that already has a read
// replica, which follows the active side through a switch and a failover; the side a
// failover lost brought back as the passive side (errant GTIDs reported first, rebuilt from
// a fresh snapshot of the survivor, replication both ways in distinct GTID domains); deleting
// the passive side dissolves the pair (its replicas stay), deleting the active side is
// refused with 409; bad input refused with 4xx naming the rule, nothing changed.
import { pairMembers } from '../helpers/pair-members';
import { eventually, sleep, useTestStack, waitIdle } from '../helpers/stack';

const env = useTestStack();
const APP = { user: 'app', password: 'app-pass-9' };

const { show, action, result, census, rec, ipOf, admin, app, appCanWrite } = pairMembers(env, APP);

const instanceBody = (name: string, extra: Record<string, unknown> = {}) => ({
  instance: { name, flavorRef: '1', volume: { size: 1 }, availability_zone: 'az1', databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }], ...extra },
});

/** A member's replication as MariaDB reports it, for a failure's message. */
async function linkState(id: string) {
  const [st] = await admin<Record<string, unknown>>(id, 'SHOW SLAVE STATUS').catch((e: unknown): Record<string, unknown>[] => [{ error: String(e) }]);
  const [g] = await admin(id, 'SELECT @@global.gtid_binlog_state AS state, @@global.gtid_slave_pos AS slave, @@global.gtid_domain_id AS domain, @@global.server_id AS sid, @@global.read_only AS ro').catch((e: unknown) => [{ error: String(e) }]);
  const pick = ['Master_Host', 'Slave_IO_Running', 'Slave_SQL_Running', 'Last_IO_Error', 'Last_SQL_Error', 'Gtid_IO_Pos', 'Using_Gtid'];
  return { id: id.slice(0, 8), link: st ? Object.fromEntries(pick.map((k) => [k, st[k]])) : null, ...g };
}

/** Both sides replicate from each other, each in its own GTID domain, one writable. */
async function expectPair(active: string, passive: string, rejoined = false) {
  const [[da], [dp]] = await Promise.all([active, passive].map((id) => admin<{ d: number; s: number; ro: number }>(id, 'SELECT @@global.gtid_domain_id AS d, @@global.server_id AS s, @@global.read_only AS ro')));
  expect(da!.ro).toBe(0);
  if (!rejoined) expect(da!.d).toBe(da!.s);
  expect(dp!.ro).toBe(1);
  if (!rejoined) expect(dp!.d).toBe(dp!.s);
  expect(da!.d).not.toBe(dp!.d);
  for (const [side, from] of [[active, passive], [passive, active]] as const) {
    await eventually(`${side} replicates from ${from}`, async () => {
      const [st] = await admin<{ Master_Host: string; Slave_IO_Running: string; Slave_SQL_Running: string }>(side, 'SHOW SLAVE STATUS');
      return st?.Master_Host === (await ipOf(from)) && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
    }, 30_000);
  }
  expect(await show(active)).toMatchObject({ role: 'active', writable: true, pair: { active: { id: active }, passive: { id: passive } } });
  expect(await show(passive)).toMatchObject({ role: 'passive', writable: false });
}

test('a pair asked for at create: the instance, then its second master on another host of its zone; refused synchronously without anti-affinity', async () => {
  const before = await census();
  const refused = await env.api('POST', '/v1.0/proj-a/instances', instanceBody('no-group', { replication: { mode: 'master-master' } }));
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toMatch(/instance.locality: instance no-group has locality none; a pair's sides must be on different hosts/);
  const badMode = await env.api('POST', '/v1.0/proj-a/instances', instanceBody('bad-mode', { locality: 'anti-affinity', replication: { mode: 'ring' } }));
  expect(badMode.status).toBe(400);
  expect(badMode.body.badRequest.message).toMatch(/instance.replication.mode: can only be "master-master"/);
  expect(await census()).toEqual(before);

  const created = await env.api('POST', '/v1.0/proj-a/instances', instanceBody('ca', { locality: 'anti-affinity', replication: { mode: 'master-master', peer_name: 'cb' } }));
  expect(created.status).toBe(202);
  expect(created.body.instance.operation).toMatchObject({ type: 'createPair' });
  const a = created.body.instance.id;
  const made = (await result(created.body.instance.operation.id)) as { activeId: string; passiveId: string };
  expect(made.activeId).toBe(a);
  const b = made.passiveId;
  await waitIdle(env, a);
  await waitIdle(env, b);
  expect((await show(b)).name).toBe('cb');
  const [sa, sb] = await Promise.all([a, b].map(async (id) => (await env.nova.getServer((await rec(id)).novaServerId!))!));
  expect(sb!['OS-EXT-AZ:availability_zone']).toBe('az1');
  expect(sb!['OS-EXT-SRV-ATTR:host']).not.toBe(sa!['OS-EXT-SRV-ATTR:host']);
  await expectPair(a, b);
  // The create's accounts are on both sides (they came with the snapshot).
  const c = await app(a);
  await c.query('CREATE TABLE t (id INT PRIMARY KEY)');
  await c.end();
  await eventually('the table on the passive side', async () => (await admin<{ n: number }>(b, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 't'"))[0]!.n === 1, 10_000);
  // This pair's servers are not needed further: delete it (passive side first; the active one is then a standalone instance).
  const d1 = await env.api('DELETE', `/v1.0/proj-a/instances/${b}`);
  expect(d1.status).toBe(202);
  await eventually(`${b} deleted`, async () => !(await env.registry!.instances.get(b)), 120_000);
  await waitIdle(env, a);
  expect(await show(a)).toMatchObject({ role: 'standalone', writable: true });
  expect(await admin(a, 'SHOW SLAVE STATUS')).toEqual([]);
  expect((await env.api('DELETE', `/v1.0/proj-a/instances/${a}`)).status).toBe(202);
}, 400_000);

let s: string; // the source, first active side
let r: string; // its read replica, made before the pair
let p: string; // the pair's second side

test('a pair made from a source that already has a read replica: the replica follows the active side through a switch', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', instanceBody('ms', { locality: 'anti-affinity' }));
  expect(created.status).toBe(202);
  s = created.body.instance.id;
  await waitIdle(env, s);
  const c = await app(s);
  await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
  await c.query('CREATE TABLE probes (id INT PRIMARY KEY)');
  await c.query('INSERT INTO writes VALUES ?', [Array.from({ length: 100 }, (_, i) => [i + 1, `row ${i + 1}`])]);
  await c.end();
  const replicated = await action(s, { replicate: { count: 1, instance: { name: 'mr', availability_zone: 'az2' } } });
  r = replicated.replicas[0].id;
  await result(replicated.operation.id);
  await waitIdle(env, r);

  // Bad input first: a pair of a replica.
  const before = await census();
  const ofReplica = await env.api('POST', `/v1.0/proj-a/instances/${r}/action`, { create_pair: {} });
  expect(ofReplica.status).toBe(400);
  expect(ofReplica.body.badRequest.message).toMatch(new RegExp(`instance ${r} is a replica of ${s}; a pair is made from a source or a standalone instance`));
  expect(await census()).toEqual(before);

  const made = await action(s, { create_pair: { name: 'mp' } });
  p = made.instance.id;
  await result(made.operation.id);
  await waitIdle(env, p);
  await waitIdle(env, s);
  await expectPair(s, p);
  expect((await show(r)).replica_of.id).toBe(s);

  const switched = await action(p, { switch_active: {} });
  await result(switched.operation.id);
  await waitIdle(env, p);
  await expectPair(p, s);
  expect((await show(r)).replica_of.id).toBe(p);
  expect((await admin<{ Master_Host: string }>(r, 'SHOW SLAVE STATUS'))[0]!.Master_Host).toBe(await ipOf(p));
  const w = await app(p);
  await w.query('INSERT INTO writes VALUES (1001, "on p")');
  await w.end();
  for (const id of [r, s]) await eventually(`the write on ${id}`, async () => (await admin<{ n: number }>(id, 'SELECT COUNT(*) AS n FROM shop.writes WHERE id = 1001'))[0]!.n === 1, 10_000);

  // Bad input: a second pair on one instance, on either side, and a rejoin of a live side.
  for (const [id, body, message] of [
    [p, { create_pair: {} }, /already a side of the master-master pair/],
    [s, { create_pair: {} }, /already a side of the master-master pair/],
    [s, { rejoin_pair: {} }, /already a replica|is the source of replication set/],
    [r, { rejoin_pair: {} }, /already a replica/],
  ] as const) {
    const res = await env.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
    expect({ body, status: res.status }).toEqual({ body, status: 400 });
    expect(res.body.badRequest.message).toMatch(message);
  }
  expect(await census()).toEqual({ instances: before.instances + 1, servers: before.servers + 1 });
}, 400_000);

let errantRow = 0;
let oldDomainOfP = 0;

test('the active side dies: failover inside the pair, the replica follows the survivor', async () => {
  // An errant transaction: written on p while the links from it (s's and the read replica's) are stopped, then p dies.
  // (Had the replica received it, it could not follow s: failOverPair takes the passive side, not the most advanced member.)
  await Promise.all([admin(s, 'STOP SLAVE IO_THREAD'), admin(r, 'STOP SLAVE IO_THREAD')]);
  errantRow = 5005;
  const w = await app(p);
  await w.query('INSERT INTO writes VALUES (?, "errant")', [errantRow]);
  await w.end();
  const [[onP], [onS]] = await Promise.all([p, s].map((id) => admin<{ state: string; slave: string }>(id, 'SELECT @@global.gtid_binlog_state AS state, @@global.gtid_slave_pos AS slave')));
  console.log(`before the crash: p ${JSON.stringify(onP)}; s ${JSON.stringify(onS)}`);
  oldDomainOfP = (await admin<{ d: number }>(p, 'SELECT @@global.gtid_domain_id AS d'))[0]!.d;
  const crashed = await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${(await rec(p)).novaServerId}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  expect(crashed.ok).toBe(true);
  const op = await action(p, { eject_replica_source: { force: true } });
  expect(op.operation.type).toBe('failOverPair');
  expect(await result(op.operation.id)).toMatchObject({ activeId: s, fencedInstanceId: p });
  await waitIdle(env, s);
  expect(await show(s)).toMatchObject({ role: 'source', writable: true });
  expect(await show(p)).toMatchObject({ status: 'ERROR' });
  expect((await show(r)).replica_of.id).toBe(s);
  expect((await admin<{ Master_Host: string }>(r, 'SHOW SLAVE STATUS'))[0]!.Master_Host).toBe(await ipOf(s));
  expect((await admin<{ n: number }>(s, `SELECT COUNT(*) AS n FROM shop.writes WHERE id = ${errantRow}`))[0]!.n).toBe(0);
}, 300_000);

test('the lost side comes back as the passive side: errant GTIDs reported first, rebuilt from the survivor, replication both ways, never writable once paired', async () => {
  const before = await census();
  const op = await action(p, { rejoin_pair: {} });
  expect(op.operation.type).toBe('rebuildAsReplica');
  // Sample the application's writes on p until the rejoin ends (counted apart before and after the pair is made).
  let done = false;
  const writes: { at: number; phase: string | undefined }[] = [];
  const sampler = (async () => {
    for (let n = 70_000; !done; n++) {
      if (await appCanWrite(p, n)) writes.push({ at: Date.now(), phase: (await show(p).catch(() => undefined))?.role });
      await sleep(30);
    }
  })();
  const rejoined = (await result(op.operation.id)) as { errantGtids: string[]; pair: { activeId: string; passiveId: string; gtidDomains: Record<string, number> } };
  done = true;
  await sampler;
  console.log(`rejoin: errant GTIDs ${JSON.stringify(rejoined.errantGtids)}; app writes accepted on the lost side during the rejoin: ${JSON.stringify(writes)}`);
  expect(rejoined.errantGtids.length).toBeGreaterThan(0);
  expect(rejoined.pair).toMatchObject({ activeId: s, passiveId: p });
  expect(rejoined.pair.gtidDomains[s]).not.toBe(rejoined.pair.gtidDomains[p]);
  // A fresh domain: not the one its discarded errant GTIDs were in.
  expect(rejoined.pair.gtidDomains[p]).not.toBe(oldDomainOfP);
  expect((await admin<{ d: number }>(p, 'SELECT @@global.gtid_domain_id AS d'))[0]!.d).toBe(rejoined.pair.gtidDomains[p]);
  // Reported on the instance too, before it was discarded.
  expect((await show(p)).errant_gtids).toMatchObject({ gtids: rejoined.errantGtids });
  // Never writable while it was the passive side.
  expect(writes.filter((x) => x.phase === 'passive')).toEqual([]);
  await waitIdle(env, p);
  await expectPair(s, p, true);
  // The errant row is gone (its data is the survivor's); new writes go both ways through the pair, and reach the replica.
  expect((await admin<{ n: number }>(p, `SELECT COUNT(*) AS n FROM shop.writes WHERE id = ${errantRow}`))[0]!.n).toBe(0);
  const w = await app(s);
  await w.query('INSERT INTO writes VALUES (2002, "after the rejoin")');
  await w.end();
  for (const [id, what] of [[p, 'the rejoined side'], [r, 'the read replica']] as const) {
    await eventually(`the write on ${what}`, async () => (await admin<{ n: number }>(id, 'SELECT COUNT(*) AS n FROM shop.writes WHERE id = 2002'))[0]!.n === 1, 15_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}; ${JSON.stringify(await Promise.all([s, p, r].map(linkState)))}`);
    });
  }
  expect(await appCanWrite(p, 1)).toBe(false);
  expect((await show(r)).replica_of.id).toBe(s);
  expect(await census()).toEqual(before);

  // And a switch works on the rejoined pair: the replica follows.
  const switched = await action(p, { switch_active: {} });
  await result(switched.operation.id);
  await waitIdle(env, p);
  await expectPair(p, s, true);
  expect((await show(r)).replica_of.id).toBe(p);
}, 400_000);

test('delete a side directly: the active side is refused (409, switch first), the passive side goes and the pair dissolves, its replicas stay', async () => {
  // p is active now, s passive.
  const before = await census();
  const refused = await env.api('DELETE', `/v1.0/proj-a/instances/${p}`);
  expect(refused.status).toBe(409);
  expect(JSON.stringify(refused.body)).toMatch(new RegExp(`instance ${p} is the active side of the master-master pair .*; switch the active side to ${s} first \\(switch_active\\), then delete ${p}`));
  expect(await census()).toEqual(before);
  expect((await show(p)).role).toBe('active');

  const del = await env.api('DELETE', `/v1.0/proj-a/instances/${s}`);
  expect(del.status).toBe(202);
  await eventually(`${s} deleted`, async () => !(await env.registry!.instances.get(s)), 120_000);
  await waitIdle(env, p);
  expect(await show(p)).toMatchObject({ role: 'source', writable: true, replicates_to: [r] });
  expect((await show(p)).pair).toBeUndefined();
  expect(await admin(p, 'SHOW SLAVE STATUS')).toEqual([]);
  expect((await show(r)).replica_of.id).toBe(p);
  const w = await app(p);
  await w.query('INSERT INTO writes VALUES (3003, "after the delete")');
  await w.end();
  await eventually('the write on the replica', async () => (await admin<{ n: number }>(r, 'SELECT COUNT(*) AS n FROM shop.writes WHERE id = 3003'))[0]!.n === 1, 15_000);
}, 300_000);
