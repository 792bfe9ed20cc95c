// A long guest activity is watched by its heartbeat (guestLong: 20 s). Some of its steps
// report no progress of their own (mariadb-backup --prepare, a server start, a wait for an
// earlier attempt); silent for longer than the timeout, the activity would be retried on
// this same server while it still runs. So it beats on its own, with the latest details.
import { Context } from '@temporalio/activity';

/** Runs fn, heartbeating its latest details at least every third of the heartbeat timeout. */
export async function withHeartbeats<T>(fn: (beat: (details: unknown) => void) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  let latest: unknown;
  const beat = (details: unknown) => {
    latest = details;
    ctx.heartbeat(details);
  };
  const every = Math.max(200, (ctx.info.heartbeatTimeoutMs || 15_000) / 3);
  const timer = setInterval(() => ctx.heartbeat(latest), every);
  try {
    return await fn(beat);
  } finally {
    clearInterval(timer);
  }
}
