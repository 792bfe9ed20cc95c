// Backups (Trove's /backups): a kept snapshot's record. The snapshot itself lives in the
// snapshot store under the backup's id until the backup is deleted.
import type { Pool, RowDataPacket } from 'mysql2/promise';

/** Trove's backup states. */
export type BackupStatus = 'NEW' | 'BUILDING' | 'COMPLETED' | 'FAILED';

export interface BackupRecord {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  /** The instance it was taken from (it may be deleted since: a backup outlives it). */
  instanceId: string;
  status: BackupStatus;
  sizeBytes: number | null;
  /** The GTID position the snapshot holds. */
  gtid: string | null;
  datastore: string;
  datastoreVersion: string;
  failReason: string | null;
  created: Date;
  updated: Date;
}

export interface NewBackup {
  id: string;
  projectId: string;
  name: string;
  description?: string | null;
  instanceId: string;
  datastore: string;
  datastoreVersion: string;
}

export interface BackupChange {
  status?: BackupStatus;
  sizeBytes?: number;
  gtid?: string;
  failReason?: string | null;
}

const toRecord = (r: RowDataPacket): BackupRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  description: r.description ?? null,
  instanceId: r.instance_id,
  status: r.status,
  sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
  gtid: r.gtid ?? null,
  datastore: r.datastore,
  datastoreVersion: r.datastore_version,
  failReason: r.fail_reason ?? null,
  created: r.created,
  updated: r.updated,
});

export class BackupStore {
  constructor(private readonly pool: Pool) {}

  /** Inserts the backup as NEW; a repeat is a no-op. */
  async insert(b: NewBackup): Promise<void> {
    await this.pool.query(
      "INSERT IGNORE INTO backups (id, project_id, name, description, instance_id, status, datastore, datastore_version) VALUES (?, ?, ?, ?, ?, 'NEW', ?, ?)",
      [b.id, b.projectId, b.name, b.description ?? null, b.instanceId, b.datastore, b.datastoreVersion],
    );
  }

  async get(id: string): Promise<BackupRecord | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM backups WHERE id = ?', [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async getInProject(projectId: string, id: string): Promise<BackupRecord | undefined> {
    const b = await this.get(id);
    return b && b.projectId === projectId ? b : undefined;
  }

  async list(projectId: string, instanceId?: string): Promise<BackupRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT * FROM backups WHERE project_id = ?${instanceId ? ' AND instance_id = ?' : ''} ORDER BY created, id`,
      instanceId ? [projectId, instanceId] : [projectId],
    );
    return rows.map(toRecord);
  }

  /** Every backup of every project (the invariant checker sees the whole deployment). */
  async listAll(): Promise<BackupRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM backups ORDER BY created, id');
    return rows.map(toRecord);
  }

  async update(id: string, c: BackupChange): Promise<void> {
    const sets: [string, unknown][] = [];
    if (c.status !== undefined) sets.push(['status = ?', c.status]);
    if (c.sizeBytes !== undefined) sets.push(['size_bytes = ?', c.sizeBytes]);
    if (c.gtid !== undefined) sets.push(['gtid = ?', c.gtid]);
    if (c.failReason !== undefined) sets.push(['fail_reason = ?', c.failReason]);
    if (sets.length === 0) return;
    await this.pool.query(`UPDATE backups SET ${sets.map(([s]) => s).join(', ')} WHERE id = ?`, [...sets.map(([, v]) => v), id]);
  }

  async remove(id: string): Promise<void> {
    await this.pool.query('DELETE FROM backups WHERE id = ?', [id]);
  }
}
