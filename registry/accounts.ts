// Replication accounts: one per replica, on the member it replicates from. The password is
// sealed with the deployment key; only guest agents unseal it.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Db } from './db';

export interface ReplicationUser {
  replicaId: string;
  sourceId: string;
  userName: string;
  sealedPassword: string;
}

export class AccountStore {
  constructor(private readonly pool: Pool) {}

  /** Creates the account's record once; a repeat returns the first one (its password too). */
  async put(u: ReplicationUser): Promise<ReplicationUser> {
    await this.pool.query('INSERT IGNORE INTO replication_users (replica_id, source_id, user_name, sealed_password) VALUES (?, ?, ?, ?)', [u.replicaId, u.sourceId, u.userName, u.sealedPassword]);
    return (await this.get(u.replicaId))!;
  }

  async get(replicaId: string): Promise<ReplicationUser | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM replication_users WHERE replica_id = ?', [replicaId]);
    const r = rows[0];
    return r ? { replicaId: r.replica_id, sourceId: r.source_id, userName: r.user_name, sealedPassword: r.sealed_password } : undefined;
  }

  async remove(replicaIds: string[], db: Db = this.pool): Promise<void> {
    if (replicaIds.length) await db.query('DELETE FROM replication_users WHERE replica_id IN (?)', [replicaIds]);
  }

  /** The accounts of these replicas are now on `sourceId` (a new source took over). */
  async moveTo(sourceId: string, replicaIds: string[], db: Db = this.pool): Promise<void> {
    if (replicaIds.length) await db.query('UPDATE replication_users SET source_id = ? WHERE replica_id IN (?)', [sourceId, replicaIds]);
  }

  async count(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM replication_users');
    return Number(rows[0]!.n);
  }
}
