// A dead worker's watches, handed over in seconds (issue 17). Each orchestrator worker marks
// itself present in the registry every 0.4 s, on a connection holding a named lock, from a
// thread of its own (workers/presence.ts: a busy event loop is not an absent worker). A worker
// whose lock is free (its registry session ended: the process was killed) is dead to the
// others at their next beat; one that stops marking itself (its host vanished, the session
// still open) is dead after 2 s. The first survivor to see it fails each of its watches'
// attempts by task token, which Temporal retries at once (the watch's first retry interval)
// on a live worker. The watch's own heartbeat timeout is therefore long (few heartbeats for
// the Temporal server: they were most of its cost at a thousand sets) and is only the
// fallback for a registry that is down. A worker that was only stalled or cut off comes back
// having lost nothing: its failed attempts are already retried, and the server refuses what
// their stale runs report. A frozen worker's activity polls stay open at the Temporal server,
// which may hand them the retried attempts: those are failed again by id (STRANDED_*). So is
// an attempt a worker took and died before claiming: it is found among the unclaimed sets by
// the dead worker's Temporal identity.
import * as os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { GoneWorker, WatchClaim, WatchClaimStore } from '../registry/watch-claims';
import { monitorWorkflowId } from '../lib/names';
import { PRESENT_EVERY_MS, type Presence } from './presence';

/**
 * Five beats missed. Only for a worker whose session stays open (its host vanished): a killed
 * one's lock is free at once.
 */
export const ABSENT_AFTER_MS = 2000;
/** Attempts failed at once: a survivor takes over hundreds of sets, and each is a round trip to the Temporal server. */
const FAIL_WIDTH = 200;
/**
 * After an absent worker's hand-over, its sets not claimed again are looked at every second
 * from 2 s on, for 20 s: a retried attempt the server gave to one of the absent worker's
 * open polls (its Temporal identity) is failed again, by id, instead of waiting for the
 * heartbeat timeout. Not after a killed worker's: its polls ended with its process.
 */
const STRANDED_FIRST_MS = 2000;
const STRANDED_EVERY_MS = 1000;
const STRANDED_FOR_MS = 20_000;
const STRANDED_WIDTH = 20;

