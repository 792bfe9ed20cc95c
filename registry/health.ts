// Per-set failover, semi-sync and TLS settings, the last automatic failover (for the quiet
// period), and the latest health the monitor observed of each member.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { MemberHealth, ReplicationSettings, SettingsPatch } from '../lib/schemas';
import type { Db } from './db';

export class HealthStore {
  constructor(private readonly pool: Pool) {}

  async getSettings(setId: string): Promise<ReplicationSettings | undefined> {
    return (await this.getSettingsMany([setId])).get(setId);
  }

  /** Many sets' settings in one query (the watch's batch). */
  async getSettingsMany(setIds: string[]): Promise<Map<string, ReplicationSettings>> {
    if (setIds.length === 0) return new Map();
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM replication_sets WHERE id IN (?)', [setIds]);
    return new Map(
      rows.map((r) => [
        r.id as string,
        {
          autoFailover: Boolean(r.auto_failover),
          semiSync: Boolean(r.semi_sync),
          tls: Boolean(r.tls),
          quietPeriodSeconds: r.quiet_period_s,
          failoverAfterSeconds: r.failover_after_s,
          lastFailoverAt: r.last_failover_at ? (r.last_failover_at as Date).toISOString() : null,
          lastFailoverOperation: r.last_failover_op,
          lastFailoverAcknowledged: Boolean(r.last_failover_acked),
          zoneProfileId: r.zone_profile_id ?? null,
        },
      ]),
    );
  }

  async updateSettings(setId: string, p: SettingsPatch): Promise<void> {
    const cols: [string, unknown][] = [];
    if (p.autoFailover !== undefined) cols.push(['auto_failover', p.autoFailover ? 1 : 0]);
    if (p.semiSync !== undefined) cols.push(['semi_sync', p.semiSync ? 1 : 0]);
    if (p.tls !== undefined) cols.push(['tls', p.tls ? 1 : 0]);
    if (p.quietPeriodSeconds !== undefined) cols.push(['quiet_period_s', p.quietPeriodSeconds]);
    if (p.failoverAfterSeconds !== undefined) cols.push(['failover_after_s', p.failoverAfterSeconds]);
    if (p.acknowledgeFailover) cols.push(['last_failover_acked', 1]);
    if (p.zoneProfileId !== undefined) cols.push(['zone_profile_id', p.zoneProfileId]);
    if (cols.length) await this.pool.query(`UPDATE replication_sets SET ${cols.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`, [...cols.map(([, v]) => v), setId]);
  }

  async recordAutomaticFailover(setId: string, operationId: string, at: Date): Promise<void> {
    await this.pool.query('UPDATE replication_sets SET last_failover_at = ?, last_failover_op = ?, last_failover_acked = 0 WHERE id = ?', [at, operationId, setId]);
  }

  /**
   * Records what was observed of the set's current members (one that left meanwhile is
   * skipped). confirmedUntil: the watch vouches for this health until then (it writes any
   * change within a poll and renews the lease well before it ends); without it (the 0.1.0
   * monitor, which writes every poll) the health is as old as its observation.
   */
  async store(setId: string, health: MemberHealth[], confirmedUntil: Date | null = null): Promise<void> {
    for (const h of health) {
      await this.pool.query(
        `INSERT INTO replication_health (instance_id, set_id, health, observed, confirmed_until)
           SELECT id, replication_set_id, ?, ?, ? FROM instances WHERE id = ? AND replication_set_id = ?
         ON DUPLICATE KEY UPDATE set_id = VALUES(set_id), health = VALUES(health), observed = VALUES(observed), confirmed_until = VALUES(confirmed_until)`,
        [JSON.stringify(h), new Date(h.observedAt), confirmedUntil, h.instanceId, setId],
      );
    }
  }

  /**
   * The health of the set's current members only. A member whose health a live watch
   * vouches for (confirmed_until ahead) is shown as observed now: the watch would have
   * written any change within a poll.
   */
  async get(setId: string): Promise<MemberHealth[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT h.health, h.confirmed_until FROM replication_health h JOIN instances i ON i.id = h.instance_id AND i.replication_set_id = h.set_id WHERE h.set_id = ?',
      [setId],
    );
    const now = new Date();
    return rows.map((r) => {
      const h = (typeof r.health === 'string' ? JSON.parse(r.health) : r.health) as MemberHealth;
      return r.confirmed_until && (r.confirmed_until as Date) > now ? { ...h, observedAt: now.toISOString() } : h;
    });
  }

  async forget(instanceIds: string[], db: Db = this.pool): Promise<void> {
    if (instanceIds.length) await db.query('DELETE FROM replication_health WHERE instance_id IN (?)', [instanceIds]);
  }
}
