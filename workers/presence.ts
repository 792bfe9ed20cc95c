// The worker's presence in the registry (registry/watch-claims.ts), beaten on a thread of its
// own. On the main thread the beat waited for turns of an event loop busy with a thousand
// sets' polls: at 1,000 sets, with the machine loaded, a live worker missed its beats for 2 s,
// the other worker took it for absent and failed all its watches' attempts (issue 17's
// bench, session 19). The thread's beat shows the process is alive and scheduled; whether its
// main thread still works is the ping's: the thread stops beating when the main thread has
// not pinged it for stallMs (hung, not only busy), so a hung worker's watches are still
// handed over, before the watch's heartbeat timeout would.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RegistryConnection } from '../registry/db';

export const PRESENT_EVERY_MS = 400;
/** Longer than any turn of a busy event loop measured (1.3 s), far shorter than the watch's heartbeat timeout (150 s). */
export const MAIN_STALL_MS = 10_000;
/** A thread that died is started again after this (its worker is judged absent meanwhile only if it stays down 2 s). */
const RESTART_AFTER_MS = 500;

export interface PresenceThreadData {
  workerId: string;
  connection: RegistryConnection;
  everyMs: number;
  stallMs: number;
}
export type ToPresenceThread = { kind: 'ping' } | { kind: 'leave' };
/** A beat's outcome: written (error absent), failed, or not tried because the main thread stalled. */
export interface PresenceBeat {
  kind: 'beat';
  at: number;
  /** Since when the thread's session holds the worker's lock (null: it does not). */
  since: number | null;
  error?: string;
  stalled?: boolean;
}

export interface Presence {
  /** Since when this worker holds its lock in the registry (the hand-over's judge: registry/watch-claims.ts absent). */
  lockHeldSince(): number | null;
  /** The lock is released and the thread ends: the other workers see this one gone at once. */
  leave(): Promise<void>;
}

export interface PresenceOptions {
  everyMs?: number;
  stallMs?: number;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** Each beat as the thread reports it (tests). */
  onBeat?(beat: PresenceBeat): void;
}

const THREAD = path.join(__dirname, 'presence-thread.ts');

export function startPresence(workerId: string, connection: RegistryConnection, o: PresenceOptions): Presence {
  const data: PresenceThreadData = { workerId, connection, everyMs: o.everyMs ?? PRESENT_EVERY_MS, stallMs: o.stallMs ?? MAIN_STALL_MS };
  let since: number | null = null;
  let leaving = false;
  // Said once when beats start failing and once when they succeed again, not every beat.
  let failing = false;
  let thread: Worker;
  /** The thread started last has not ended (a dead one waits RESTART_AFTER_MS for its successor). */
  let running = false;
  /** A thread ended unasked and none has beaten since: said once, not at every restart. */
  let restarting = false;

  const start = () => {
    // The thread runs TypeScript like the rest of the worker: tsx registered in it first.
    thread = new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(THREAD)});`, { eval: true, workerData: data });
    running = true;
    thread.on('message', (beat: PresenceBeat) => {
      since = beat.since;
      restarting = false;
      o.onBeat?.(beat);
      if (beat.error && !failing) o.log.warn({ err: beat.error }, 'presence: registry not reachable');
      else if (!beat.error && !beat.stalled && failing) o.log.info({}, 'presence: registry reachable again');
      if (!beat.stalled) failing = Boolean(beat.error);
    });
    thread.on('error', (err) => restarting || o.log.warn({ err: err.message }, 'presence thread failed'));
    thread.on('exit', (code) => {
      running = false;
      since = null;
      if (leaving) return;
      if (!restarting) o.log.warn({ code }, 'presence thread ended: started again');
      restarting = true;
      setTimeout(() => leaving || start(), RESTART_AFTER_MS);
    });
  };
  start();
  const pings = setInterval(() => thread.postMessage({ kind: 'ping' } satisfies ToPresenceThread), data.everyMs);

  return {
    lockHeldSince: () => since,
    async leave() {
      leaving = true;
      clearInterval(pings);
      if (!running) return;
      const ended = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      thread.postMessage({ kind: 'leave' } satisfies ToPresenceThread);
      const timer = setTimeout(() => void thread.terminate(), 5000);
      await ended;
      clearTimeout(timer);
    },
  };
}