/** Unique per process: a restarted worker hands its former self's watches over like any absent worker's. */
export const newWorkerId = (): string => `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
/** The worker's Temporal identity (the SDK's default form, pid@host), which the server records on the attempts it hands it. */
export const temporalIdentityOf = (workerId: string): string => {
  const [host, pid] = workerId.split('/');
  return `${pid}@${host}`;
};

export interface StrandedAttempt {
  workflowId: string;
  runId: string;
  activityId: string;
}

export interface HandoverDeps {
  claims: Pick<WatchClaimStore, 'absent' | 'release' | 'forget' | 'claimedBy' | 'unclaimed'>;
  /** This worker's own presence: how long it holds its lock decides whether others' free locks count. */
  presence: Pick<Presence, 'lockHeldSince'>;
  /** Fails an activity attempt (the Temporal client's activity.fail). */
  fail(taskToken: Uint8Array, failure: Error): Promise<void>;
  /** The set's watch attempt the server handed to this Temporal identity and that runs there now, if any. */
  strandedOn(workflowId: string, identity: string): Promise<StrandedAttempt | null>;
  /** Fails the activity's current attempt, whoever holds it. */
  failById(attempt: StrandedAttempt, failure: Error): Promise<void>;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** Watches here, until their retried attempts come, the sets of a worker being handed over (activities/control/watch-interim.ts). */
  watchMeanwhile?(setIds: string[]): void;
}

/** temporal.api.enums.v1.PendingActivityState: handed to a worker's poll. */
const PENDING_ACTIVITY_STATE_STARTED = 2;

/** The hand-over's Temporal side, on the worker's client. */
export function temporalHandoverDeps(client: Client): Pick<HandoverDeps, 'fail' | 'strandedOn' | 'failById'> {
  return {
    fail: (token, failure) => client.activity.fail(token, failure),
    async strandedOn(workflowId, identity) {
      const d = await client.workflow.getHandle(workflowId).describe();
      if (d.status.name !== 'RUNNING') return null;
      const a = d.raw.pendingActivities?.find((p) => p.activityType?.name === 'watchSet' && Number(p.state) === PENDING_ACTIVITY_STATE_STARTED && p.lastWorkerIdentity === identity);
      return a?.activityId ? { workflowId, runId: d.runId, activityId: a.activityId } : null;
    },
    failById: (a, failure) => client.activity.fail(a, failure),
  };
}

export function startWatchHandover(workerId: string, deps: HandoverDeps, o: { everyMs?: number; absentAfterMs?: number; strandedFirstMs?: number; strandedEveryMs?: number } = {}): { stop(): Promise<void> } {
  const everyMs = o.everyMs ?? PRESENT_EVERY_MS;
  const strandedFirstMs = o.strandedFirstMs ?? STRANDED_FIRST_MS;
  const strandedEveryMs = o.strandedEveryMs ?? STRANDED_EVERY_MS;
  const absentAfterMs = o.absentAfterMs ?? ABSENT_AFTER_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  /** Gone workers' sets still looked at for attempts stranded on them (STRANDED_*). */
  const strandedChecks: { worker: string; failure: Error; claims: Pick<WatchClaim, 'setId' | 'workflowId'>[]; next: number; until: number; said: string }[] = [];

  const failStranded = async (check: (typeof strandedChecks)[number]) => {
    const claimedBy = await deps.claims.claimedBy(check.claims.map((c) => c.setId));
    // Claimed again (by a live worker, or by the absent one come back): its attempt runs.
    // Otherwise it may still be starting, or be stranded.
    check.claims = check.claims.filter((c) => !claimedBy.has(c.setId));
    const identity = temporalIdentityOf(check.worker);
    let failed = 0;
    for (let i = 0; i < check.claims.length; i += STRANDED_WIDTH) {
      await Promise.all(
        check.claims.slice(i, i + STRANDED_WIDTH).map(async (c) => {
          const stranded = await deps.strandedOn(c.workflowId, identity).catch(() => null);
          if (stranded && (await deps.failById(stranded, check.failure).then(() => true, () => false))) failed++;
        }),
      );
    }
    if (failed) deps.log.info({ worker: check.worker, watches: failed }, check.said);
  };

  const handOver = async (worker: string, gone: GoneWorker) => {
    const started = Date.now();
    const why = gone.why === 'absent' ? `was absent for ${absentAfterMs / 1000} s` : 'ended its registry session';
    const failure = ApplicationFailure.retryable(`orchestrator worker ${worker} ${why}: its watch is handed to a live worker`, 'WorkerAbsent');
    // An attempt the worker took and died before claiming (its claim is written beside its
    // first poll) is in no claim: it would wait for the heartbeat timeout. It is among the sets
    // no attempt claims before this worker's claims are released, looked at from now on.
    const unclaimed = (await deps.claims.unclaimed()).map((setId) => ({ setId, workflowId: monitorWorkflowId(setId) }));
    if (unclaimed.length) strandedChecks.push({ worker, failure, claims: unclaimed, next: Date.now(), until: Date.now() + STRANDED_FOR_MS, said: 'gone worker: watches it took and never claimed failed' });
    // Watched here from now, not once its attempts are failed (a thousand take a second or
    // two): a set whose attempt had already moved on is let go when its new attempt claims it.
    deps.watchMeanwhile?.(gone.claims.map((c) => c.setId));
    for (let i = 0; i < gone.claims.length; i += FAIL_WIDTH) {
      const chunk = gone.claims.slice(i, i + FAIL_WIDTH);
      // An attempt that already ended (or was retried) is refused by the server: nothing to hand over.
      await Promise.all(chunk.map((c) => deps.fail(c.taskToken, failure).catch(() => undefined)));
      await deps.claims.release(chunk);
    }
    await deps.claims.forget(worker, absentAfterMs);
    if (gone.why === 'absent') strandedChecks.push({ worker, failure, claims: gone.claims, next: Date.now() + strandedFirstMs, until: Date.now() + STRANDED_FOR_MS, said: 'absent worker: retried watches its open polls took failed again' });
    deps.log.info({ worker, why: gone.why, watches: gone.claims.length, ms: Date.now() - started }, 'gone worker: its watches handed over');
  };

  const tick = async () => {
    for (const [worker, gone] of await deps.claims.absent(absentAfterMs, deps.presence.lockHeldSince())) if (worker !== workerId) await handOver(worker, gone);
    for (const check of [...strandedChecks]) {
      if (Date.now() < check.next) continue;
      await failStranded(check);
      check.next = Date.now() + strandedEveryMs;
      if (check.claims.length === 0 || Date.now() >= check.until) strandedChecks.splice(strandedChecks.indexOf(check), 1);
    }
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
    },
  };
}
