// The invariants every operation must leave true, checked against the real stack: no
// orphan (Nova server, process, disk folder, snapshot in the folder or Swift but a kept
// backup's, backup without its snapshot, replication account); the registry
// agrees with Nova and with each MariaDB; every member of a set holds the same data; at
// most one member of a set takes writes; a master-master pair's passive side is read-only,
// replicates both ways with the active side, and read replicas follow the active side.
// Returns the violations (empty when all hold).
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { SwiftClient } from '../../activities/snapshots/swift-client';
import { SEGMENTS_SUFFIX } from '../../activities/snapshots/swift-layout';
import { replicationUserName } from '../../lib/names';
import { stillToApply } from '../../lib/gtid';
import { sourceOf, upstreamOf, validateTopology, type Topology } from '../../lib/topology';
import type { NovaServer } from '../../lib/nova-client';
import type { InstanceRecord } from '../../registry';
import { containerName } from '../../nova/drivers/docker';
import { dockerLeftovers, serverFolders, serverProcesses } from './leftovers';
import { adminQuery } from './mysql';
import type { TestStack } from './stack';

interface SlaveRow {
  Master_Host: string;
  Slave_IO_Running: string;
  Slave_SQL_Running: string;
}

async function userTables(dataDir: string, novaServerId: string): Promise<string[]> {
  const rows = await adminQuery<{ t: string }>(
    dataDir,
    novaServerId,
    "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema') ORDER BY 1",
  );
  return rows.map((r) => r.t);
}

/**
 * Snapshots still in the store, and deleted ones the store has not freed (as ".trash/<id>"):
 * deleting is a rename and freeing happens in the background, so the trash gets 10 s.
 */
export async function snapshotsLeft(dataDir: string): Promise<string[]> {
  const dir = path.join(dataDir, 'snapshots');
  const trash = path.join(dir, '.trash');
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  for (let i = 0; i < 100 && list(trash).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return [...list(dir).filter((f) => f !== '.trash'), ...list(trash).map((f) => `.trash/${f}`)];
}

/**
 * Every object left in the Swift store's containers (data and segments) of a stack that runs
 * TROVE_SNAPSHOT_STORE=swift, as "container/name"; none for a folder store. An operation
 * deletes its snapshot after it releases its instances, one object after another, so a
 * delete under way gets 10 s (as the folder store's trash does).
 */
export async function swiftObjectsLeft(stackEnv: Record<string, string | undefined>, o: { waitMs?: number } = {}): Promise<string[]> {
  if (stackEnv.TROVE_SNAPSHOT_STORE !== 'swift') return [];
  const client = new SwiftClient({ authUrl: stackEnv.SWIFT_AUTH_URL!, user: stackEnv.SWIFT_USER!, key: stackEnv.SWIFT_KEY! });
  const container = stackEnv.SWIFT_CONTAINER ?? 'trove-snapshots';
  const list = async () => {
    const left: string[] = [];
    for (const c of [container, `${container}${SEGMENTS_SUFFIX}`]) for (const name of await client.list(c, '')) left.push(`${c}/${name}`);
    return left;
  };
  let left = await list();
  for (const deadline = Date.now() + (o.waitMs ?? 10_000); left.length > 0 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 100));
    left = await list();
  }
  return left;
}

async function checksumsOf(dataDir: string, novaServerId: string, tables: string[]): Promise<string> {
  if (tables.length === 0) return '';
  const rows = await adminQuery<{ Table: string; Checksum: string | number }>(dataDir, novaServerId, `CHECKSUM TABLE ${tables.join(', ')}`);
  return rows.map((r) => `${r.Table}=${r.Checksum}`).join(' ');
}

