// What `create --replica_of` and `replicate` do with the API's 202: both routes answer the
// same body, so the summary and the --wait over several replicas live here, once.
import type { InstanceView, ReplicasAnswer } from './api-client';
import { CliFailure, type CliContext } from './context';
import { cut, fitTable, flattenView, formatBytes, json, lagText, listTable, progressText, propertyTable, setTables, type MemberHealth, type OperationFields } from './format';
import { waitForInstance } from './wait';

export interface ReplicaOutputOptions {
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

/** A replica is done when ACTIVE and its build/attach operation is gone (ACTIVE alone can come first). */
const settled = (v: InstanceView) => v.status === 'ACTIVE' && !v.operation;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

interface ReplicaRow {
  name: string;
  view: InstanceView;
  /** The last bytes restored seen: the API shows them only while the restore runs. */
  restored?: number;
  /** A hiccup of the API (retrying), shown until the next answer. */
  note?: string;
}

/**
 * Each replica's progress while --wait follows a replica build: status, phase, bytes
 * restored and lag. Into a file or a pipe it is a line per change ("r-1: BUILD: restoring
 * (12.0 MiB restored)"); on a terminal, one table redrawn in place. Never wider than the
 * terminal, nor than 100 columns.
 */
export class ReplicaProgressBoard {
  private readonly rows = new Map<string, ReplicaRow>();
  /** The table last drawn, and its height in lines, to be redrawn over. */
  private drawn = 0;
  private lastFrame = '';

  constructor(
    private readonly ctx: CliContext,
    replicas: InstanceView[],
  ) {
    for (const v of replicas) this.rows.set(v.id, { name: v.name, view: v });
  }

  /** The progress line of a replica's view (waitForInstance logs it when it changes). */
  describe(id: string, v: InstanceView): string {
    const row = this.rows.get(id)!;
    row.view = v;
    row.note = undefined;
    const p = this.progress(row);
    if (p.restored !== undefined) row.restored = p.restored;
    if (this.ctx.liveProgress) this.redraw();
    const details = progressText(p.restored, p.lag.seconds, p.lag.transactions);
    return `${v.status}${p.phase ? `: ${p.phase}` : ''}${details ? ` (${details})` : ''}`;
  }

  /** A new line for this replica: printed as it is, or (on a terminal) already in the table. */
  log(id: string, line: string): void {
    const row = this.rows.get(id)!;
    if (!this.ctx.liveProgress) {
      const prefix = this.rows.size > 1 ? `${row.name}: ` : '';
      return this.ctx.err(cut(`${prefix}${line}`, this.ctx.errWidth));
    }
    if (line.startsWith('(retrying)')) {
      row.note = line;
      this.redraw();
    }
  }

  /** Cursor up over the last table and clear from there: the new one takes its place. */
  private redraw(): void {
    const frame = this.frame();
    if (frame === this.lastFrame) return;
    const over = this.drawn ? `\x1b[${this.drawn}A\x1b[0J` : '';
    this.ctx.io.stderr(`${over}${frame}\n`);
    this.drawn = frame.split('\n').length;
    this.lastFrame = frame;
  }

  /** The table: one row per replica. */
  frame(): string {
    const rows = [...this.rows.values()].map((row) => {
      const p = this.progress(row);
      return [row.name, row.view.status, row.note ?? p.phase, p.restored === undefined ? '' : formatBytes(p.restored), lagText(p.lag.seconds, p.lag.transactions)];
    });
    return fitTable(
      [
        { head: 'Replica', overflow: 'cut', min: 10 },
        { head: 'Status', min: 6 },
        { head: 'Phase', overflow: 'cut', min: 12 },
        { head: 'Restored', min: 10 },
        { head: 'Lag', overflow: 'cut', min: 12 },
      ],
      rows,
      this.ctx.errWidth,
      { compact: true },
    );
  }

  /**
   * Phase and bytes restored come from the build's operation; the lag from it while the
   * replica catches up, else from what the set's monitor last saw of this replica.
   */
  private progress(row: ReplicaRow): { phase: string; restored?: number; lag: { seconds?: unknown; transactions?: unknown } } {
    const v = row.view;
    const op = v.operation as OperationFields | undefined;
    const phase = op?.phase === undefined || op.phase === null ? '' : String(op.phase);
    const restored = isNumber(op?.restored_bytes) ? op.restored_bytes : row.restored;
    if (isNumber(op?.seconds_behind) || isNumber(op?.transactions_behind)) return { phase, restored, lag: { seconds: op.seconds_behind, transactions: op.transactions_behind } };
    const health = Array.isArray(v.replication_health) ? (v.replication_health as MemberHealth[]).find((h) => h?.id === v.id) : undefined;
    return { phase, restored, lag: { seconds: health?.seconds_behind, transactions: health?.transactions_behind } };
  }
}

/**
 * Polls every replica at once (they build in parallel) and fails on the first ERROR or
 * disappearance; the other polls are then stopped so nothing keeps running behind the exit.
 */
export async function waitForReplicas(ctx: CliContext, replicas: InstanceView[], timeoutSeconds: number): Promise<InstanceView[]> {
  const abort = new AbortController();
  const board = new ReplicaProgressBoard(ctx, replicas);
  let failure: string | undefined;
  const finals = await Promise.all(
    replicas.map(async (initial) => {
      try {
        const result = await waitForInstance({
          api: ctx.api(),
          id: initial.id,
          until: settled,
          intervalMs: ctx.pollIntervalMs,
          timeoutMs: timeoutSeconds * 1000,
          describe: (v) => board.describe(initial.id, v),
          log: (line) => board.log(initial.id, line),
          initial,
          signal: abort.signal,
        });
        if (result.ok) return result.instance!;
        // The first failure is the cause; the ones after it are only the aborted siblings.
        failure ??= `replica ${initial.name}: ${result.message}`;
      } catch (err) {
        abort.abort();
        throw err;
      }
      abort.abort();
      return undefined;
    }),
  );
  if (failure !== undefined) throw new CliFailure(failure);
  return finals as InstanceView[];
}

export async function finishReplicas(ctx: CliContext, answer: ReplicasAnswer, opts: ReplicaOutputOptions): Promise<void> {
  // Older answers carry only `instance`; it is then the one replica.
  const replicas = answer.replicas?.length ? answer.replicas : [answer.instance];
  if (opts.wait) {
    const finals = await waitForReplicas(ctx, replicas, opts.timeout);
    if (opts.json) return ctx.out(json(finals));
    // Each replica's own fields, then the set they joined, once (every view carries it).
    for (const v of finals) ctx.out(propertyTable(flattenView(v), ctx.width));
    const set = setTables(finals[finals.length - 1]!, ctx.width);
    if (set.length) ctx.out(`\n${set.join('\n\n')}`);
    return;
  }
  if (opts.json) return ctx.out(json(answer));
  ctx.out(listTable(['ID', 'Name', 'Status'], replicas.map((v) => [v.id, v.name, v.status]), ctx.width));
  if (answer.operation) ctx.out(`Operation: ${answer.operation.id} (${answer.operation.type ?? 'unknown'})`);
}
