// Instance records as the API shows them: what was asked for, where it runs, its status
// and fault. Where it replicates from and to is read from the replication links.
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Locality } from '../lib/placement';
import type { NewInstance } from '../lib/records';
import { groupBy, inTransaction, type Db } from './db';

export type InstanceStatus = 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTDOWN';

export interface InstanceRecord {
  id: string;
  projectId: string;
  name: string;
  status: InstanceStatus;
  flavorId: string;
  volumeSize: number;
  availabilityZone: string | null;
  datastore: string;
  datastoreVersion: string;
  novaServerId: string | null;
  address: string | null;
  port: number | null;
  mysqlServerId: number | null;
  operationId: string | null;
  operationType: string | null;
  fault: string | null;
  /** When the fault was recorded (it changed last). */
  faultAt: Date | null;
  created: Date;
  updated: Date;
  replicationSetId: string | null;
  /** The member this one replicates from (its link), also while it is being built. */
  replicaOf: string | null;
  readOnly: boolean;
  /** Trove's locality: the policy of the Nova server group the instance's set shares. */
  locality: Locality | null;
  /** That server group (the founder's; replicas join it). */
  serverGroupId: string | null;
  /** A fenced former source: the member a failover put in its place (rebuildAsReplica rejoins its set). */
  replacedBy?: string | null;
  /** What its last rebuild as a replica found it had that the set lacked, before discarding it. */
  errantGtids?: ErrantReport | null;
  /** Ids of the instances replicating from this one. */
  replicas: string[];
  databases: string[];
  users: { name: string; host: string }[];
}

/** The errant transactions a rebuild discarded (lib/gtid.ts errantTransactions), kept for `show`. */
export interface ErrantReport {
  /** domain-server-seq ranges, e.g. 0-101-43..0-101-45. */
  gtids: string[];
  /** The former source's gtid_binlog_state and what the set's source had, when they were compared. */
  formerState: string;
  sourceState: string;
  sourceId: string;
  operationId: string;
  recorded: string;
}

export interface InstanceChange {
  status?: InstanceStatus;
  port?: number;
  fault?: string | null;
  novaServerId?: string;
  address?: string | null;
  name?: string;
  /** A resize's outcome: the flavor and volume size the instance now has. */
  flavorId?: string;
  volumeSize?: number;
  /** Where Nova placed the server (a request that named no zone learns it so). */
  availabilityZone?: string | null;
  serverGroupId?: string | null;
  replacedBy?: string | null;
  errantGtids?: ErrantReport | null;
}

const SELECT = `SELECT i.*, s.server_id AS mysql_server_id, l.source_id AS replica_of FROM instances i
  LEFT JOIN server_ids s ON s.instance_id = i.id LEFT JOIN replication_links l ON l.replica_id = i.id`;

/** JSON columns read back as text or as parsed values, by driver version. */
function parseJson<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toRecord(row: RowDataPacket, databases: string[], users: { name: string; host: string }[], replicas: string[]): InstanceRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    status: row.status,
    flavorId: row.flavor_id,
    volumeSize: row.volume_size,
    availabilityZone: row.availability_zone,
    datastore: row.datastore,
    datastoreVersion: row.datastore_version,
    novaServerId: row.nova_server_id,
    address: row.address,
    port: row.port,
    mysqlServerId: row.mysql_server_id === null ? null : Number(row.mysql_server_id),
    operationId: row.operation_id,
    operationType: row.operation_type,
    fault: row.fault,
    faultAt: row.fault_at ?? null,
    created: row.created,
    updated: row.updated,
    replicationSetId: row.replication_set_id,
    replicaOf: row.replica_of,
    readOnly: Boolean(row.read_only),
    locality: row.locality ?? null,
    serverGroupId: row.server_group_id ?? null,
    replacedBy: row.replaced_by ?? null,
    errantGtids: parseJson(row.errant_gtids),
    replicas,
    databases,
    users,
  };
}

export class InstanceStore {
  constructor(private readonly pool: Pool) {}