export async function checkInvariants(env: TestStack, opts: { catchUpMs?: number } = {}): Promise<string[]> {
  const v: string[] = [];
  const instances = await env.registry!.instances.listAll();
  const servers = await env.nova.listServers();
  const byServer = new Map(instances.filter((i) => i.novaServerId).map((i) => [i.novaServerId!, i]));

  // No orphans, and the registry agrees with Nova.
  for (const s of servers) {
    const inst = byServer.get(s.id);
    if (!inst) v.push(`orphan Nova server ${s.id} (${s.name})`);
    else if (inst.status === 'ACTIVE' && s.status !== 'ACTIVE') v.push(`instance ${inst.id} is ACTIVE but its server is ${s.status}`);
  }
  for (const i of instances) {
    if (i.novaServerId && !servers.some((s) => s.id === i.novaServerId)) v.push(`instance ${i.id} names server ${i.novaServerId}, which Nova does not have`);
    if (i.status === 'BUILD') v.push(`instance ${i.id} is still BUILD`);
    if (i.operationId) v.push(`instance ${i.id} still holds the lock of ${i.operationId}`);
  }
  v.push(...(await placementViolations(env, instances, servers)));
  const serverIds = new Set(servers.map((s) => s.id));
  for (const f of serverFolders(env.dataDir)) if (!serverIds.has(f)) v.push(`orphan disk folder servers/${f}`);
  for (const p of serverProcesses(env.dataDir)) {
    const status = servers.find((s) => s.id === p.serverId)?.status;
    if (status !== 'ACTIVE' && status !== 'BUILD') v.push(`orphan process ${p.pid} of server ${p.serverId} (${status ?? 'not in Nova'}): ${p.cmd.slice(0, 100)}`);
  }
  // The docker driver's servers: a container or volume is its server's, or an orphan.
  const docker = dockerLeftovers(env.stack.env.NOVA_DRIVER === 'docker' ? env.stack.env.NOVA_DOCKER_NETWORK : undefined);
  const names = new Set(servers.map((s) => containerName(s.id)));
  for (const c of docker.containers) if (!names.has(c)) v.push(`orphan container ${c}`);
  for (const vol of docker.volumes) if (!names.has(vol)) v.push(`orphan volume ${vol}`);
  // A COMPLETED backup keeps its snapshot (under the backup's id) until it is deleted; any
  // other snapshot is left behind, and a COMPLETED backup without its snapshot is orphaned.
  const backups = await env.registry!.backups.listAll();
  const kept = new Set(backups.filter((b) => b.status === 'COMPLETED').map((b) => b.id));
  const left = await snapshotsLeft(env.dataDir);
  for (const s of left) if (!kept.has(s)) v.push(`snapshot left behind: ${s}${backups.some((b) => b.id === s) ? ' (its backup is not COMPLETED)' : ''}`);
  const inSwift = env.stack.env.TROVE_SNAPSHOT_STORE === 'swift';
  for (const id of inSwift ? [] : kept) {
    if (!left.includes(id) || !existsSync(path.join(env.dataDir, 'snapshots', id, 'meta.json'))) v.push(`backup ${id} is COMPLETED but its snapshot is not in the store`);
  }
  for (const b of backups) if (b.status === 'NEW' || b.status === 'BUILDING') v.push(`backup ${b.id} is still ${b.status}`);
  for (const s of await swiftObjectsLeft(env.stack.env)) if (![...kept].some((id) => s.includes(id))) v.push(`snapshot left behind in Swift: ${s}`);

  // Each replication set: one writable source, replicas following it, same data, one account each.
  const sets = new Map<string, InstanceRecord[]>();
  for (const i of instances) if (i.replicationSetId) sets.set(i.replicationSetId, [...(sets.get(i.replicationSetId) ?? []), i]);
  const [setLocks] = await env.registry!.pool.query('SELECT id, operation_id FROM replication_sets WHERE operation_id IS NOT NULL');
  for (const l of setLocks as { id: string; operation_id: string }[]) v.push(`replication set ${l.id} still locked by ${l.operation_id}`);

  for (const [setId, members] of sets) {
    // Read through the topology model, as every other reader of a set does.
    const t = await env.registry!.sets.topology(setId);
    const problems = t ? validateTopology(t) : [`set ${setId} has members but no record`];
    if (problems.length) {
      v.push(`set ${setId}: ${problems.join('; ')}`);
      continue;
    }
    const source = members.find((m) => m.id === sourceOf(t!))!;
    const replicas = members.filter((m) => upstreamOf(t!, m.id) === source.id);
    const writable: string[] = [];
    for (const m of members) {
      const [ro] = await adminQuery<{ ro: number }>(env.dataDir, m.novaServerId!, 'SELECT @@global.read_only AS ro').catch(() => [undefined]);
      if (ro && ro.ro === 0) writable.push(m.id);
    }
    if (writable.length > 1) v.push(`set ${setId}: ${writable.length} writable members (${writable.join(', ')})`);
    if (!writable.includes(source.id)) v.push(`set ${setId}: the source ${source.id} does not take writes`);
    v.push(...(await pairViolations(env, setId, t!, members, writable)));

    // Replicas run and have caught up, then the data must be the same everywhere.
    const deadline = Date.now() + (opts.catchUpMs ?? 20_000);
    // With semi-sync AFTER_SYNC, a write waiting for its acknowledgement is in the source's
    // binlog (and may be on a replica already) before the source commits it: its checksum
    // lags until the ack or the semi-sync timeout. A replica whose IO thread restarted (a
    // semi-sync role set after a switch) never acks what it got before: the writer's last
    // write then waits out the timeout (pair chaos, 2026-12-03).
    await semiSyncSettled(env.dataDir, source.novaServerId!, deadline);
    const [pos] = await adminQuery<{ p: string }>(env.dataDir, source.novaServerId!, 'SELECT @@global.gtid_binlog_pos AS p');
    for (const r of replicas) {
      const [st] = await adminQuery<SlaveRow>(env.dataDir, r.novaServerId!, 'SHOW SLAVE STATUS');
      if (!st || st.Master_Host !== source.address) {
        v.push(`replica ${r.id} replicates from ${st?.Master_Host ?? 'nothing'}, not ${source.address}`);
        continue;
      }
      // A pair's passive side never applies its own writes back: only what it lacks is waited for.
      const target = t!.coMasters?.includes(r.id) ? stillToApply(pos!.p, await binlogPos(env.dataDir, r.novaServerId!)) : pos!.p;
      if (!(await caughtUpTo(env.dataDir, r.novaServerId!, target, deadline))) v.push(`replica ${r.id} did not reach ${pos!.p}`);
      if (st.Slave_IO_Running !== 'Yes' || st.Slave_SQL_Running !== 'Yes') {
        const [again] = await adminQuery<SlaveRow>(env.dataDir, r.novaServerId!, 'SHOW SLAVE STATUS');
        if (again?.Slave_IO_Running !== 'Yes' || again?.Slave_SQL_Running !== 'Yes') v.push(`replica ${r.id}: IO ${again?.Slave_IO_Running}, SQL ${again?.Slave_SQL_Running}`);
      }
    }
    const tables = await userTables(env.dataDir, source.novaServerId!);
    const expected = await checksumsOf(env.dataDir, source.novaServerId!, tables);
    for (const r of replicas) {
      const got = await checksumsOf(env.dataDir, r.novaServerId!, tables).catch((e: Error) => `error: ${e.message}`);
      if (got !== expected) v.push(`replica ${r.id}: CHECKSUM TABLE differs from the source (${got} vs ${expected})`);
    }
    const accounts = (await adminQuery<{ User: string }>(env.dataDir, source.novaServerId!, "SELECT User FROM mysql.user WHERE User LIKE 'repl\\_%'")).map((r) => r.User).sort();
    const wanted = replicas.map((r) => replicationUserName(r.id)).sort();
    if (accounts.join() !== wanted.join()) v.push(`set ${setId}: replication accounts on the source are [${accounts}], expected [${wanted}]`);
    for (const a of accounts) {
      const grants = (await adminQuery<Record<string, string>>(env.dataDir, source.novaServerId!, `SHOW GRANTS FOR '${a}'@'%'`)).map((g) => Object.values(g)[0]!);
      if (grants.length !== 1 || !/^GRANT REPLICATION SLAVE ON \*\.\* TO `repl_[0-9a-f]+`@`%` IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'$/.test(grants[0]!)) {
        v.push(`account ${a} has more than REPLICATION SLAVE: ${grants.join(' / ')}`);
      }
    }
  }
  // Members outside any set hold no replication account and do not replicate.
  for (const i of instances.filter((x) => !x.replicationSetId && x.status === 'ACTIVE')) {
    const [st] = await adminQuery<SlaveRow>(env.dataDir, i.novaServerId!, 'SHOW SLAVE STATUS');
    if (st) v.push(`standalone instance ${i.id} still replicates from ${st.Master_Host}`);
  }
  const creds = await env.registry!.accounts.count();
  const replicaCount = instances.filter((i) => i.replicaOf).length;
  if (creds !== replicaCount) v.push(`registry holds ${creds} replication accounts for ${replicaCount} replicas`);
  return v;
}

