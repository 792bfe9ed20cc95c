// Progress of an operation, for machines (the `progress` query) and people (the Web UI's
// current details). Timestamps come from the workflow clock, so replay is deterministic.
import { defineQuery, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { OperationProgress } from '../lib/schemas';

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

  render(): void {
    const lines = [`**${this.state.operation}**: ${this.state.phase}`, this.describe()];
    if (this.state.error) lines.push(`error: ${this.state.error}`);
    setCurrentDetails(lines.filter(Boolean).join('\n\n'));
  }
}
