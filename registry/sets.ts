// Replication sets and their links, read and written as one Topology (lib/topology.ts).
// A change is a transition: read the set under a row lock, apply the pure transition,
// write the difference, all in one transaction.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { applyTransition, pairInLinks, sourceOf, type Topology, type TopologyLimits, type Transition } from '../lib/topology';
import type { AccountStore } from './accounts';
import { groupBy, inTransaction, type Db } from './db';
import type { HealthStore } from './health';

export interface TransitionOptions {
  limits?: TopologyLimits;
  /** Why a member that leaves the set fenced (eject) is in ERROR. */
  fault?: string;
  /** A different reason for some of them (a lost zone's replicas), by id. */
  faults?: Record<string, string>;
}

export class SetStore {
  constructor(
    private readonly pool: Pool,
    private readonly accounts: AccountStore,
    private readonly health: HealthStore,
  ) {}

  /**
   * The set of a source is named after the source that founded it; creating it twice is a
   * no-op. A source that left the set it founded (promoted over, then detached) founds a new
   * one under a new name: the old set lives on without it.
   */
  async ensure(sourceId: string, projectId: string): Promise<string> {
    return inTransaction(this.pool, async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT replication_set_id FROM instances WHERE id = ? FOR UPDATE', [sourceId]);
      let setId = rows[0]?.replication_set_id as string | null;
      if (!setId) {
        const [taken] = await conn.query<RowDataPacket[]>('SELECT 1 FROM replication_sets WHERE id = ?', [sourceId]);
        setId = taken.length ? randomUUID() : sourceId;
        await conn.query('INSERT IGNORE INTO replication_sets (id, project_id) VALUES (?, ?)', [setId, projectId]);
        await conn.query('UPDATE instances SET replication_set_id = ? WHERE id = ?', [setId, sourceId]);
      }
      return setId;
    });
  }

  async exists(setId: string): Promise<boolean> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT 1 FROM replication_sets WHERE id = ?', [setId]);
    return rows.length > 0;
  }

  /** The set's members and links; `forUpdate` (inside a transaction) holds the set's row until commit. */
  async topology(setId: string, db: Db = this.pool, forUpdate = false): Promise<Topology | undefined> {
    const [set] = await db.query<RowDataPacket[]>(`SELECT id FROM replication_sets WHERE id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [setId]);
    if (set.length === 0) return undefined;
    const [members] = await db.query<RowDataPacket[]>('SELECT id, read_only FROM instances WHERE replication_set_id = ? ORDER BY created, id', [setId]);
    const [links] = await db.query<RowDataPacket[]>('SELECT source_id, replica_id FROM replication_links WHERE set_id = ? ORDER BY replica_id', [setId]);
    return topologyOf(setId, members, links);
  }

  /** Many sets' topologies in three queries (the watch reads every set a worker watches each poll); a set that does not exist is absent. */
  async topologies(setIds: string[], db: Db = this.pool): Promise<Map<string, Topology>> {
    const out = new Map<string, Topology>();
    if (setIds.length === 0) return out;
    const [[sets], [members], [links]] = await Promise.all([
      db.query<RowDataPacket[]>('SELECT id FROM replication_sets WHERE id IN (?)', [setIds]),
      db.query<RowDataPacket[]>('SELECT id, read_only, replication_set_id FROM instances WHERE replication_set_id IN (?) ORDER BY created, id', [setIds]),
      db.query<RowDataPacket[]>('SELECT source_id, replica_id, set_id FROM replication_links WHERE set_id IN (?) ORDER BY replica_id', [setIds]),
    ]);
    const [membersOf, linksOf] = [groupBy(members, 'replication_set_id'), groupBy(links, 'set_id')];
    for (const { id } of sets) out.set(id, topologyOf(id, membersOf.get(id) ?? [], linksOf.get(id) ?? []));
    return out;
  }

  /** Applies one transition to the set in one transaction; returns the topology it leaves. */
  async apply(setId: string, transition: Transition, opts: TransitionOptions = {}): Promise<Topology> {
    return inTransaction(this.pool, async (conn) => {
      const before = await this.topology(setId, conn, true);
      if (!before) throw new Error(`replication set ${setId} does not exist`);
      const after = applyTransition(before, transition, opts.limits);
      await this.write(conn, before, after, transition, opts);
      return after;
    });
  }

  private async write(conn: PoolConnection, before: Topology, after: Topology, tr: Transition, opts: TransitionOptions): Promise<void> {
    const stays = new Set(after.members.map((m) => m.id));
    const left = before.members.filter((m) => !stays.has(m.id)).map((m) => m.id);
    for (const m of after.members) {
      await conn.query('UPDATE instances SET replication_set_id = ?, read_only = ? WHERE id = ?', [after.setId, m.writable ? 0 : 1, m.id]);
    }
    if (left.length) {
      const fenced = tr.kind === 'eject' || tr.kind === 'pair-failover';
      await conn.query(
        `UPDATE instances SET replication_set_id = NULL, read_only = ?${fenced ? ", status = 'ERROR', fault_at = CURRENT_TIMESTAMP(3), fault = ?, replaced_by = ?" : ''} WHERE id IN (?)`,
        // The fenced former source remembers its replacement: rebuildAsReplica rejoins that set.
        fenced ? [1, opts.fault ?? 'fenced', tr.kind === 'eject' ? tr.newSourceId : (tr as { activeId: string }).activeId, left] : [0, left],
      );
      // Lost-zone replicas fenced with the old source get their own reason.
      if (fenced) for (const id of left) if (opts.faults?.[id]) await conn.query('UPDATE instances SET fault = ? WHERE id = ?', [opts.faults[id], id]);
      await this.health.forget(left, conn);
      // Out of the set, a member replicates from nobody, fenced or not: its account would be
      // an orphan (a pair's failed side held the reverse link's; a lost zone's replicas theirs).
      // A rebuild as a replica gets a new one.
      await this.accounts.remove(left, conn);
    }
    // The links are the set's, rewritten whole: a pending link of a new member is replaced too.
    await conn.query('DELETE FROM replication_links WHERE set_id = ? OR replica_id IN (?)', [after.setId, [...stays, ...left]]);
    for (const l of after.links) await conn.query('INSERT INTO replication_links (replica_id, source_id, set_id) VALUES (?, ?, ?)', [l.replica, l.source, after.setId]);
    // The active side's account on the passive one served the reverse link only.
    const dissolved = tr.kind === 'break-pair' || (tr.kind === 'remove-member' && Boolean(before.coMasters?.includes(tr.instanceId)));
    if (dissolved) await this.accounts.remove([sourceOf(before)!], conn);
    if (tr.kind === 'switch-active' || tr.kind === 'pair-failover') {
      // The new active side's account on the old one serves the pair's reverse link (switch) or nothing (failover).
      if (tr.kind === 'pair-failover') await this.accounts.remove([tr.activeId], conn);
      const followers = after.links.filter((l) => l.source === tr.activeId && !after.coMasters?.includes(l.replica)).map((l) => l.replica);
      await this.accounts.moveTo(tr.activeId, followers, conn);
    }
    if (tr.kind === 'promote' || tr.kind === 'eject') {
      // The new source's own account on the old source has no use any more; the others now live on it.
      await this.accounts.remove([tr.newSourceId], conn);
      await this.accounts.moveTo(tr.newSourceId, after.links.map((l) => l.replica), conn);
    }
  }

  /** Drops a set left with one member (and no lock): that member stands alone again. */
  async dissolveIfAlone(setId: string): Promise<boolean> {
    return inTransaction(this.pool, async (conn) => {
      const t = await this.topology(setId, conn, true);
      if (!t || t.members.length > 1) return false;
      const [res] = await conn.query<import('mysql2').ResultSetHeader>('DELETE FROM replication_sets WHERE id = ? AND operation_id IS NULL', [setId]);
      if (res.affectedRows === 0) return false;
      await this.health.forget(t.members.map((m) => m.id), conn);
      await conn.query('DELETE FROM replication_links WHERE set_id = ?', [setId]);
      await conn.query('UPDATE instances SET replication_set_id = NULL WHERE replication_set_id = ?', [setId]);
      return true;
    });
  }
}

function topologyOf(setId: string, members: RowDataPacket[], links: RowDataPacket[]): Topology {
  const edges = links.map((l) => ({ source: l.source_id as string, replica: l.replica_id as string }));
  const coMasters = pairInLinks(edges);
  return {
    setId,
    members: members.map((m) => ({ id: m.id as string, writable: !m.read_only })),
    links: edges,
    ...(coMasters ? { coMasters } : {}),
  };
}
