// A dead worker's watches, handed over in seconds (issue 17). Each orchestrator worker marks
// itself present in the registry every 0.4 s, on a connection holding a named lock. A worker
// whose lock is free (its registry session ended: the process was killed) is dead to the
// others at their next beat; one that stops marking itself (its host vanished, the session
// still open) is dead after 2 s. The first survivor to see it fails each of its watches'
// attempts by task token, which Temporal retries at once (the watch's first retry interval)
// on a live worker. The watch's own heartbeat timeout is therefore long (few heartbeats for
// the Temporal server: they were most of its cost at a thousand sets) and is only the
// fallback for a registry that is down. A worker that was only stalled or cut off comes back
// having lost nothing: its failed attempts are already retried, and the server refuses what
// their stale runs report.
import { ApplicationFailure } from '@temporalio/common';
import type { GoneWorker, WatchClaimStore } from '../registry/watch-claims';

export const PRESENT_EVERY_MS = 400;
/**
 * Five beats missed: a worker starved for 1.5 s is not taken for dead (about the tolerance
 * the 3 s heartbeat timeout and its 1 s clock gave before). Only for a worker whose session
 * stays open: a killed one's lock is free at once.
 */
export const ABSENT_AFTER_MS = 2000;
/** Attempts failed at once: a survivor takes over hundreds of sets, and each is a round trip to the Temporal server. */
const FAIL_WIDTH = 200;

export interface HandoverDeps {
  claims: Pick<WatchClaimStore, 'present' | 'absent' | 'release' | 'forget' | 'leave'>;
  /** Fails an activity attempt (the Temporal client's activity.fail). */
  fail(taskToken: Uint8Array, failure: Error): Promise<void>;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

export function startWatchHandover(workerId: string, deps: HandoverDeps, o: { everyMs?: number; absentAfterMs?: number } = {}): { stop(): Promise<void> } {
  const everyMs = o.everyMs ?? PRESENT_EVERY_MS;
  const absentAfterMs = o.absentAfterMs ?? ABSENT_AFTER_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const handOver = async (worker: string, gone: GoneWorker) => {
    const started = Date.now();
    const why = gone.why === 'absent' ? `was absent for ${absentAfterMs / 1000} s` : 'ended its registry session';
    const failure = ApplicationFailure.retryable(`orchestrator worker ${worker} ${why}: its watch is handed to a live worker`, 'WorkerAbsent');
    for (let i = 0; i < gone.claims.length; i += FAIL_WIDTH) {
      const chunk = gone.claims.slice(i, i + FAIL_WIDTH);
      // An attempt that already ended (or was retried) is refused by the server: nothing to hand over.
      await Promise.all(chunk.map((c) => deps.fail(c.taskToken, failure).catch(() => undefined)));
      await deps.claims.release(chunk);
      // A long hand-over must not make this worker look absent in turn.
      await deps.claims.present(workerId);
    }
    await deps.claims.forget(worker, absentAfterMs);
    deps.log.info({ worker, why: gone.why, watches: gone.claims.length, ms: Date.now() - started }, 'gone worker: its watches handed over');
  };

  let first = true;
  const tick = async () => {
    await deps.claims.present(workerId, first);
    first = false;
    for (const [worker, gone] of await deps.claims.absent(absentAfterMs, workerId)) if (worker !== workerId) await handOver(worker, gone);
  };

  // Said once when the registry stops answering and once when it answers again, not every beat.
  let failing = false;
  const beat = () =>
    tick().then(
      () => {
        if (failing) deps.log.info({}, 'watch hand-over: registry reachable again');
        failing = false;
      },
      (err: Error) => {
        if (!failing) deps.log.warn({ err: err.message }, 'watch hand-over: registry not reachable');
        failing = true;
      },
    );
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => (running = beat().finally(schedule)), everyMs);
  };
  running = beat().finally(schedule);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await deps.claims.leave(workerId).catch(() => undefined);
    },
  };
}
