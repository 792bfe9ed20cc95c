// The yardstick of the orchestration-overhead benchmark: a workflow that calls an activity
// doing nothing, `count` times one after the other. (wall(count) - wall(0)) / count is
// the cost of one activity round trip on this Temporal server: schedule, poll, run,
// complete, and the workflow task that schedules the next one. Deterministic: it imports
// only from @temporalio/workflow.
import { proxyActivities } from '@temporalio/workflow';

export interface EmptyActivities {
  noop(): Promise<void>;
}

/** `taskQueue`: the activities' queue; the workflow's own when absent. */
export async function emptyActivities(count: number, taskQueue?: string): Promise<number> {
  const { noop } = proxyActivities<EmptyActivities>({ taskQueue, startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });
  for (let i = 0; i < count; i++) await noop();
  return count;
}
