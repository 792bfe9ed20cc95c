// Zone profiles an administrator defines (lib/zone-profiles.ts holds their rules). Names are
// unique (the key compares without case, as the API's check does); the key also settles two
// creates of one name racing past that check.
import { randomUUID } from 'node:crypto';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { ZoneProfile, ZoneProfileSpec } from '../lib/zone-profiles';

function toProfile(r: RowDataPacket): ZoneProfile {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    primaryZone: r.primary_zone,
    drZones: typeof r.dr_zones === 'string' ? (JSON.parse(r.dr_zones) as string[]) : (r.dr_zones as string[]),
    locality: r.locality,
    semiSync: Boolean(r.semi_sync),
    autoFailover: Boolean(r.auto_failover),
    autoRebuild: Boolean(r.auto_rebuild),
    created: r.created,
  };
}

export class ProfileStore {
  constructor(private readonly pool: Pool) {}

  /** The stored profile, or undefined when the name was taken meanwhile. */
  async insert(p: ZoneProfileSpec): Promise<ZoneProfile | undefined> {
    const id = randomUUID();
    try {
      await this.pool.query(
        'INSERT INTO zone_profiles (id, name, description, primary_zone, dr_zones, locality, semi_sync, auto_failover, auto_rebuild) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [id, p.name, p.description ?? null, p.primaryZone, JSON.stringify(p.drZones), p.locality, p.semiSync ? 1 : 0, p.autoFailover ? 1 : 0, p.autoRebuild ? 1 : 0],
      );
    } catch (e) {
      if ((e as { code?: string }).code === 'ER_DUP_ENTRY') return undefined;
      throw e;
    }
    return this.get(id);
  }

  async list(): Promise<ZoneProfile[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM zone_profiles ORDER BY name');
    return rows.map(toProfile);
  }

  /** By id, else by name. */
  async get(ref: string): Promise<ZoneProfile | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM zone_profiles WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1', [ref, ref, ref]);
    return rows[0] ? toProfile(rows[0]) : undefined;
  }

  /** The sets that follow the profile. */
  async followedBy(profileId: string): Promise<string[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT id FROM replication_sets WHERE zone_profile_id = ? ORDER BY id', [profileId]);
    return rows.map((r) => r.id as string);
  }

  async remove(profileId: string): Promise<void> {
    await this.pool.query('DELETE FROM zone_profiles WHERE id = ?', [profileId]);
  }
}
