// Which orchestrator worker runs which set's watch, and which workers are present (migrations
// 017, 018). Presence is judged on the registry's clock (NOW(3)) for every worker, so workers
// on hosts whose clocks disagree still agree on who is absent. A worker also holds a named
// lock on the connection that writes its presence: the registry frees it the moment that
// session ends (the process killed, its host resetting its connections), so its death is seen
// at the next beat rather than after the absence limit. A host that vanishes without a word
// leaves its session open until TCP gives up: the absence limit covers that.
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';

export interface WatchClaim {
  setId: string;
  workflowId: string;
  taskToken: Uint8Array;
}

/** A worker found gone: its session ended (its lock is free), or it was absent past the limit (or never present). */
export interface GoneWorker {
  why: 'session ended' | 'absent';
  claims: WatchClaim[];
}

/** The registry server a session is on: named locks are that server's, not a cluster's. */
const SERVER = "CONCAT(@@hostname, ':', @@port)";
/** A worker's lock, by the SQL of its worker id (a column or a placeholder). */
const lockOf = (workerId: string) => `CONCAT('trove-watch:', SHA1(${workerId}))`;
const LOCK = lockOf('w.worker_id');
/** The worker's lock was taken on this server and is free: its session ended. */
const SESSION_ENDED = `(w.lock_host = ${SERVER} AND IS_USED_LOCK(${LOCK}) IS NULL)`;
const ABSENT = 'w.seen_at < NOW(3) - INTERVAL ? MICROSECOND';

export class WatchClaimStore {
  /** Per worker of this process: the connection holding its lock, and since when it holds it (null: not yet). */
  private readonly sessions = new Map<string, { conn: PoolConnection; since: number | null }>();

  constructor(private readonly pool: Pool) {}

  /**
   * first: also forget the presence of workers gone for a day that held no claim (stopped or
   * killed while idle). The presence is written on the lock's own connection: a row naming a
   * lock is never newer than the session holding it.
   */
  async present(workerId: string, first = false): Promise<void> {
    if (first) await this.pool.query('DELETE FROM orchestrator_workers WHERE seen_at < NOW(3) - INTERVAL 1 DAY AND worker_id NOT IN (SELECT worker_id FROM watch_claims)');
    let s = this.sessions.get(workerId);
    if (!s) {
      s = { conn: await this.pool.getConnection(), since: null };
      this.sessions.set(workerId, s);
    }
    try {
      if (s.since === null) {
        // 0: a former session of ours still holds it (the server has not seen it end): tried again next beat.
        const [[r]] = await s.conn.query<RowDataPacket[]>(`SELECT GET_LOCK(${lockOf('?')}, 0) AS got`, [workerId]);
        if (r?.got === 1) s.since = Date.now();
      }
      await s.conn.query(
        `INSERT INTO orchestrator_workers (worker_id, seen_at, lock_host) VALUES (?, NOW(3), IF(?, ${SERVER}, NULL)) ON DUPLICATE KEY UPDATE seen_at = NOW(3), lock_host = VALUES(lock_host)`,
        [workerId, s.since !== null],
      );
    } catch (err) {
      this.sessions.delete(workerId);
      s.conn.destroy();
      throw err;
    }
  }

  /** The worker stops: its lock and connection go back (its presence row is judged gone at once). */
  async leave(workerId: string): Promise<void> {
    const s = this.sessions.get(workerId);
    this.sessions.delete(workerId);
    if (!s) return;
    await s.conn.query(`SELECT RELEASE_LOCK(${lockOf('?')})`, [workerId]).then(
      () => s.conn.release(),
      () => s.conn.destroy(),
    );
  }

  /**
   * Each set's watch runs on workerId now (this attempt): a later attempt's claim replaces an
   * earlier one's. Many in one statement: a worker that takes over hundreds of sets claims them together.
   */
  async claim(workerId: string, claims: WatchClaim[]): Promise<void> {
    if (!claims.length) return;
    await this.pool.query(
      'INSERT INTO watch_claims (set_id, worker_id, workflow_id, task_token, claimed_at) VALUES ? ON DUPLICATE KEY UPDATE worker_id = VALUES(worker_id), workflow_id = VALUES(workflow_id), task_token = VALUES(task_token), claimed_at = VALUES(claimed_at)',
      [claims.map((c) => [c.setId, workerId, c.workflowId, Buffer.from(c.taskToken), new Date()])],
    );
  }

