// One set's polls and what they keep between them: the members' kept connections, which
// members have a ready monitoring account, when each was last probed, the health last
// written and the judgement's memory. The watch activity polls its set with one (watch.ts);
// so does a survivor watching a dead worker's sets until their retried attempts arrive
// (watch-interim.ts), and the attempt that arrives on it takes the poller over: its
// connections and judgement go on where they were.
import type { SetView } from '../registry/views';
import { nextPollDelayMs } from '../../lib/failover';
import { healthKeepsLink } from '../../lib/health';
import { earlierMemory, healthChanged, judgePoll, membershipKey, phasedDelayMs, setMembers, type MemberStatus, type PollJudgement, type PollMemory } from '../../lib/monitor-poll';
import { healthRole } from '../../lib/pair-failover';
import type { MemberHealth } from '../../lib/schemas';
import type { WatchDeps, WatchTarget } from './watch';

/** The least time between the starts of two polls when a lost connection wakes the watch. */
const WOKEN_POLL_GAP_MS = 200;
/** How often a member that answers its reads is also probed with a fresh connection. */
const PROBE_EVERY_MS = 5000;
/**
 * While a source looks down, its set's view is read this long before the look that may fail
 * it over: the look then waits only for the members (one round trip), not also for the view
 * (two registry round trips, each waiting a turn of a busy worker's event loop: up to ~1 s at
 * 1,000 sets). The decision is made on a view at most this much older; the eject it starts
 * checks the set again under its lock.
 */
const VIEW_AHEAD_MS = 500;

type Credentials = Awaited<ReturnType<WatchDeps['monitorCredentials']>>;
type Read = { status: MemberStatus } | { error: { code?: string } } | null;

export type PollResult =
  | { kind: 'dissolved' }
  /** The view differs from the membership expected: the members were not looked at. */
  | { kind: 'membership'; membership: string }
  | {
      kind: 'polled';
      view: SetView;
      membership: string;
      observedAt: string;
      judged: PollJudgement;
      creds: Credentials;
      /** Members whose account was refused (a replica restored from its source's snapshot got the source's password). */
      denied: Set<string>;
      /**
       * The health stored and shown: a member not read for want of its account (a replica just
       * built) is left out, not shown silent; what the API judges by (a promote's pre-flight)
       * must not refuse on it.
       */
      readable: MemberHealth[];
    };

export type SetPoller = ReturnType<typeof createSetPoller>;

