// Multi-zone disaster recovery on the real stack (issue 18, B1, B4, zone outage, monitoring):
// dr_profile on create puts the master in the profile's primary zone and its replica in the
// DR zone, with the profile's settings; bad DR requests are refused at once and create
// nothing; dr-enable adds the DR replica to a running instance that has data and a replica,
// under a steady writer (the longest write gap is measured); then the whole primary zone
// crashes under that writer with semi-sync and automatic failover on: the DR side takes
// over, no acknowledged write is lost, never two writable members; dr-disable removes the
// DR replica. The invariant checker's placement rules hold throughout.
import { createConnection, type Connection } from 'mysql2/promise';
import { SteadyWriter } from '../../bench/lib/writer';
import { checkInvariants } from '../helpers/invariants';
import { adminQuery } from '../helpers/mysql';
import { eventually, showInstance, sleep, useTestStack, waitIdle } from '../helpers/stack';
import { writableForApp } from '../../bench/lib/app-probes';
import { writableSampler, writableViolations } from '../helpers/writable';

const env = useTestStack();
const admin = { 'X-Auth-Token': 'tok-admin' };
const APP = { user: 'app', password: 'app-pass-9' };
const show = (id: string) => showInstance(env, id);
const rec = async (id: string) => (await env.registry!.instances.get(id))!;

async function novaZone(id: string): Promise<string | undefined> {
  return (await env.nova.getServer((await rec(id)).novaServerId!))?.['OS-EXT-AZ:availability_zone'];
}

async function census() {
  return { instances: await env.registry!.instances.count(), servers: (await env.nova.listServers()).length };
}

const writable = (ip: string) => writableForApp({ host: ip, ...APP, database: 'shop' }, 300);

function app(host: string, timeoutMs = 1000): Promise<Connection> {
  return createConnection({ host, port: 3306, ...APP, database: 'shop', connectTimeout: timeoutMs });
}

async function semiSyncStatus(id: string): Promise<{ source: boolean; replica: boolean }> {
  const rows = await adminQuery<{ Variable_name: string; Value: string }>(env.dataDir, (await rec(id)).novaServerId!, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_%_status'");
  const on = (name: string) => rows.find((r) => r.Variable_name === name)?.Value === 'ON';
  return { source: on('Rpl_semi_sync_master_status'), replica: on('Rpl_semi_sync_slave_status') };
}

/** A workflow's activities as "type start-end" in seconds after `since`: to say where time went. */
async function timeline(workflowId: string, since: number): Promise<string> {
  const { events } = await env.temporal.workflow.getHandle(workflowId).fetchHistory();
  const at = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const s = (ms: number) => ((ms - since) / 1000).toFixed(1);
  const started = new Map<string, { type: string; at: number }>();
  const out: string[] = [];
  for (const e of events ?? []) {
    if (e.activityTaskScheduledEventAttributes) started.set(String(e.eventId), { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: at(e) });
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    const a = done && started.get(String(done.scheduledEventId));
    if (a) out.push(`${a.type} ${s(a.at)}-${s(at(e))}`);
  }
  return out.join(', ');
}

const body = (name: string, extra: Record<string, unknown> = {}) => ({
  instance: { name, flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }], ...extra },
});

beforeAll(async () => {
  const p = await env.api(
    'POST',
    '/v1.0/admin/zone-profiles',
    { zone_profile: { name: 'dr-az1-az2', primary_zone: 'az1', dr_zones: ['az2'], locality: 'anti-affinity', semi_sync: true, auto_failover: true, auto_rebuild: true } },
    admin,
  );
  expect(p.status).toBe(201);
  // Valid when stored; Nova has since lost the zone (stored directly: the API would refuse it now).
  await env.registry!.profiles.insert({ name: 'gone-zone', primaryZone: 'az1', drZones: ['az9'], locality: null, semiSync: false, autoFailover: false });
});

