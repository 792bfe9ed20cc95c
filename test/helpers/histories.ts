// Reading what an activity returned out of a workflow's history: the results the Web UI
// shows, for tests and benchmarks that check how a step went (a restore's own timings).
import type { Client } from '@temporalio/client';

/** The result of the first completed activity of that type in the workflow's history. */
export async function activityResult<T>(client: Client, workflowId: string, activityType: string): Promise<T | undefined> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (c && scheduled.get(String(c.scheduledEventId)) === activityType) {
      const data = c.result?.payloads?.[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as T) : undefined;
    }
  }
  return undefined;
}
