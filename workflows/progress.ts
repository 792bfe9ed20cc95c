// Progress of an operation, for machines (the `progress` query) and people (the Web UI's
// current details). Timestamps come from the workflow clock, so replay is deterministic.
import { defineQuery, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { OperationProgress } from '../lib/schemas';

/** Steps shown in the current details. */
const TRAIL = 8;

export const progressQuery = defineQuery<OperationProgress>('progress');

export class Progress {
  private readonly state: OperationProgress;

  constructor(operation: string, private readonly describe: () => string = () => '') {
    this.state = { operation, phase: 'starting', steps: [] };
    setHandler(progressQuery, () => this.state);
  }

  phase(phase: string): void {
    // A long-running monitor repeats its phase every poll: keep one step for it.
    if (phase === this.state.phase) return this.render();
    this.state.phase = phase;
    this.state.steps.push({ phase, at: new Date().toISOString() });
    this.render();
  }

  fail(error: string): void {
    this.state.error = error;
    this.phase('failed');
  }

  /**
   * The Web UI's current details: the steps taken so far with the current one in bold (a
   * long-running monitor shows its last few), then the workflow's own table.
   */
  render(): void {
    const trail = this.state.steps.slice(-TRAIL).map((s, i, all) => (i === all.length - 1 ? `**${s.phase}**` : s.phase));
    const lines = [`${this.state.operation}: ${trail.join(' → ') || `**${this.state.phase}**`}`, this.describe()];
    if (this.state.error) lines.push(`**error**: ${this.state.error}`);
    setCurrentDetails(lines.filter(Boolean).join('\n\n'));
  }
}
