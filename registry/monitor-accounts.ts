// Each member's monitoring account (migration 011): a random password sealed with the
// deployment's key, issued once and kept; "ready" once the member's agent has made it.
import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface MonitorCredential {
  sealedPassword: string | null;
  ready: boolean;
}

export class MonitorAccountStore {
  constructor(private readonly pool: Pool) {}

  /** The member's sealed password: the one issued before, or `sealed` if it had none. */
  async issue(instanceId: string, sealed: string): Promise<string | undefined> {
    await this.pool.query('UPDATE instances SET monitor_secret = ? WHERE id = ? AND monitor_secret IS NULL', [sealed, instanceId]);
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT monitor_secret FROM instances WHERE id = ?', [instanceId]);
    return rows[0]?.monitor_secret ?? undefined;
  }

  async markReady(instanceIds: string[]): Promise<void> {
    if (instanceIds.length) await this.pool.query('UPDATE instances SET monitor_ready = 1 WHERE id IN (?) AND monitor_secret IS NOT NULL', [instanceIds]);
  }

  async credentials(instanceIds: string[]): Promise<Record<string, MonitorCredential>> {
    if (!instanceIds.length) return {};
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT id, monitor_secret, monitor_ready FROM instances WHERE id IN (?)', [instanceIds]);
    return Object.fromEntries(rows.map((r) => [r.id as string, { sealedPassword: (r.monitor_secret as string | null) ?? null, ready: Boolean(r.monitor_ready) }]));
  }
}