  /** Which worker each of the sets' watches is claimed by now (absent: none). */
  async claimedBy(setIds: string[]): Promise<Map<string, string>> {
    if (!setIds.length) return new Map();
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT set_id, worker_id FROM watch_claims WHERE set_id IN (?)', [setIds]);
    return new Map(rows.map((r) => [r.set_id as string, r.worker_id as string]));
  }

  /** The attempts ended: their claims go, unless a later attempt's replaced them. */
  async release(attempts: { setId: string; taskToken: Uint8Array }[]): Promise<void> {
    if (!attempts.length) return;
    await this.pool.query('DELETE FROM watch_claims WHERE (set_id, task_token) IN (?)', [attempts.map((a) => [a.setId, Buffer.from(a.taskToken)])]);
  }

  /** Since when this store's session for the worker holds its lock (null: it does not, or has no session here). */
  lockHeldSince(workerId: string): number | null {
    return this.sessions.get(workerId)?.since ?? null;
  }

  /**
   * Sets no attempt claims now: besides those between two attempts or whose attempt is just
   * starting, a set whose attempt a worker took and died before claiming (the hand-over finds
   * it on the Temporal side, by the dead worker's identity).
   */
  async unclaimed(): Promise<string[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT s.id FROM replication_sets s WHERE NOT EXISTS (SELECT 1 FROM watch_claims c WHERE c.set_id = s.id)');
    return rows.map((r) => r.id as string);
  }

  /**
   * Workers that are gone, each with its claims (none: it died before claiming the attempts it
   * took, or took none). judgeLockSince: since when the
   * worker asking holds its own lock (lockHeldSince; its presence may beat on another store):
   * held for absentMs, others' free locks count (after a registry restart every lock is free
   * until each worker's next beat takes it again). Null: only the absence limit counts.
   */
  async absent(absentMs: number, judgeLockSince: number | null = null): Promise<Map<string, GoneWorker>> {
    const byLock = judgeLockSince !== null && Date.now() - judgeLockSince >= absentMs;
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT c.worker_id, c.set_id, c.workflow_id, c.task_token, w.worker_id IS NOT NULL AND NOT ${ABSENT} AS seen FROM watch_claims c
       LEFT JOIN orchestrator_workers w ON w.worker_id = c.worker_id
       WHERE w.worker_id IS NULL OR ${ABSENT} OR (? AND ${SESSION_ENDED})
       UNION ALL
       SELECT w.worker_id, NULL, NULL, NULL, NOT ${ABSENT} FROM orchestrator_workers w
       WHERE (${ABSENT} OR (? AND ${SESSION_ENDED})) AND NOT EXISTS (SELECT 1 FROM watch_claims c WHERE c.worker_id = w.worker_id)`,
      [absentMs * 1000, absentMs * 1000, byLock, absentMs * 1000, absentMs * 1000, byLock],
    );
    const byWorker = new Map<string, GoneWorker>();
    for (const r of rows) {
      const gone = byWorker.get(r.worker_id as string) ?? { why: r.seen ? 'session ended' : 'absent', claims: [] };
      if (r.set_id !== null) gone.claims.push({ setId: r.set_id as string, workflowId: r.workflow_id as string, taskToken: new Uint8Array(r.task_token as Buffer) });
      byWorker.set(r.worker_id as string, gone);
    }
    return byWorker;
  }

  /** A dead worker's presence goes once its claims were handed over (not if it came back meanwhile). */
  async forget(workerId: string, absentMs: number): Promise<void> {
    await this.pool.query(`DELETE w FROM orchestrator_workers w WHERE w.worker_id = ? AND (${ABSENT} OR ${SESSION_ENDED})`, [workerId, absentMs * 1000]);
  }
}
