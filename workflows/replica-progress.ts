// How a buildReplica child tells its createReplicas parent where it is, so the parent's
// query and Web UI details show every replica's phase in one place.
import type { Duration } from '@temporalio/common';
import { CancellationScope, defineQuery, defineSignal, isCancellation, sleep } from '@temporalio/workflow';
import type { ReplicaOutcome, ReplicaPhase } from '../lib/schemas';
import { textTable } from '../lib/text-table';

export interface ReplicaProgress {
  replicaId: string;
  name: string;
  phase: ReplicaPhase;
  restoredBytes?: number;
  secondsBehind?: number | null;
  error?: string;
}

export const replicaProgressSignal = defineSignal<[ReplicaProgress]>('replicaProgress');

/** Parent → child: the snapshot a replica provisioned in advance waits for, or why there is none. */
export type SnapshotOutcome = { gtid: string } | { error: string };
export const snapshotReadySignal = defineSignal<[SnapshotOutcome]>('snapshotReady');
export const replicasQuery = defineQuery<ReplicaProgress[]>('replicas');

/**
 * Tells the parent of a phase only once it has lasted `after`: a phase that ends sooner costs
 * a timer started and cancelled, not a signal, which wakes both workflows (two workflow
 * tasks, a third of an operation's work when every phase is quick). How the build ends, the
 * parent reads from the child's result (`settleRow`).
 */
export class LastingPhaseReporter {
  private waiting?: CancellationScope;

  constructor(
    private readonly after: Duration,
    private readonly send: (p: ReplicaProgress) => Promise<void>,
  ) {}

  phase(p: ReplicaProgress): void {
    this.end();
    const scope = new CancellationScope();
    this.waiting = scope;
    scope.run(() => sleep(this.after)).then(
      // Progress is informative: a parent that is gone must not fail the build. The check:
      // the timer may fire in the same activation as the step that ended the phase.
      () => (this.waiting === scope ? this.send(p).catch(() => undefined) : undefined),
      (err) => {
        if (!isCancellation(err)) throw err;
      },
    );
  }

  /** The phase in progress is over; the parent need not hear of it. */
  end(): void {
    this.waiting?.cancel();
    this.waiting = undefined;
  }
}

/** A replica's row once its build is over, from the child's result. */
export function settleRow(row: ReplicaProgress, outcome: ReplicaOutcome): ReplicaProgress {
  if (outcome.status === 'ACTIVE') {
    return { ...row, phase: 'active', restoredBytes: outcome.restoredBytes ?? row.restoredBytes, secondsBehind: outcome.secondsBehind ?? row.secondsBehind };
  }
  return { ...row, phase: row.phase === 'cleaned up' ? 'cleaned up' : 'failed', error: outcome.error ?? row.error };
}

/** Each replica's row in the parent's current details; why a replica failed, below the table. */
export function renderReplicaTable(rows: ReplicaProgress[]): string {
  if (rows.length === 0) return '';
  const mib = (b?: number) => (b === undefined ? '-' : `${(b / 1048576).toFixed(1)} MiB`);
  const table = textTable(['replica', 'phase', 'restored', 'lag (s)'], rows.map((r) => [r.name, r.phase, mib(r.restoredBytes), String(r.secondsBehind ?? '-')]));
  const errors = rows.filter((r) => r.error).map((r) => `- \`${r.name}\`: ${r.error}`);
  return [table, ...errors].join('\n');
}