describe('dr_profile on create', () => {
  let master: string;
  let replica: string;

  test('the master in the primary zone and, from one snapshot, its replica in the DR zone, with the profile\'s settings; show says the profile and where each member is', async () => {
    const res = await env.api('POST', '/v1.0/proj-a/instances', body('dr1', { dr_profile: 'dr-az1-az2' }));
    expect(res.status).toBe(202);
    expect(res.body.instance).toMatchObject({ availability_zone: 'az1', locality: 'anti-affinity', zone_profile: { name: 'dr-az1-az2' }, operation: { type: 'enableDr' } });
    master = res.body.instance.id;
    const result = await env.temporal.workflow.getHandle(res.body.instance.operation.id).result();
    expect(result).toMatchObject({ instanceId: master, profile: 'dr-az1-az2', primaryZone: 'az1', drZone: 'az2' });
    replica = result.replicaId;
    await waitIdle(env, master);
    await waitIdle(env, replica);

    const shown = await show(master);
    expect(shown.zone_profile).toMatchObject({ name: 'dr-az1-az2', primary_zone: 'az1', dr_zones: ['az2'] });
    const zones = Object.fromEntries(shown.topology.members.map((m: { id: string; availability_zone: string }) => [m.id, m.availability_zone]));
    expect(zones).toEqual({ [master]: 'az1', [replica]: 'az2' });
    expect([await novaZone(master), await novaZone(replica)]).toEqual(['az1', 'az2']);
    expect((await show(replica)).replica_of.id).toBe(master);
    // The profile's settings, and the one snapshot the replica came from (createReplicas, count 1).
    const settings = (await env.api('GET', `/v1.0/proj-a/instances/${master}/replication`)).body.replication;
    expect(settings).toMatchObject({ semi_sync: true, auto_failover: true });
    expect(result.replicationSetId).toBe((await rec(master)).replicationSetId);
    // Monitoring: each member's zone, and the lag of the DR replica across zones.
    const health = await eventually('health with zones', async () => {
      const h = (await show(master)).replication_health;
      return h?.length === 2 ? h : undefined;
    }, 30_000);
    expect(health.find((h: { id: string }) => h.id === replica)).toMatchObject({ availability_zone: 'az2', source_zone: 'az1', across_zones: true });
    expect(health.find((h: { id: string }) => h.id === master)).toMatchObject({ availability_zone: 'az1' });
    expect(await checkInvariants(env)).toEqual([]);
  });

  test('bad DR requests are refused at once naming the field, and nothing is created', async () => {
    const before = await census();
    const unknown = await env.api('POST', '/v1.0/proj-a/instances', body('dr-x', { dr_profile: 'no-such' }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.badRequest.message).toMatch(/instance\.dr_profile: zone profile "no-such" does not exist/);
    const gone = await env.api('POST', '/v1.0/proj-a/instances', body('dr-x', { dr_profile: 'gone-zone' }));
    expect(gone.status).toBe(400);
    expect(gone.body.badRequest.message).toMatch(/instance\.dr_profile: zone profile "gone-zone" names zone "az9", which does not exist \(zones: az1, az2, az3\)/);
    const asReplica = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'dr-x', replica_of: master, dr_profile: 'dr-az1-az2' } });
    expect(asReplica.status).toBe(400);
    expect(asReplica.body.badRequest.message).toMatch(/instance\.dr_profile: a replica cannot follow a zone profile/);
    const zone = await env.api('POST', '/v1.0/proj-a/instances', body('dr-x', { dr_profile: 'dr-az1-az2', availability_zone: 'az3' }));
    expect(zone.status).toBe(400);
    expect(zone.body.badRequest.message).toMatch(/instance\.availability_zone: zone profile "dr-az1-az2" puts the master in az1/);
    const onReplica = await env.api('POST', `/v1.0/proj-a/instances/${replica}/dr`, { dr: { profile: 'dr-az1-az2' } });
    expect(onReplica.status).toBe(400);
    expect(onReplica.body.badRequest.message).toMatch(/dr\.profile: instance dr1-dr \(.*\) is a replica of .*; DR is set up on the replication set's source/);
    const again = await env.api('POST', `/v1.0/proj-a/instances/${master}/dr`, { dr: { profile: 'dr-az1-az2' } });
    expect(again.status).toBe(400);
    expect(again.body.badRequest.message).toMatch(/already follows zone profile "dr-az1-az2"/);
    // A profile a set follows cannot be deleted.
    expect((await env.api('DELETE', '/v1.0/admin/zone-profiles/dr-az1-az2', undefined, admin)).status).toBe(409);
    expect(await census()).toEqual(before);
  });

  test('dr-disable deletes the DR replica; the set no longer follows the profile', async () => {
    const res = await env.api('DELETE', `/v1.0/proj-a/instances/${master}/dr`);
    expect(res.status).toBe(202);
    expect(res.body.dr).toMatchObject({ operation: expect.stringMatching(/^disable-dr-/), profile: 'dr-az1-az2', removed: [replica], semi_sync_kept: false });
    // Deletes first, the profile last: while the DR replica is still there, the set still follows it.
    expect((await show(master)).zone_profile).toMatchObject({ name: 'dr-az1-az2' });
    expect((await env.api('GET', `/v1.0/proj-a/instances/${replica}`)).status).toBe(200);
    expect(await env.temporal.workflow.getHandle(res.body.dr.operation).result()).toMatchObject({ removed: [replica], profile: 'dr-az1-az2' });
    expect((await env.api('GET', `/v1.0/proj-a/instances/${replica}`)).status).toBe(404);
    const shown = await waitIdle(env, master);
    expect(shown.zone_profile).toBeUndefined();
    expect((await env.api('DELETE', `/v1.0/proj-a/instances/${master}/dr`)).status).toBe(409);
    expect(await checkInvariants(env)).toEqual([]);
  });
});

