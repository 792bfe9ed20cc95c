// A dead worker's sets, watched at once by the survivor that hands them over (issue 17). The
// hand-over fails the dead worker's attempts in a second or two, but the Temporal server
// then hands the retried attempts out a few hundred a second: at 1,000 sets the last ones
// started 5–10 s after the kill, their sets unread meanwhile. The survivor polls each of
// those sets here from the moment it hands them over, with the watch's own poller
// (set-poller.ts): health is read, judged and stored as before, and a source seen down is
// remembered. An interim watch does not act: the attempt that arrives on this worker takes
// its poller over and decides at its first poll (a source down long enough fails over then);
// one whose attempt was claimed by another worker stops; none outlives FOR_MS.
import { createSetPoller, type SetPoller } from './set-poller';
import type { WatchDeps } from './watch';

/** Long enough for a thousand retried attempts to reach their workers; a set whose attempt never comes (its workflow ended) is let go. */
const FOR_MS = 30_000;
/** How often the interim watches look whether another worker claimed their sets. */
const CLAIMS_EVERY_MS = 1000;

export interface InterimOptions {
  /** This worker's id in the registry's claims. */
  workerId: string;
  /** Which worker claims each set now (registry/watch-claims.ts). */
  claimedBy(setIds: string[]): Promise<Map<string, string>>;
  /** The watch's defaults (lib/schemas.ts watchInput): the interim knows no workflow's input. */
  pollSeconds: number;
  leaseSeconds: number;
  forMs?: number;
  claimsEveryMs?: number;
  log: { warn(o: object, msg: string): void };
}

interface Interim {
  poller: SetPoller;
  stop(): void;
  done: Promise<void>;
  /** Ended on its own (dissolved, membership changed, claimed elsewhere, timed out): its poller is closed. */
  ended: boolean;
}

export type InterimWatches = ReturnType<typeof createInterimWatches>;

export function createInterimWatches(deps: WatchDeps, o: InterimOptions) {
  const forMs = o.forMs ?? FOR_MS;
  const running = new Map<string, Interim>();
  /** Sets whose attempt runs on this worker: never watched twice. */
  const owned = new Set<string>();
  let claimsTimer: NodeJS.Timeout | undefined;

  const watch = (setId: string): Interim => {
    const poller = createSetPoller(deps, setId, { sourceDownSince: null, relaysDownSince: {} });
    let stopped = false;
    let interrupt: (() => void) | undefined;
    // Resolved early by stop(): the poller's rest ends at once.
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        interrupt = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const interim: Interim = {
      poller,
      stop() {
        stopped = true;
        interrupt?.();
      },
      ended: false,
      done: Promise.resolve(),
    };
    interim.done = (async () => {
      const until = Date.now() + forMs;
      let expected: string | null = null;
      try {
        while (!stopped && Date.now() < until) {
          const p = await poller.poll(expected);
          // Its workflow acts on what changed when its attempt comes; nothing to keep watching here.
          if (p.kind !== 'polled') break;
          expected = p.membership;
          await poller.store(p.readable, o.leaseSeconds);
          if (stopped) return;
          await poller.rest(o.pollSeconds, sleep);
        }
      } catch (err) {
        o.log.warn({ setId, err: (err as Error).message }, 'interim watch of a handed-over set failed');
      }
      if (stopped) return;
      interim.ended = true;
      if (running.get(setId) === interim) running.delete(setId);
      await poller.close();
    })();
    return interim;
  };

  /** Interim watches whose sets a live worker's attempt claimed: that worker watches them. */
  const checkClaims = async () => {
    const ids = [...running.keys()];
    if (ids.length === 0) return;
    const claimedBy = await o.claimedBy(ids).catch(() => new Map<string, string>());
    for (const id of ids) {
      const by = claimedBy.get(id);
      const interim = running.get(id);
      if (!interim || by === undefined || by === o.workerId) continue;
      running.delete(id);
      interim.stop();
      void interim.done.then(() => interim.poller.close());
    }
  };
  const scheduleClaims = () => {
    if (claimsTimer || running.size === 0) return;
    claimsTimer = setTimeout(() => {
      void checkClaims().finally(() => {
        claimsTimer = undefined;
        scheduleClaims();
      });
    }, o.claimsEveryMs ?? CLAIMS_EVERY_MS);
  };

  return {
    /** The sets of a worker just handed over: each watched here until its attempt comes. */
    start(setIds: string[]): void {
      for (const id of setIds) if (!running.has(id) && !owned.has(id)) running.set(id, watch(id));
      scheduleClaims();
    },

    /** An attempt for the set starts on this worker: the interim watch's poller, if one runs, is its own now. */
    async take(setId: string): Promise<SetPoller | undefined> {
      owned.add(setId);
      const interim = running.get(setId);
      if (!interim) return undefined;
      running.delete(setId);
      interim.stop();
      await interim.done;
      return interim.ended ? undefined : interim.poller;
    },

    /** The set's attempt on this worker ended. */
    release(setId: string): void {
      owned.delete(setId);
    },

    /** How many sets are watched here for now. */
    get size(): number {
      return running.size;
    },

    async stop(): Promise<void> {
      clearTimeout(claimsTimer);
      const all = [...running.values()];
      running.clear();
      for (const i of all) i.stop();
      await Promise.all(
        all.map(async (i) => {
          await i.done;
          await i.poller.close();
        }),
      );
    },
  };
}
