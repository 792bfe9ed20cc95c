// Data access for the registry: the topology and instance records the API reads and the
// workflows' registry activities write. Every write is idempotent so an activity retried
// after a crash finds its own earlier effect instead of failing or duplicating it.
import { createPool, type Pool, type PoolConnection, type PoolOptions, type RowDataPacket } from 'mysql2/promise';
import type { MemberHealth, ReplicationSettings, SettingsPatch } from '../lib/schemas';

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
  created: Date;
  updated: Date;
  replicationSetId: string | null;
  replicaOf: string | null;
  readOnly: boolean;
  /** Ids of the instances replicating from this one. */
  replicas: string[];
  databases: string[];
  users: { name: string; host: string }[];
}

export interface NewInstance {
  id: string;
  projectId: string;
  name: string;
  flavorId: string;
  volumeSize: number;
  availabilityZone?: string;
  databases: string[];
  users: { name: string; host: string }[];
  operationId: string;
  operationType: string;
  replicaOf?: string;
  replicationSetId?: string;
  readOnly?: boolean;
}

export interface ReplicationUser {
  replicaId: string;
  sourceId: string;
  userName: string;
  sealedPassword: string;
}

type LockTable = 'instances' | 'replication_sets';

/** The record a provisioning spec describes, holding the lock of the operation creating it. */
export function newInstanceFromSpec(
  spec: { instanceId: string; projectId: string; name: string; flavorId: string; volumeSizeGb: number; availabilityZone?: string; databases: string[]; users: { name: string; host: string }[] },
  operationId: string,
): NewInstance {
  return {
    id: spec.instanceId,
    projectId: spec.projectId,
    name: spec.name,
    flavorId: spec.flavorId,
    volumeSize: spec.volumeSizeGb,
    availabilityZone: spec.availabilityZone,
    databases: spec.databases,
    users: spec.users.map((u) => ({ name: u.name, host: u.host })),
    operationId,
    operationType: 'provisionInstance',
  };
}

/** The record of a replica being built, holding the lock of its buildReplica workflow. */
export function newReplicaRecord(r: {
  replicaId: string;
  projectId: string;
  name: string;
  flavorId: string;
  volumeSizeGb: number;
  availabilityZone: string | null;
  sourceId: string;
  setId?: string;
  readOnly: boolean;
  operationId: string;
}): NewInstance {
  return {
    id: r.replicaId,
    projectId: r.projectId,
    name: r.name,
    flavorId: r.flavorId,
    volumeSize: r.volumeSizeGb,
    availabilityZone: r.availabilityZone ?? undefined,
    databases: [],
    users: [],
    operationId: r.operationId,
    operationType: 'buildReplica',
    replicaOf: r.sourceId,
    replicationSetId: r.setId,
    readOnly: r.readOnly,
  };
}

export type AcquireResult = { acquired: true } | { acquired: false; heldBy: string | null; type: string | null; missing?: boolean };

const SELECT_INSTANCE = `SELECT i.*, s.server_id AS mysql_server_id FROM instances i LEFT JOIN server_ids s ON s.instance_id = i.id`;

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
    created: row.created,
    updated: row.updated,
    replicationSetId: row.replication_set_id,
    replicaOf: row.replica_of,
    readOnly: Boolean(row.read_only),
    replicas,
    databases,
    users,
  };
}

export interface RegistryConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function createRegistryPool(c: RegistryConnection, extra: Partial<PoolOptions> = {}): Pool {
  return createPool({ ...c, connectionLimit: 8, timezone: 'Z', ...extra });
}

