// Operation locks: an instance's and a set's operation_id columns. Taking one is a single
// conditional UPDATE, so two operations asking at once cannot both get it; it is
// re-entrant for the operation holding it (an activity retried after a crash).
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { LockState } from '../lib/rules';

export type LockKind = 'instance' | 'set';
export type AcquireResult = { acquired: true } | { acquired: false; heldBy: string | null; type: string | null; missing?: boolean };

const TABLE: Record<LockKind, string> = { instance: 'instances', set: 'replication_sets' };

export class LockStore {
  constructor(private readonly pool: Pool) {}

  async acquire(kind: LockKind, id: string, operationId: string, type: string): Promise<AcquireResult> {
    const [res] = await this.pool.query<ResultSetHeader>(
      `UPDATE ${TABLE[kind]} SET operation_id = ?, operation_type = ? WHERE id = ? AND (operation_id IS NULL OR operation_id = ?)`,
      [operationId, type, id, operationId],
    );
    if (res.affectedRows > 0) return { acquired: true };
    const held = await this.get(kind, id);
    if (!held) return { acquired: false, heldBy: null, type: null, missing: true };
    return { acquired: false, heldBy: held.operationId, type: held.operationType };
  }

  async release(kind: LockKind, id: string, operationId: string): Promise<void> {
    await this.pool.query(`UPDATE ${TABLE[kind]} SET operation_id = NULL, operation_type = NULL WHERE id = ? AND operation_id = ?`, [id, operationId]);
  }

  async get(kind: LockKind, id: string): Promise<LockState | undefined> {
    return (await this.getMany(kind, [id])).get(id);
  }

  /** Many locks in one query (the watch's batch). */
  async getMany(kind: LockKind, ids: string[]): Promise<Map<string, LockState>> {
    if (ids.length === 0) return new Map();
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT id, operation_id, operation_type FROM ${TABLE[kind]} WHERE id IN (?)`, [ids]);
    return new Map(rows.map((r) => [r.id as string, { operationId: r.operation_id, operationType: r.operation_type }]));
  }
}