  /** Restores reading a backup now: instances created from it whose provisionInstance still holds them. */
  async restoresOf(backupId: string): Promise<{ instanceId: string; operationId: string }[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      "SELECT id, operation_id FROM instances WHERE restore_backup_id = ? AND operation_type = 'provisionInstance' AND operation_id IS NOT NULL ORDER BY created",
      [backupId],
    );
    return rows.map((r) => ({ instanceId: r.id, operationId: r.operation_id }));
  }

  /** Inserts the instance in BUILD holding the operation lock; a repeat is a no-op. */
  async insert(n: NewInstance): Promise<void> {
    await inTransaction(this.pool, async (conn) => {
      const [res] = await conn.query<ResultSetHeader>(
        `INSERT IGNORE INTO instances (id, project_id, name, status, flavor_id, volume_size, availability_zone, operation_id, operation_type, read_only, locality, server_group_id, restore_backup_id)
         VALUES (?, ?, ?, 'BUILD', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [n.id, n.projectId, n.name, n.flavorId, n.volumeSize, n.availabilityZone ?? null, n.operationId, n.operationType, n.readOnly ? 1 : 0, n.locality ?? null, n.serverGroupId ?? null, n.restoreBackupId ?? null],
      );
      if (res.affectedRows === 0) return;
      for (const db of n.databases) await conn.query('INSERT IGNORE INTO instance_databases (instance_id, name) VALUES (?, ?)', [n.id, db]);
      for (const u of n.users) await conn.query('INSERT IGNORE INTO instance_users (instance_id, name, host) VALUES (?, ?, ?)', [n.id, u.name, u.host]);
      if (n.replicaOf) await conn.query('INSERT IGNORE INTO replication_links (replica_id, source_id) VALUES (?, ?)', [n.id, n.replicaOf]);
    });
  }

  async get(id: string, db: Db = this.pool): Promise<InstanceRecord | undefined> {
    const [rows] = await db.query<RowDataPacket[]>(`${SELECT} WHERE i.id = ?`, [id]);
    return (await this.hydrate(rows, db))[0];
  }

  /** Project scoping lives here so no caller can forget it. */
  async getInProject(projectId: string, id: string): Promise<InstanceRecord | undefined> {
    const rec = await this.get(id);
    return rec && rec.projectId === projectId ? rec : undefined;
  }

  /** The instances of a project with this name (names need not be unique). */
  async findByName(projectId: string, name: string): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT} WHERE i.project_id = ? AND i.name = ?`, [projectId, name]);
    return this.hydrate(rows);
  }

  async list(projectId: string): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT} WHERE i.project_id = ? ORDER BY i.created, i.id`, [projectId]);
    return this.hydrate(rows);
  }

  /** Every instance of every project (the invariant checker sees the whole deployment). */
  async listAll(): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT} ORDER BY i.created, i.id`);
    return this.hydrate(rows);
  }

  async listSetMembers(setId: string, db: Db = this.pool): Promise<InstanceRecord[]> {
    return (await this.listMembersOfSets([setId], db)).get(setId) ?? [];
  }

  /** Many sets' members in one read (the watch's batch), each set's in listSetMembers' order. */
  async listMembersOfSets(setIds: string[], db: Db = this.pool): Promise<Map<string, InstanceRecord[]>> {
    const out = new Map<string, InstanceRecord[]>();
    if (setIds.length === 0) return out;
    const [rows] = await db.query<RowDataPacket[]>(`${SELECT} WHERE i.replication_set_id IN (?) ORDER BY l.source_id IS NOT NULL, i.created, i.id`, [setIds]);
    for (const r of await this.hydrate(rows, db)) {
      const list = out.get(r.replicationSetId!) ?? [];
      list.push(r);
      out.set(r.replicationSetId!, list);
    }
    return out;
  }

  async count(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances');
    return Number(rows[0]!.n);
  }

  private async hydrate(rows: RowDataPacket[], db: Db = this.pool): Promise<InstanceRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id as string);
    // Together, not one after another: a busy worker's event loop turns once per round trip.
    const [[dbs], [users], [down]] = await Promise.all([
      db.query<RowDataPacket[]>('SELECT instance_id, name FROM instance_databases WHERE instance_id IN (?) ORDER BY name', [ids]),
      db.query<RowDataPacket[]>('SELECT instance_id, name, host FROM instance_users WHERE instance_id IN (?) ORDER BY name', [ids]),
      db.query<RowDataPacket[]>('SELECT l.replica_id, l.source_id FROM replication_links l JOIN instances i ON i.id = l.replica_id WHERE l.source_id IN (?) ORDER BY i.created, i.id', [ids]),
    ]);
    const [dbsOf, usersOf, downOf] = [groupBy(dbs, 'instance_id'), groupBy(users, 'instance_id'), groupBy(down, 'source_id')];
    return rows.map((r) =>
      toRecord(
        r,
        (dbsOf.get(r.id) ?? []).map((d) => d.name as string),
        (usersOf.get(r.id) ?? []).map((u) => ({ name: u.name as string, host: u.host as string })),
        (downOf.get(r.id) ?? []).map((x) => x.replica_id as string),
      ),
    );
  }

  /** The same instance always gets the same server_id; a new one is never reused. */
  async allocateServerId(instanceId: string): Promise<number> {
    await this.pool.query('INSERT IGNORE INTO server_ids (instance_id) VALUES (?)', [instanceId]);
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT server_id FROM server_ids WHERE instance_id = ?', [instanceId]);
    return Number(rows[0]!.server_id);
  }

  async update(instanceId: string, c: InstanceChange, db: Db = this.pool): Promise<void> {
    const sets: [string, unknown[]][] = [];
    if (c.status !== undefined) sets.push(['status = ?', [c.status]]);
    if (c.port !== undefined) sets.push(['port = ?', [c.port]]);
    if (c.fault !== undefined) {
      // fault_at is assigned before fault, so it compares with the fault being replaced
      // (whether MariaDB assigns left to right or, in SIMULTANEOUS_ASSIGNMENT mode, all at once).
      sets.push(['fault_at = IF(fault <=> ?, fault_at, IF(? IS NULL, NULL, CURRENT_TIMESTAMP(3)))', [c.fault, c.fault]]);
      sets.push(['fault = ?', [c.fault]]);
    }
    if (c.novaServerId !== undefined) sets.push(['nova_server_id = ?', [c.novaServerId]]);
    if (c.address !== undefined) sets.push(['address = ?', [c.address]]);
    if (c.name !== undefined) sets.push(['name = ?', [c.name]]);
    if (c.flavorId !== undefined) sets.push(['flavor_id = ?', [c.flavorId]]);
    if (c.volumeSize !== undefined) sets.push(['volume_size = ?', [c.volumeSize]]);
    if (c.availabilityZone !== undefined) sets.push(['availability_zone = ?', [c.availabilityZone]]);
    if (c.serverGroupId !== undefined) sets.push(['server_group_id = ?', [c.serverGroupId]]);
    if (c.replacedBy !== undefined) sets.push(['replaced_by = ?', [c.replacedBy]]);
    if (c.errantGtids !== undefined) sets.push(['errant_gtids = ?', [c.errantGtids === null ? null : JSON.stringify(c.errantGtids)]]);
    if (sets.length === 0) return;
    await db.query(`UPDATE instances SET ${sets.map(([s]) => s).join(', ')} WHERE id = ?`, [...sets.flatMap(([, v]) => v), instanceId]);
  }

  /** Forgets the instance and everything recorded for it (links, account, health), at once. */
  async remove(instanceId: string): Promise<void> {
    await inTransaction(this.pool, async (conn) => {
      await conn.query('DELETE FROM replication_health WHERE instance_id = ?', [instanceId]);
      await conn.query('DELETE FROM replication_users WHERE replica_id = ?', [instanceId]);
      await conn.query('DELETE FROM replication_links WHERE replica_id = ?', [instanceId]);
      await conn.query('DELETE FROM instances WHERE id = ?', [instanceId]);
    });
  }

  /** Rows recorded ahead of a build that never started (the API inserts them early). */
  async removeUnbuilt(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [res] = await this.pool.query<ResultSetHeader>("DELETE FROM instances WHERE id IN (?) AND status = 'BUILD' AND nova_server_id IS NULL", [ids]);
    return res.affectedRows;
  }
}