export class RegistryStore {
  constructor(readonly pool: Pool) {}

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Runs fn in one transaction on one connection: all of it, or none of it. */
  private async transaction<T>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const result = await fn(conn);
      await conn.commit();
      return result;
    } catch (e) {
      await conn.rollback();
      throw e;
    } finally {
      conn.release();
    }
  }

  /** Inserts the instance in BUILD holding the operation lock; a repeat is a no-op. */
  async insertInstance(n: NewInstance): Promise<void> {
    return this.transaction(async (conn) => {
      await conn.query(
        `INSERT IGNORE INTO instances (id, project_id, name, status, flavor_id, volume_size, availability_zone, operation_id, operation_type, replica_of, replication_set_id, read_only)
         VALUES (?, ?, ?, 'BUILD', ?, ?, ?, ?, ?, ?, ?, ?)`,
        [n.id, n.projectId, n.name, n.flavorId, n.volumeSize, n.availabilityZone ?? null, n.operationId, n.operationType, n.replicaOf ?? null, n.replicationSetId ?? null, n.readOnly ? 1 : 0],
      );
      for (const db of n.databases) await conn.query('INSERT IGNORE INTO instance_databases (instance_id, name) VALUES (?, ?)', [n.id, db]);
      for (const u of n.users) await conn.query('INSERT IGNORE INTO instance_users (instance_id, name, host) VALUES (?, ?, ?)', [n.id, u.name, u.host]);
    });
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT_INSTANCE} WHERE i.id = ?`, [id]);
    if (rows.length === 0) return undefined;
    return (await this.hydrate(rows))[0];
  }

  /** Project scoping lives here so no caller can forget it. */
  async getProjectInstance(projectId: string, id: string): Promise<InstanceRecord | undefined> {
    const rec = await this.getInstance(id);
    return rec && rec.projectId === projectId ? rec : undefined;
  }

  /** The instances of a project with this name (names need not be unique). */
  async findByName(projectId: string, name: string): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT_INSTANCE} WHERE i.project_id = ? AND i.name = ?`, [projectId, name]);
    return this.hydrate(rows);
  }

  async listInstances(projectId: string): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT_INSTANCE} WHERE i.project_id = ? ORDER BY i.created, i.id`, [projectId]);
    return this.hydrate(rows);
  }

  async listSetMembers(setId: string): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT_INSTANCE} WHERE i.replication_set_id = ? ORDER BY i.replica_of IS NOT NULL, i.created, i.id`, [setId]);
    return this.hydrate(rows);
  }

  async countInstances(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances');
    return Number(rows[0]!.n);
  }

  private async hydrate(rows: RowDataPacket[]): Promise<InstanceRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id as string);
    const [dbs] = await this.pool.query<RowDataPacket[]>('SELECT instance_id, name FROM instance_databases WHERE instance_id IN (?) ORDER BY name', [ids]);
    const [users] = await this.pool.query<RowDataPacket[]>('SELECT instance_id, name, host FROM instance_users WHERE instance_id IN (?) ORDER BY name', [ids]);
    const [replicas] = await this.pool.query<RowDataPacket[]>('SELECT id, replica_of FROM instances WHERE replica_of IN (?) ORDER BY created, id', [ids]);
    return rows.map((r) =>
      toRecord(
        r,
        dbs.filter((d) => d.instance_id === r.id).map((d) => d.name as string),
        users.filter((u) => u.instance_id === r.id).map((u) => ({ name: u.name as string, host: u.host as string })),
        replicas.filter((x) => x.replica_of === r.id).map((x) => x.id as string),
      ),
    );
  }

  /** The same instance always gets the same server_id; a new one is never reused. */
  async allocateServerId(instanceId: string): Promise<number> {
    await this.pool.query('INSERT IGNORE INTO server_ids (instance_id) VALUES (?)', [instanceId]);
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT server_id FROM server_ids WHERE instance_id = ?', [instanceId]);
    return Number(rows[0]!.server_id);
  }

  /** Takes the instance's operation lock, or says which operation holds it. Re-entrant. */
  async acquireOperation(instanceId: string, operationId: string, type: string): Promise<AcquireResult> {
    return this.acquire('instances', instanceId, operationId, type);
  }

  async releaseOperation(instanceId: string, operationId: string): Promise<void> {
    await this.release('instances', instanceId, operationId);
  }

  // Instances and replication sets carry the same lock columns; one implementation serves both.
  private async acquire(table: LockTable, id: string, operationId: string, type: string): Promise<AcquireResult> {
    const [res] = await this.pool.query<import('mysql2').ResultSetHeader>(
      `UPDATE ${table} SET operation_id = ?, operation_type = ? WHERE id = ? AND (operation_id IS NULL OR operation_id = ?)`,
      [operationId, type, id, operationId],
    );
    if (res.affectedRows > 0) return { acquired: true };
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT operation_id, operation_type FROM ${table} WHERE id = ?`, [id]);
    if (rows.length === 0) return { acquired: false, heldBy: null, type: null, missing: true };
    return { acquired: false, heldBy: rows[0]!.operation_id, type: rows[0]!.operation_type };
  }

  private async release(table: LockTable, id: string, operationId: string): Promise<void> {
    await this.pool.query(`UPDATE ${table} SET operation_id = NULL, operation_type = NULL WHERE id = ? AND operation_id = ?`, [id, operationId]);
  }

  async setServer(instanceId: string, novaServerId: string, address: string | null): Promise<void> {
    await this.pool.query('UPDATE instances SET nova_server_id = ?, address = ? WHERE id = ?', [novaServerId, address, instanceId]);
  }

  async setStatus(instanceId: string, status: InstanceStatus, extra: { port?: number; fault?: string | null } = {}): Promise<void> {
    const sets = ['status = ?'];
    const args: unknown[] = [status];
    if (extra.port !== undefined) {
      sets.push('port = ?');
      args.push(extra.port);
    }
    if (extra.fault !== undefined) {
      sets.push('fault = ?');
      args.push(extra.fault);
    }
    await this.pool.query(`UPDATE instances SET ${sets.join(', ')} WHERE id = ?`, [...args, instanceId]);
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.pool.query('DELETE FROM instances WHERE id = ?', [instanceId]);
  }

  /** The set of a source is named after the source that founded it; creating it twice is a no-op. */
  async ensureReplicationSet(sourceId: string, projectId: string): Promise<string> {
    return this.transaction(async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT replication_set_id FROM instances WHERE id = ? FOR UPDATE', [sourceId]);
      let setId = rows[0]?.replication_set_id as string | null;
      if (!setId) {
        setId = sourceId;
        await conn.query('INSERT IGNORE INTO replication_sets (id, project_id) VALUES (?, ?)', [setId, projectId]);
        await conn.query('UPDATE instances SET replication_set_id = ? WHERE id = ?', [setId, sourceId]);
      }
      return setId;
    });
  }

  async acquireSet(setId: string, operationId: string, type: string): Promise<AcquireResult> {
    return this.acquire('replication_sets', setId, operationId, type);
  }

  async releaseSet(setId: string, operationId: string): Promise<void> {
    await this.release('replication_sets', setId, operationId);
  }

  async getSetLock(setId: string): Promise<{ operationId: string | null; operationType: string | null } | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT operation_id, operation_type FROM replication_sets WHERE id = ?', [setId]);
    return rows[0] ? { operationId: rows[0].operation_id, operationType: rows[0].operation_type } : undefined;
  }

  async setMembership(instanceId: string, m: { replicaOf: string | null; replicationSetId: string | null; readOnly: boolean }): Promise<void> {
    await this.pool.query('UPDATE instances SET replica_of = ?, replication_set_id = ?, read_only = ? WHERE id = ?', [m.replicaOf, m.replicationSetId, m.readOnly ? 1 : 0, instanceId]);
  }

  /** Drops a set nobody belongs to any more (its source lost its last replica). */
  async dissolveSetIfAlone(setId: string): Promise<boolean> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances WHERE replication_set_id = ? AND replica_of IS NOT NULL', [setId]);
    if (Number(rows[0]!.n) > 0) return false;
    await this.pool.query('UPDATE instances SET replication_set_id = NULL WHERE replication_set_id = ?', [setId]);
    await this.pool.query('DELETE FROM replication_sets WHERE id = ? AND operation_id IS NULL', [setId]);
    return true;
  }

  async putReplicationUser(u: ReplicationUser): Promise<ReplicationUser> {
    await this.pool.query('INSERT IGNORE INTO replication_users (replica_id, source_id, user_name, sealed_password) VALUES (?, ?, ?, ?)', [u.replicaId, u.sourceId, u.userName, u.sealedPassword]);
    return (await this.getReplicationUser(u.replicaId))!;
  }

  async getReplicationUser(replicaId: string): Promise<ReplicationUser | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM replication_users WHERE replica_id = ?', [replicaId]);
    const r = rows[0];
    return r ? { replicaId: r.replica_id, sourceId: r.source_id, userName: r.user_name, sealedPassword: r.sealed_password } : undefined;
  }

  async deleteReplicationUser(replicaId: string): Promise<void> {
    await this.pool.query('DELETE FROM replication_users WHERE replica_id = ?', [replicaId]);
  }

  /** Rows recorded ahead of a build that never started (the API inserts them early). */
  async removeUnbuilt(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [res] = await this.pool.query<import('mysql2').ResultSetHeader>(
      "DELETE FROM instances WHERE id IN (?) AND status = 'BUILD' AND nova_server_id IS NULL",
      [ids],
    );
    return res.affectedRows;
  }

  async getSettings(setId: string): Promise<ReplicationSettings | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM replication_sets WHERE id = ?', [setId]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      autoFailover: Boolean(r.auto_failover),
      semiSync: Boolean(r.semi_sync),
      quietPeriodSeconds: r.quiet_period_s,
      failoverAfterSeconds: r.failover_after_s,
      lastFailoverAt: r.last_failover_at ? (r.last_failover_at as Date).toISOString() : null,
      lastFailoverOperation: r.last_failover_op,
      lastFailoverAcknowledged: Boolean(r.last_failover_acked),
    };
  }

  async updateSettings(setId: string, p: SettingsPatch): Promise<void> {
    const sets: string[] = [];
    const args: unknown[] = [];
    const put = (col: string, v: unknown) => {
      sets.push(`${col} = ?`);
      args.push(v);
    };
    if (p.autoFailover !== undefined) put('auto_failover', p.autoFailover ? 1 : 0);
    if (p.semiSync !== undefined) put('semi_sync', p.semiSync ? 1 : 0);
    if (p.quietPeriodSeconds !== undefined) put('quiet_period_s', p.quietPeriodSeconds);
    if (p.failoverAfterSeconds !== undefined) put('failover_after_s', p.failoverAfterSeconds);
    if (p.acknowledgeFailover) put('last_failover_acked', 1);
    if (sets.length) await this.pool.query(`UPDATE replication_sets SET ${sets.join(', ')} WHERE id = ?`, [...args, setId]);
  }

  async recordAutomaticFailover(setId: string, operationId: string, at: Date): Promise<void> {
    await this.pool.query('UPDATE replication_sets SET last_failover_at = ?, last_failover_op = ?, last_failover_acked = 0 WHERE id = ?', [at, operationId, setId]);
  }

  async storeHealth(setId: string, health: MemberHealth[]): Promise<void> {
    for (const h of health) {
      await this.pool.query(
        'INSERT INTO replication_health (instance_id, set_id, health, observed) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE set_id = VALUES(set_id), health = VALUES(health), observed = VALUES(observed)',
        [h.instanceId, setId, JSON.stringify(h), new Date(h.observedAt)],
      );
    }
  }

  async getHealth(setId: string): Promise<MemberHealth[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT health FROM replication_health WHERE set_id = ?', [setId]);
    return rows.map((r) => (typeof r.health === 'string' ? JSON.parse(r.health) : r.health) as MemberHealth);
  }

  /**
   * The topology after a promotion, in one transaction: the new source replicates from
   * nobody and takes writes; every other member follows it. The former source either
   * follows it read-only (switchover) or leaves the set fenced (failover).
   */
  async applyNewSource(input: { setId: string; newSourceId: string; formerSourceId: string; formerSource: 'replica' | 'fenced'; fault?: string }): Promise<void> {
    return this.transaction(async (conn) => {
      await conn.query('UPDATE instances SET replica_of = ? WHERE replication_set_id = ? AND id NOT IN (?, ?)', [input.newSourceId, input.setId, input.newSourceId, input.formerSourceId]);
      await conn.query('UPDATE instances SET replica_of = NULL, read_only = 0 WHERE id = ?', [input.newSourceId]);
      if (input.formerSource === 'replica') {
        await conn.query('UPDATE instances SET replica_of = ?, read_only = 1 WHERE id = ?', [input.newSourceId, input.formerSourceId]);
      } else {
        await conn.query("UPDATE instances SET replica_of = NULL, replication_set_id = NULL, read_only = 1, status = 'ERROR', fault = ? WHERE id = ?", [input.fault ?? 'fenced', input.formerSourceId]);
        await conn.query('DELETE FROM replication_health WHERE instance_id = ?', [input.formerSourceId]);
      }
      // The new source's own account on the old source has no use any more.
      await conn.query('DELETE FROM replication_users WHERE replica_id = ?', [input.newSourceId]);
      await conn.query('UPDATE replication_users SET source_id = ? WHERE replica_id IN (SELECT id FROM instances WHERE replication_set_id = ?)', [input.newSourceId, input.setId]);
    });
  }

  async countReplicationUsers(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM replication_users');
    return Number(rows[0]!.n);
  }
}