export function createSetPoller(deps: WatchDeps, setId: string, initial: PollMemory) {
  let memory = initial;
  // A member's server that dies closes the connection the reader keeps to it: the next poll
  // comes then, not up to a poll interval later (issue 17, detection). An extra look only:
  // the judgement, and so failover_after and the replicas' agreement, are unchanged.
  // A loss during a poll is kept for the sleep after it.
  let lost = false;
  let woken = false;
  let wake: (() => void) | undefined;
  /** A poll waiting for its view in a batch when a connection is lost: read it alone now. */
  let hurry: (() => void) | undefined;
  const reader = deps.statusReader(() => {
    lost = true;
    wake?.();
    hurry?.();
  });
  // A member's monitoring secret is written once and its account, once ready, stays ready
  // (registry/monitor-accounts.ts): only members not yet seen ready are asked again, so a
  // healthy set's polls read no credentials at all.
  const ready = new Map<string, { sealedPassword: string | null; ready: boolean }>();
  const credentials = async (ids: string[], urgent: boolean): Promise<Credentials> => {
    const unknown = ids.filter((id) => !ready.has(id));
    const read = unknown.length ? await deps.monitorCredentials(unknown, urgent) : {};
    for (const id of unknown) if (read[id]?.ready && read[id].sealedPassword) ready.set(id, read[id]);
    return Object.fromEntries(ids.map((id) => [id, ready.get(id) ?? read[id]]).filter(([, c]) => c !== undefined)) as Credentials;
  };
  let written: MemberHealth[] | null = null;
  let writtenAt = 0;
  let probed = 0;
  /** The last poll that looked: its start, what it saw of the set, and when. */
  let pollStarted = 0;
  let last: { view: SetView; observedAt: string } | null = null;
  /** Members whose last look failed (read or probe): probed every poll, while they are read, as the 0.1.0 monitor did. */
  const suspects = new Set<string>();
  /** When each member was last probed: the others are probed every PROBE_EVERY_MS. */
  const probedAt = new Map<string, number>();
  /**
   * One member looked at. A read answering on the kept connection shows the member answers,
   * but not that the orchestrator can still open a connection to it (a path cut for new
   * connections only, or a server refusing them): that is the probe's, a fresh TCP
   * connection and greeting, made every PROBE_EVERY_MS per member rather than every poll
   * (a thousand sets' probes were most of the worker's CPU), and every poll for a member
   * whose read or probe failed (a hung member costs one read timeout once). The probe
   * decides reachability when it runs; between probes a member that answers is reachable.
   */
  const look = async (t: WatchTarget, c: { sealedPassword: string | null; ready: boolean } | undefined): Promise<{ reachable: boolean; read: Read }> => {
    const probe = async () => {
      probed++;
      probedAt.set(t.instanceId, Date.now());
      return (await deps.probe([t]))[t.instanceId]?.reachable ?? false;
    };
    if (!c?.ready || !c.sealedPassword) return { reachable: await probe(), read: null };
    const reading: Promise<Read> = reader.read(t, c.sealedPassword).then(
      (status) => ({ status }),
      (error: { code?: string }) => ({ error }),
    );
    // A member's first read opens its connection, on the probe's path: answered, it counts as
    // the probe (a watch that starts, hundreds at once on a worker taking over a dead one's
    // sets, does not open every connection twice).
    const first = !probedAt.has(t.instanceId);
    const due = suspects.has(t.instanceId) || (!first && Date.now() - probedAt.get(t.instanceId)! >= PROBE_EVERY_MS);
    const early = due ? probe() : null;
    const read = await reading;
    const ok = Boolean(read && 'status' in read);
    if (first && ok) probedAt.set(t.instanceId, Date.now());
    const reachable = early ? await early : ok || (await probe());
    if (ok && reachable) suspects.delete(t.instanceId);
    else suspects.add(t.instanceId);
    return { reachable, read };
  };
  /** Every member looked at together, with the credentials to read it. */
  const looking = async (targets: WatchTarget[], urgent: boolean) => {
    const creds = await credentials(targets.map((t) => t.instanceId), urgent);
    const probeStarted = Date.now();
    const looks = await Promise.all(targets.map((t) => look(t, creds[t.instanceId])));
    return { creds, looks, probeSeconds: (Date.now() - probeStarted) / 1000 };
  };
  /** The members the last poll looked at: the next poll looks at them while the view loads. */
  let lastTargets: WatchTarget[] | null = null;
  /** The view read ahead of the next look (VIEW_AHEAD_MS). */
  let ahead: Promise<SetView | undefined> | null = null;
  let inFlight: Promise<unknown> | null = null;

  return {
    get memory(): PollMemory {
      return memory;
    },
    /**
     * Taken over by a retried attempt, whose last heartbeat remembers what the dead worker's
     * attempt saw: a source or relay seen down by both is down since the earlier look.
     */
    resume(beaten: PollMemory): void {
      memory = earlierMemory(memory, beaten);
    },
    /** The health last stored (null: none yet). */
    get written(): MemberHealth[] | null {
      return written;
    },

    /** expected: the membership the caller knows (null: whatever this poll finds). */
    async poll(expected: string | null): Promise<PollResult> {
      pollStarted = Date.now();
      // The look after a lost connection, and each while the source looks down, decide how
      // soon a failover starts: their registry reads are not held for the batch window.
      const urgent = woken || memory.sourceDownSince !== null;
      // A loss while a batched read waits (up to the batch window, and its turn on a busy
      // worker: ~1 s at 1,000 sets) would hold the look it wakes until this poll ends.
      const batched = () =>
        new Promise<SetView | undefined>((resolve, reject) => {
          deps.describeSet(setId, false).then(resolve, reject);
          hurry = () => {
            hurry = undefined;
            deps.describeSet(setId, true).then(resolve, reject);
          };
        });
      const viewing = ahead ?? (urgent ? deps.describeSet(setId, true) : batched());
      ahead = null;
      // The members are looked at while the set's view loads (at a thousand sets each took a
      // few hundred milliseconds on a busy worker, and a detection waits on two polls): the
      // members the last poll read, which the view is then checked against (membership). Only
      // the first poll, knowing no members yet, waits for the view before it looks.
      let observedAt = new Date().toISOString();
      probed = 0;
      const known = lastTargets ? looking(lastTargets, urgent) : null;
      // A poller closed on what the view shows (dissolved, membership) waits for these first (close).
      inFlight = known;
      // Its failure is the poll's, thrown where it is awaited below; not unhandled meanwhile.
      known?.catch(() => undefined);
      const view = await viewing.finally(() => (hurry = undefined));
      if (!view || view.replicas.length === 0) return { kind: 'dissolved' };
      const membership = membershipKey(view);
      if (expected !== null && membership !== expected) return { kind: 'membership', membership };
      const members = setMembers(view);
      const targets = members.map((m) => ({ instanceId: m.id, address: m.address!, port: m.port ?? 3306, link: healthKeepsLink(healthRole(view.topology, m.id)) }));
      if (!known) observedAt = new Date().toISOString();
      const { creds, looks, probeSeconds } = await (known ?? looking(targets, urgent));
      lastTargets = targets;
      last = { view, observedAt };
      const denied = new Set<string>();
      const statuses = Object.fromEntries(targets.map((t, j) => {
        const r = looks[j]!.read;
        // A member restored from its source's snapshot (during a build) got the source's
        // account and password: its own is made again.
        if (r && 'error' in r && r.error?.code === 'ER_ACCESS_DENIED_ERROR') denied.add(t.instanceId);
        return [t.instanceId, r && 'status' in r ? r.status : null];
      }));
      const probes = Object.fromEntries(targets.map((t, j) => [t.instanceId, { reachable: looks[j]!.reachable }]));
      const judged = judgePoll(view, { probes, statuses, observedAt }, memory);
      memory = judged.memory;
      deps.polled?.({ setId, health: judged.health, probed, probeSeconds });
      const readable = judged.health.filter((h) => creds[h.instanceId]?.ready && !denied.has(h.instanceId));
      return { kind: 'polled', view, membership, observedAt, judged, creds, denied, readable };
    },

    /** The health, written when it changed and again every leaseSeconds, vouched for half as long again. */
    async store(readable: MemberHealth[], leaseSeconds: number): Promise<void> {
      const now = Date.now();
      // Nothing read yet (no member has its account): nothing to store.
      if (readable.length === 0 && written === null) return;
      if (!healthChanged(written, readable) && now - writtenAt < leaseSeconds * 1000) return;
      await deps.storeHealth(setId, readable, new Date(now + leaseSeconds * 1500));
      written = readable;
      writtenAt = now;
    },

    /**
     * Until the next poll: the interval at the set's own phase (a worker's sets spread over it,
     * not polled in bursts), sooner once failover_after has passed for a source that looks
     * down, and at once (but for a short gap) when a member's connection is lost.
     * sleep: the owner's (an activity's is cancelled with it).
     */
    async rest(pollSeconds: number, sleep: (ms: number) => Promise<void>): Promise<void> {
      const delay = last ? nextPollDelayMs({ pollSeconds, failoverAfterSeconds: last.view.settings.failoverAfterSeconds, sourceDownSince: memory.sourceDownSince, observedAt: last.observedAt, now: new Date().toISOString() }) : pollSeconds * 1000;
      const ms = memory.sourceDownSince ? delay : phasedDelayMs(delay, pollStarted, Date.now(), pollSeconds * 1000, setId);
      // The look this rest waits for is the one that may fail the set over: it must come once
      // failover_after has passed, not a few milliseconds short of it (judged "wait", it would
      // look again 200 ms later). A timer fires by the event loop's clock, which lags the wall
      // clock by the turn that set it: on a busy worker tens of milliseconds early.
      const windowEnds = memory.sourceDownSince && last ? Date.parse(memory.sourceDownSince) + last.view.settings.failoverAfterSeconds * 1000 : null;
      const failoverLookAt = windowEnds !== null && windowEnds <= Date.now() + ms ? windowEnds : null;
      const slept = sleep(ms);
      // Cancellation still ends the owner through `slept`; once woken, its later rejection is nobody's.
      slept.catch(() => undefined);
      const reading = memory.sourceDownSince
        ? setTimeout(() => {
            ahead = deps.describeSet(setId, true);
            // Its failure is the next poll's, where it is awaited.
            ahead.catch(() => undefined);
          }, Math.max(0, ms - VIEW_AHEAD_MS))
        : undefined;
      try {
        if (!lost) await Promise.race([slept, new Promise<void>((resolve) => (wake = resolve))]);
      } finally {
        clearTimeout(reading);
      }
      wake = undefined;
      while (!lost && failoverLookAt !== null && Date.now() < failoverLookAt) await sleep(failoverLookAt - Date.now() + 1);
      // A member that keeps accepting and dropping connections gets no more than 5 looks a second.
      if (lost) await sleep(Math.max(0, WOKEN_POLL_GAP_MS - (Date.now() - pollStarted)));
      woken = lost;
      lost = false;
    },

    /** Waits for a poll's looks still in flight, then closes the members' connections. */
    async close(): Promise<void> {
      await inFlight?.catch(() => undefined);
      await reader.close();
    },
  };
}
