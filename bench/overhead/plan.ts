// The pure parts of the orchestration-overhead section: how much it measures, and the floor
// its latency is held against. Pinned down by test/unit/bench-overhead.test.ts.
import type { RoundTrips } from './history';

/** The target: median latency within this many times (round trips x one empty activity). */
export const TARGET_FACTOR = 1.5;

export interface OverheadPlan {
  /** Concurrent operations measured. */
  levels: number[];
  /** Operations each of the C clients runs back to back, per run. */
  opsPerClient: Record<number, number>;
  /** Empty activities per yardstick workflow. */
  emptyCount: number;
  /** Unmeasured operations first (code paths, connections, caches). */
  warmup: number;
}

/** What a run measures: at least 20 single operations in all (10 quick), as many runs as asked. */
export function overheadPlan(o: { quick: boolean; runs: number }): OverheadPlan {
  const minSingle = o.quick ? 10 : 20;
  return {
    levels: [1, 10, 50],
    opsPerClient: {
      1: Math.max(o.quick ? 4 : 8, Math.ceil(minSingle / o.runs)),
      10: o.quick ? 2 : 4,
      50: o.quick ? 1 : 2,
    },
    emptyCount: o.quick ? 20 : 50,
    warmup: o.quick ? 2 : 3,
  };
}

export interface Floors {
  /**
   * The target's floor: every round trip x one empty activity on the workflow's own queue.
   * Steps that run concurrently count one each: each still ends in a workflow task of its
   * own, and the worker runs one workflow's tasks one at a time.
   */
  plainMs: number;
  /** The same, counting each group of concurrent steps once: a floor no schedule beats. */
  sequentialMs: number;
  /**
   * Each round trip at the cost of its kind: an activity on the orchestrator's own queue
   * as the empty activity on the workflow's queue; a guest activity, a signal and a child
   * start as the empty activity on another worker's queue (each passes through the server
   * twice before the workflow goes on). Exact only when no steps run concurrently.
   */
  byKindMs: number;
}

export function floors(trips: RoundTrips, guestActivities: number, sameQueueMs: number, otherQueueMs: number): Floors {
  const ownQueue = trips.byKind.activity - guestActivities;
  return {
    plainMs: trips.total * sameQueueMs,
    sequentialMs: trips.sequential * sameQueueMs,
    byKindMs: ownQueue * sameQueueMs + (guestActivities + trips.byKind.signal + trips.byKind.child) * otherQueueMs,
  };
}

/** Met when the median latency is within TARGET_FACTOR x the floor. */
export function targetMet(p50Ms: number, floorMs: number): boolean {
  return p50Ms <= TARGET_FACTOR * floorMs;
}

/**
 * Each run's p50 against its own floor: round trips x the mean of the empty activity measured
 * right before and right after the run (in run order). The machine drifts within minutes;
 * the two samples that bracket a run follow it better than one taken before it.
 */
export function runRatios(p50Ms: number[], beforeMs: number[], afterMs: number[], roundTrips: number): number[] {
  return p50Ms.map((p50, i) => p50 / (roundTrips * ((beforeMs[i]! + (afterMs[i] ?? beforeMs[i]!)) / 2)));
}
