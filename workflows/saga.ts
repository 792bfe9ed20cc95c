// Compensations registered after (or just before) each step that creates something, run
// newest first in a non-cancellable scope: a failed or cancelled operation leaves nothing.
import { CancellationScope, log } from '@temporalio/workflow';

export class Saga {
  private readonly steps: { name: string; undo: () => Promise<unknown> }[] = [];

  add(name: string, undo: () => Promise<unknown>): void {
    this.steps.unshift({ name, undo });
  }

  /** Runs every compensation even if one fails; reports the ones that failed. */
  async compensate(): Promise<string[]> {
    const failed: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const step of this.steps) {
        try {
          await step.undo();
        } catch (err) {
          log.error('compensation failed', { step: step.name, error: String(err) });
          failed.push(step.name);
        }
      }
    });
    this.steps.length = 0;
    return failed;
  }
}
