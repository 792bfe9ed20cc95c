// Which orchestrator worker runs which set's watch, and which workers are present (migration
// 017). Presence is judged on the registry's clock (NOW(3)) for every worker, so workers on
// hosts whose clocks disagree still agree on who is absent.
import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface WatchClaim {
  setId: string;
  workflowId: string;
  taskToken: Uint8Array;
}

export class WatchClaimStore {
  constructor(private readonly pool: Pool) {}

  /** first: also forget the presence of workers gone for a day that held no claim (stopped or killed while idle). */
  async present(workerId: string, first = false): Promise<void> {
    if (first) await this.pool.query('DELETE FROM orchestrator_workers WHERE seen_at < NOW(3) - INTERVAL 1 DAY AND worker_id NOT IN (SELECT worker_id FROM watch_claims)');
    await this.pool.query('INSERT INTO orchestrator_workers (worker_id, seen_at) VALUES (?, NOW(3)) ON DUPLICATE KEY UPDATE seen_at = NOW(3)', [workerId]);
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

  /** The attempt ended: its claim goes, unless a later attempt's replaced it. */
  async release(setId: string, taskToken: Uint8Array): Promise<void> {
    await this.pool.query('DELETE FROM watch_claims WHERE set_id = ? AND task_token = ?', [setId, Buffer.from(taskToken)]);
  }

  /** Workers holding claims that have not been present for absentMs (or never were): each with its claims. */
  async absent(absentMs: number): Promise<Map<string, WatchClaim[]>> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT c.worker_id, c.set_id, c.workflow_id, c.task_token FROM watch_claims c LEFT JOIN orchestrator_workers w ON w.worker_id = c.worker_id
       WHERE w.worker_id IS NULL OR w.seen_at < NOW(3) - INTERVAL ? MICROSECOND`,
      [absentMs * 1000],
    );
    const byWorker = new Map<string, WatchClaim[]>();
    for (const r of rows) {
      const claims = byWorker.get(r.worker_id as string) ?? [];
      claims.push({ setId: r.set_id as string, workflowId: r.workflow_id as string, taskToken: new Uint8Array(r.task_token as Buffer) });
      byWorker.set(r.worker_id as string, claims);
    }
    return byWorker;
  }

  /** A dead worker's presence goes once its claims were handed over (not if it came back meanwhile). */
  async forget(workerId: string, absentMs: number): Promise<void> {
    await this.pool.query('DELETE FROM orchestrator_workers WHERE worker_id = ? AND seen_at < NOW(3) - INTERVAL ? MICROSECOND', [workerId, absentMs * 1000]);
  }
}