async function binlogPos(dataDir: string, novaServerId: string): Promise<string> {
  const [row] = await adminQuery<{ p: string }>(dataDir, novaServerId, 'SELECT @@global.gtid_binlog_pos AS p');
  return row!.p;
}

/** Until no session of the source waits for a semi-sync acknowledgement, or the deadline. */
async function semiSyncSettled(dataDir: string, novaServerId: string, deadline: number): Promise<void> {
  for (;;) {
    const [row] = await adminQuery<{ Value: string }>(dataDir, novaServerId, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_wait_sessions'");
    if (!row || row.Value === '0' || Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether the server applies `target` (MASTER_GTID_WAIT) before the deadline. */
async function caughtUpTo(dataDir: string, novaServerId: string, target: string, deadline: number): Promise<boolean> {
  do {
    const [w] = await adminQuery<{ r: number }>(dataDir, novaServerId, 'SELECT MASTER_GTID_WAIT(?, 1) AS r', [target]);
    if (w!.r === 0) return true;
  } while (Date.now() < deadline);
  return false;
}

/**
 * A master-master pair (issue 19): at most one side writable (the set's check) and the
 * passive side read-only; while both sides run, replication both ways (the active side
 * follows the passive one too, and has applied what the passive side wrote as active
 * before); the passive side holds the reverse account; read replicas follow the active side.
 */
async function pairViolations(env: TestStack, setId: string, t: Topology, members: InstanceRecord[], writable: string[]): Promise<string[]> {
  if (!t.coMasters) return [];
  const v: string[] = [];
  const activeId = sourceOf(t);
  const passiveId = t.coMasters.find((id) => id !== activeId);
  const active = members.find((m) => m.id === activeId);
  const passive = members.find((m) => m.id === passiveId);
  if (!active || !passive) return [`pair ${setId}: sides ${t.coMasters.join(', ')}, active ${activeId ?? 'none'}: a side is not a member`];
  if (writable.includes(passive.id)) v.push(`pair ${setId}: the passive side ${passive.id} takes writes`);
  for (const m of members) {
    if (m.id !== active.id && upstreamOf(t, m.id) === passive.id) v.push(`pair ${setId}: replica ${m.id} follows the passive side ${passive.id}, not the active ${active.id}`);
  }
  if (active.status !== 'ACTIVE' || passive.status !== 'ACTIVE') return v;
  const [back] = await adminQuery<SlaveRow>(env.dataDir, active.novaServerId!, 'SHOW SLAVE STATUS');
  if (!back || back.Master_Host !== passive.address) v.push(`pair ${setId}: the active side ${active.id} replicates from ${back?.Master_Host ?? 'nothing'}, not the passive side ${passive.address}`);
  else if (back.Slave_IO_Running !== 'Yes' || back.Slave_SQL_Running !== 'Yes') {
    const [again] = await adminQuery<SlaveRow>(env.dataDir, active.novaServerId!, 'SHOW SLAVE STATUS');
    if (again?.Slave_IO_Running !== 'Yes' || again?.Slave_SQL_Running !== 'Yes') v.push(`pair ${setId}: the reverse link on ${active.id}: IO ${again?.Slave_IO_Running}, SQL ${again?.Slave_SQL_Running}`);
  }
  const fromPassive = stillToApply(await binlogPos(env.dataDir, passive.novaServerId!), await binlogPos(env.dataDir, active.novaServerId!));
  if (fromPassive && !(await caughtUpTo(env.dataDir, active.novaServerId!, fromPassive, Date.now() + 20_000))) v.push(`pair ${setId}: the active side ${active.id} did not apply ${fromPassive} from the passive side`);
  const reverse = (await adminQuery<{ User: string }>(env.dataDir, passive.novaServerId!, "SELECT User FROM mysql.user WHERE User LIKE 'repl\\_%'")).map((r) => r.User);
  if (!reverse.includes(replicationUserName(active.id))) v.push(`pair ${setId}: the passive side ${passive.id} lacks the reverse account ${replicationUserName(active.id)} (has [${reverse}])`);
  return v;
}

/**
 * Placement (issue 18): the registry's zones agree with Nova's; no anti-affinity group has two
 * members on one host; a set following a zone profile (DR) keeps a member outside its
 * source's zone, or it would not survive that zone's loss.
 */
async function placementViolations(env: TestStack, instances: InstanceRecord[], servers: NovaServer[]): Promise<string[]> {
  const v: string[] = [];
  const byId = new Map(servers.map((s) => [s.id, s]));
  for (const i of instances) {
    const zone = i.novaServerId ? byId.get(i.novaServerId)?.['OS-EXT-AZ:availability_zone'] : undefined;
    if (i.availabilityZone && zone && zone !== i.availabilityZone) v.push(`instance ${i.id} is recorded in zone ${i.availabilityZone}, but Nova runs its server in ${zone}`);
  }
  for (const g of await env.nova.listServerGroups()) {
    if (g.policy !== 'anti-affinity') continue;
    const hosts = g.members.map((m) => byId.get(m)?.['OS-EXT-SRV-ATTR:host']).filter((h): h is string => Boolean(h));
    const shared = hosts.filter((h, n) => hosts.indexOf(h) !== n);
    if (shared.length) v.push(`anti-affinity group ${g.id}: host(s) ${[...new Set(shared)].join(', ')} run more than one member`);
  }
  const sets = [...new Set(instances.map((i) => i.replicationSetId).filter((s): s is string => Boolean(s)))];
  for (const setId of sets) {
    if (!(await env.registry!.health.getSettings(setId))?.zoneProfileId) continue;
    const t = await env.registry!.sets.topology(setId);
    if (!t) continue;
    const members = instances.filter((i) => i.replicationSetId === setId);
    const sourceZone = members.find((m) => m.id === sourceOf(t))?.availabilityZone;
    if (!members.some((m) => m.availabilityZone && m.availabilityZone !== sourceZone)) v.push(`DR set ${setId}: no member outside the source's zone ${sourceZone}`);
  }
  return v;
}
