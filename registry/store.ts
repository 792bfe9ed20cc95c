// Data access for the registry: the topology and instance records the API reads and the
// workflows' registry activities write. Every write is idempotent so an activity retried
// after a crash finds its own earlier effect instead of failing or duplicating it.
import { createPool, type Pool, type PoolOptions, type RowDataPacket } from 'mysql2/promise';

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
}

export type AcquireResult = { acquired: true } | { acquired: false; heldBy: string | null; type: string | null; missing?: boolean };

const SELECT_INSTANCE = `SELECT i.*, s.server_id AS mysql_server_id FROM instances i LEFT JOIN server_ids s ON s.instance_id = i.id`;

function toRecord(row: RowDataPacket, databases: string[], users: { name: string; host: string }[]): InstanceRecord {
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

  /** Inserts the instance in BUILD holding the operation lock; a repeat is a no-op. */
  async insertInstance(n: NewInstance): Promise<void> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      await conn.query(
        `INSERT IGNORE INTO instances (id, project_id, name, status, flavor_id, volume_size, availability_zone, operation_id, operation_type)
         VALUES (?, ?, ?, 'BUILD', ?, ?, ?, ?, ?)`,
        [n.id, n.projectId, n.name, n.flavorId, n.volumeSize, n.availabilityZone ?? null, n.operationId, n.operationType],
      );
      for (const db of n.databases) await conn.query('INSERT IGNORE INTO instance_databases (instance_id, name) VALUES (?, ?)', [n.id, db]);
      for (const u of n.users) await conn.query('INSERT IGNORE INTO instance_users (instance_id, name, host) VALUES (?, ?, ?)', [n.id, u.name, u.host]);
      await conn.commit();
    } catch (e) {
      await conn.rollback();
      throw e;
    } finally {
      conn.release();
    }
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

  async listInstances(projectId: string): Promise<InstanceRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`${SELECT_INSTANCE} WHERE i.project_id = ? ORDER BY i.created, i.id`, [projectId]);
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
    return rows.map((r) =>
      toRecord(
        r,
        dbs.filter((d) => d.instance_id === r.id).map((d) => d.name as string),
        users.filter((u) => u.instance_id === r.id).map((u) => ({ name: u.name as string, host: u.host as string })),
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
    const [res] = await this.pool.query<import('mysql2').ResultSetHeader>(
      'UPDATE instances SET operation_id = ?, operation_type = ? WHERE id = ? AND (operation_id IS NULL OR operation_id = ?)',
      [operationId, type, instanceId, operationId],
    );
    if (res.affectedRows > 0) return { acquired: true };
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT operation_id, operation_type FROM instances WHERE id = ?', [instanceId]);
    if (rows.length === 0) return { acquired: false, heldBy: null, type: null, missing: true };
    return { acquired: false, heldBy: rows[0]!.operation_id, type: rows[0]!.operation_type };
  }

  async releaseOperation(instanceId: string, operationId: string): Promise<void> {
    await this.pool.query('UPDATE instances SET operation_id = NULL, operation_type = NULL WHERE id = ? AND operation_id = ?', [instanceId, operationId]);
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
}