describe('dr-enable on a running instance, then the primary zone crashes', () => {
  let src: string;
  let local: string;
  let dr: string;
  let writer: SteadyWriter;
  const members = () => [src, local, dr];

  test('dr-enable adds the DR replica to an instance with data and a replica, with no write outage', async () => {
    const created = await env.api('POST', '/v1.0/proj-a/instances', body('zsrc', { availability_zone: 'az1' }));
    expect(created.status).toBe(202);
    src = created.body.instance.id;
    await waitIdle(env, src);
    const c = await app((await rec(src)).address!);
    await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64))');
    await c.query('CREATE TABLE filler (id INT PRIMARY KEY, v VARCHAR(200))');
    await c.query('INSERT INTO filler VALUES ?', [Array.from({ length: 2000 }, (_, i) => [i + 1, 'x'.repeat(200)])]);
    await c.end();
    const rep = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'zlocal', replica_of: src } });
    expect(rep.status).toBe(202);
    await env.temporal.workflow.getHandle(rep.body.operation.id).result();
    local = rep.body.replicas[0].id;
    await waitIdle(env, local);
    expect(await novaZone(local)).toBe('az1');

    writer = new SteadyWriter({ [src]: (await rec(src)).address! }, { ...APP, database: 'shop' }, src, 1);
    writer.start();
    await sleep(1000);
    const from = Date.now();
    const res = await env.api('POST', `/v1.0/proj-a/instances/${src}/dr`, { dr: { profile: 'dr-az1-az2' } });
    expect(res.status).toBe(202);
    expect(res.body.dr).toMatchObject({ profile: 'dr-az1-az2', primary_zone: 'az1', dr_zone: 'az2', replica_id: expect.any(String) });
    dr = res.body.dr.replica_id;
    const result = await env.temporal.workflow.getHandle(res.body.dr.operation).result();
    expect(result).toMatchObject({ replicaId: dr, drZone: 'az2' });
    const to = Date.now();
    const gap = writer.longestGapMs(from, to);
    const during = writer.acks.filter((a) => a.at > from && a.at < to);
    const gapEnd = during.find((a, n) => n > 0 && a.at - during[n - 1]!.at === gap);
    console.log(`dr-enable under a steady writer: ${((to - from) / 1000).toFixed(1)} s, ${during.length} writes acknowledged, longest write gap ${gap} ms${gapEnd ? `, ending ${((gapEnd.at - from) / 1000).toFixed(1)} s in` : ''}`);
    // No outage: the snapshot is online (mariadb-backup); its short commit block is the gap.
    expect(gap).toBeLessThan(2000);
    for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'createReplicas' AND TroveInstance = '${src}'` })) {
      if (w.workflowId.includes('-dr-')) console.log(`dr-enable's createReplicas: ${await timeline(w.workflowId, from)}`);
    }

    await waitIdle(env, dr);
    expect(await novaZone(dr)).toBe('az2');
    const shown = await show(src);
    expect(shown.zone_profile).toMatchObject({ name: 'dr-az1-az2' });
    expect(shown.topology.members.map((m: { availability_zone: string }) => m.availability_zone).sort()).toEqual(['az1', 'az1', 'az2']);
    // Semi-sync: only the replica outside the source's zone acknowledges, so an acknowledged
    // write survives the loss of az1 with everything in it.
    await eventually('semi-sync roles', async () => {
      const [s, l, d] = await Promise.all(members().map(semiSyncStatus));
      return s!.source && !l!.replica && d!.replica;
    }, 30_000);
  }, 180_000);

  test('zone crash under a steady writer: the DR side takes writes, no acknowledged write lost, never two writable members', async () => {
    const set = await env.api('PATCH', `/v1.0/proj-a/instances/${src}/replication`, { replication: { failover_after: 1 } });
    expect(set.status).toBe(200);
    await writer.stop();
    const ips = Object.fromEntries(await Promise.all(members().map(async (m) => [m, (await rec(m)).address!] as const)));
    const zoneWriter = new SteadyWriter(ips, { ...APP, database: 'shop' }, src, 100_000);
    zoneWriter.start();
    let stop = false;
    let maxWritable = 0;
    let crashAt = Number.NaN;
    const watcher = (async () => {
      while (!stop) {
        const flags = await Promise.all(Object.values(ips).map(writable));
        if (flags.filter(Boolean).length > 1) console.log(`two writable at ${Date.now() - crashAt} ms after the crash: ${Object.keys(ips).filter((_, n) => flags[n]).join(', ')}`);
        maxWritable = Math.max(maxWritable, flags.filter(Boolean).length);
        await sleep(100);
      }
    })();
    await sleep(1500);
    crashAt = Date.now();
    const crash = await fetch(`${env.stack.env.NOVA_URL}/_faults/zones/az1/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
    expect(crash.status).toBe(202);
    // Every server of az1 (the first test's standalone master too), none of az2's.
    const crashed = ((await crash.json()) as { crashed: string[] }).crashed;
    expect(crashed).toEqual(expect.arrayContaining([(await rec(src)).novaServerId, (await rec(local)).novaServerId]));
    expect(crashed).not.toContain((await rec(dr)).novaServerId);
    const first = await eventually('the first write on the DR side', async () => zoneWriter.firstAckOn((m) => m === dr, crashAt), 60_000);
    // Long enough to see a stall after the first write (a semi-sync timeout is 10 s).
    await sleep(12_000);
    const end = Date.now();
    stop = true;
    await Promise.all([zoneWriter.stop(), watcher]);
    const after = zoneWriter.longestGapMs(first.at, end);
    console.log(`zone az1 crash to first write on the DR side (az2): ${first.at - crashAt} ms; then longest write gap ${after} ms; ${zoneWriter.acks.length} acknowledged writes`);
    // The new source does not wait for acks from the lost zone (no 10 s semi-sync timeout stall).
    expect(after).toBeLessThan(3000);
    expect(maxWritable).toBeLessThanOrEqual(1);

    const c = await app(ips[dr]!);
    const [rows] = await c.query('SELECT id FROM writes WHERE id >= 100000');
    await c.end();
    const present = new Set((rows as { id: number }[]).map((r) => r.id));
    expect(zoneWriter.acks.filter((a) => !present.has(a.id)).map((a) => a.id)).toEqual([]);

    // The failover: the DR replica is the source; the old source fenced; the az1 replica set aside as lost.
    const shown = await waitIdle(env, dr);
    expect(shown.replica_of).toBeUndefined();
    expect(shown.writable).toBe(true);
    expect((await show(src)).status).toBe('ERROR');
    const op = await eventually('the failover result', async () => {
      for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'ejectReplicaSource'` })) {
        if (w.status.name === 'COMPLETED') return env.temporal.workflow.getHandle(w.workflowId).result();
      }
      return undefined;
    }, 30_000);
    expect(op).toMatchObject({ newSourceId: dr, fencedInstanceId: src, excluded: { [local]: 'in lost zone az1' }, fencedReplicas: { [local]: expect.stringContaining('in lost zone az1') } });
    // The lost zone's replica is fenced too: out of the set, read-only, ERROR with its reason,
    // and its server off and locked, so the zone's return cannot bring it back replicating
    // from the fenced source.
    const lostReplica = await show(local);
    expect(lostReplica).toMatchObject({ status: 'ERROR', fault: { message: expect.stringContaining('in lost zone az1') } });
    expect(lostReplica.replica_of).toBeUndefined();
    expect((await show(dr)).replicas ?? []).not.toContainEqual(expect.objectContaining({ id: local }));
    const server = await env.nova.getServer((await rec(local)).novaServerId!);
    expect(server).toMatchObject({ status: 'SHUTOFF', locked: true });
    await expect(env.nova.action(server!.id, 'os-start')).rejects.toMatchObject({ status: 409 });
    expect((await rec(local)).readOnly).toBe(true);
    for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'ejectReplicaSource'` })) console.log(`eject after the zone crash (s after it, started ${((w.startTime.getTime() - crashAt) / 1000).toFixed(1)}): ${await timeline(w.workflowId, crashAt)}`);
    // The profile's auto_rebuild: the eject left a workflow waiting for az1.
    expect((op as { rebuildAfterZoneReturn?: string }).rebuildAfterZoneReturn).toBe(`rebuild-after-zone-return-${src}`);
  }, 180_000);

  test('auto_rebuild: once Nova reports az1 back, the fenced old master and the lost replica are rebuilt as replicas of the new master, unasked', async () => {
    const waiting = env.temporal.workflow.getHandle(`rebuild-after-zone-return-${src}`);
    expect((await waiting.describe()).status.name).toBe('RUNNING');
    // Still down: nothing is started, the servers stay off.
    expect(await env.nova.zoneAvailable('az1')).toBe(false);
    // The zone's members boot again to be rebuilt: none of them may be writable beside the new source.
    const stopSampler = writableSampler(env, async () => members(), 50);
    const backAt = Date.now();
    const recover = await fetch(`${env.stack.env.NOVA_URL}/_faults/zones/az1/recover`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
    expect(recover.status).toBe(202);
    const done = await Promise.race([waiting.result().then(() => true), sleep(120_000).then(() => false)]);
    if (!done) {
      const d = await waiting.describe();
      console.log(`rebuildAfterZoneReturn still ${d.status.name}: ${JSON.stringify(d.raw.pendingActivities ?? [])} ${JSON.stringify(d.raw.pendingChildren ?? [])}`);
      for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'rebuildAsReplica'` })) console.log(`${w.workflowId} ${w.status.name}: ${await timeline(w.workflowId, backAt)}`);
    }
    const result = (await waiting.result()) as { polls: number; rebuilt: { instanceId: string; sourceId: string; errantGtids: string[] }[]; failed: Record<string, string> };
    const writable = await stopSampler();
    expect(writableViolations(writable)).toEqual([]);
    console.log(`az1 back to both rebuilt: ${((Date.now() - backAt) / 1000).toFixed(1)} s (${result.polls} polls of Nova)`);
    expect(result.failed).toEqual({});
    expect(result.rebuilt.map((r) => [r.instanceId, r.sourceId])).toEqual([[src, dr], [local, dr]]);
    for (const id of [src, local]) {
      const shown = await waitIdle(env, id);
      expect(shown).toMatchObject({ status: 'ACTIVE', replica_of: { id: dr } });
      expect(shown.errant_gtids).toMatchObject({ source_id: dr });
      expect((await rec(id)).readOnly).toBe(true);
    }
    // The set the eject left dissolved (only the new master stayed); the one rebuilt follows the profile again.
    expect((await show(dr)).zone_profile).toMatchObject({ name: 'dr-az1-az2' });
    expect((await env.api('GET', `/v1.0/proj-a/instances/${dr}/replication`)).body.replication).toMatchObject({ semi_sync: true, auto_failover: true });
    // Writes on the new master reach both.
    const c = await app((await rec(dr)).address!);
    await c.query('INSERT INTO writes (id) VALUES (999999999)');
    await c.end();
    for (const id of [src, local]) {
      await eventually(`the write on ${id}`, async () => {
        const r = await app((await rec(id)).address!);
        const [rows] = await r.query('SELECT id FROM writes WHERE id = 999999999');
        await r.end();
        return (rows as unknown[]).length === 1;
      }, 30_000);
    }
  }, 180_000);
});
