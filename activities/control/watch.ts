// watchSet: the frequent polling of a replication set, inside one long-running activity on
// the orchestrator. Every poll reads the set from the registry, probes each member (the
// orchestrator's own path), reads each member's replication status with its monitoring
// account, and judges the poll (lib/monitor-poll.ts, the same judgement the 0.1.0 loop
// makes). Heartbeats are not history events: the activity completes only when the workflow
// must act (a failover, a relay to recover, upkeep, the set changed or dissolved) or at the
// checkpoint. Health is written to the registry when it changes, and with a lease renewed
// slowly otherwise (registry/health.ts shows vouched health as current).
import { Context } from '@temporalio/activity';
import type { SetView } from '../registry/views';
import type { DeadRelay } from '../../lib/dead-relays';
import type { AutoFailoverDecision } from '../../lib/failover';
import { nextPollDelayMs } from '../../lib/failover';
import { healthChanged, judgePoll, membershipKey, phasedDelayMs, semiSyncKey, setMembers, type MemberStatus, type PollMemory, type SemiSyncFix } from '../../lib/monitor-poll';
import { healthKeepsLink } from '../../lib/health';
import { healthRole } from '../../lib/pair-failover';
import type { MemberHealth } from '../../lib/schemas';
import { certificateWatch, type CertificateRenewalDeps } from './certificate-watch';

export interface WatchTarget {
  instanceId: string;
  address: string;
  port: number;
  /**
   * false: the member's own replication is not part of its health (a set's source, not a
   * pair's), so its reads skip SHOW SLAVE STATUS (~55 column definitions an answer, most of a
   * read's parsing). Absent: read as a replica.
   */
  link?: boolean;
}

/** What the watch needs of the world: the real one (createWatchActivities) or the tests' fakes. */
export interface WatchDeps {
  /** urgent (both reads): a poll a failover may hang on, which does not wait to be batched with other sets'. */
  describeSet(setId: string, urgent?: boolean): Promise<SetView | undefined>;
  /** Which members have a ready monitoring account, and its sealed password. */
  monitorCredentials(instanceIds: string[], urgent?: boolean): Promise<Record<string, { sealedPassword: string | null; ready: boolean }>>;
  probe(targets: WatchTarget[]): Promise<Record<string, { reachable: boolean }>>;
  /**
   * A reader of members' status that may keep connections between polls; closed when the watch
   * ends. lost: a member closed a kept connection (its server died): the watch polls at once.
   */
  statusReader(lost?: (instanceId: string) => void): { read(target: WatchTarget, sealedPassword: string): Promise<MemberStatus>; close(): Promise<void> };
  storeHealth(setId: string, health: MemberHealth[], confirmedUntil: Date): Promise<void>;
  /**
   * This attempt runs the set's watch on this worker (workers/watch-handover.ts: if the worker
   * goes absent, a survivor fails the attempt by its task token and the retry runs elsewhere).
   */
  claim?(setId: string, attempt: { workflowId: string; taskToken: Uint8Array }): Promise<void>;
  release?(setId: string, taskToken: Uint8Array): Promise<void>;
  /** TLS sets: when members' certificates come due for renewal (absent: never looked at). */
  certificateRenewal?: CertificateRenewalDeps;
  /** Every poll as judged (the worker's metrics): polls are heartbeats, so no activity reports them. */
  polled?(poll: { setId: string; health: MemberHealth[]; probed: number; probeSeconds: number }): void;
}

export interface WatchInput {
  setId: string;
  pollSeconds: number;
  /** The set as the workflow last saw it (membershipKey); null: what the first poll finds. */
  membership: string | null;
  memory: PollMemory;
  /**
   * Per member and role (`<instanceId>/<role>`): no wake-up to set that role before this (just
   * asked; a member that refuses is not asked every poll). Another role is asked at once.
   */
  semiSyncQuietUntil?: Record<string, string>;
  /** Members the workflow shows; the first poll that reads another one completes. */
  shown?: string[];
  /** Per member: no wake-up to make its monitoring account before this (just tried). Absent: none tried. */
  accountsQuietUntil?: Record<string, string>;
  /** No wake-up to renew certificates before this (a renewal was just started). */
  renewalQuietUntil?: string;
  /** Complete after this long even if nothing happened (the workflow's checkpoint). */
  checkpointSeconds: number;
  /** Health unchanged is written again after this long, vouched for this long and half again. */
  leaseSeconds: number;
}

interface Seen {
  health: MemberHealth[];
  decision: AutoFailoverDecision | null;
  memory: PollMemory;
  membership: string;
}

export type WatchOutcome =
  | { kind: 'dissolved' }
  | ({ kind: 'checkpoint' } & Seen)
  | ({ kind: 'membership' } & Seen)
  /** A member the workflow does not show yet is read now (its account was just made): the Web UI shows it once. */
  | ({ kind: 'read' } & Seen)
  | ({ kind: 'failover'; view: SetView; observedAt: string } & Seen)
  | ({ kind: 'relays'; view: SetView; dead: DeadRelay[]; observedAt: string } & Seen)
  | ({ kind: 'upkeep'; semiSyncFixes: SemiSyncFix[]; accounts: { instanceId: string; novaServerId: string }[]; certificatesDue?: string[] } & Seen);

/** The least time between the starts of two polls when a lost connection wakes the watch. */
const WOKEN_POLL_GAP_MS = 200;

/**
 * The watch heartbeats on a clock of its own, not once per poll: a poll with a hung member
 * (a read's 1 s, a probe's 1.5 s) or a starved worker starting many watches at once must not
 * outlast the heartbeat timeout and have a live watch retried elsewhere. A fifth of the
 * timeout (30 s of 150 s), and when the judgement's memory changes (a retry resumes from
 * it). The SDK sends them to the server 80 % of the timeout apart (120 s, the worker's
 * throttle), the last one given in that time: a memory change may reach the server up to
 * then. A dead worker's watch is handed over by the survivors within seconds
 * (workers/watch-handover.ts), not by this timeout. Each call costs the worker an encoding
 * of the details (the payload codec), sent or not: at 1,000 sets every 5 s, 200 a second.
 */
const HEARTBEAT_EVERY_MS = 30_000;

/** How often a member that answers its reads is also probed with a fresh connection. */
const PROBE_EVERY_MS = 5000;
type Read = { status: MemberStatus } | { error: { code?: string } } | null;

export function createWatchActivities(deps: WatchDeps) {
  return {
    async watchSet(input: WatchInput): Promise<WatchOutcome> {
      const ctx = Context.current();
      // A retry (the worker died) resumes the judgement where the last heartbeat left it.
      let memory: PollMemory = (ctx.info.heartbeatDetails as { memory?: PollMemory } | undefined)?.memory ?? input.memory;
      const started = Date.now();
      // Claimed beside the first poll, not before it (a worker taking over hundreds of sets
      // claims them in a few batches); a claim that failed is tried again at the next poll.
      const attempt = { workflowId: ctx.info.workflowExecution?.workflowId ?? '', taskToken: ctx.info.taskToken };
      let claimed = !deps.claim;
      let claiming: Promise<void> | null = null;
      const claim = () => {
        claiming ??= deps.claim!(input.setId, attempt).then(
          () => void (claimed = true),
          () => void (claiming = null),
        );
      };
      // First sent by the clock below, not at once: a survivor starting a dead worker's thousand
      // watches sent a thousand heartbeats to the server while it was handing them out. The
      // details a retry resumes from stay at the server until this attempt sends its own.
      let details: { memory: PollMemory; observedAt?: string } = { memory };
      let beatMemory = JSON.stringify(memory);
      // A member's server that dies closes the connection the reader keeps to it: the next poll
      // comes then, not up to a poll interval later (issue 17, detection). An extra look only:
      // the judgement, and so failover_after and the replicas' agreement, are unchanged.
      // A loss during a poll is kept for the sleep after it.
      let lost = false;
      let wake: (() => void) | undefined;
      /** A poll waiting for its view in a batch when a connection is lost: read it alone now. */
      let hurry: (() => void) | undefined;
      const reader = deps.statusReader(() => {
        lost = true;
        wake?.();
        hurry?.();
      });
      const certificates = certificateWatch(deps.certificateRenewal);
      // A member's monitoring secret is written once and its account, once ready, stays ready
      // (registry/monitor-accounts.ts): only members not yet seen ready are asked again, so a
      // healthy set's polls read no credentials at all.
      const ready = new Map<string, { sealedPassword: string | null; ready: boolean }>();
      const credentials = async (ids: string[], urgent: boolean) => {
        const unknown = ids.filter((id) => !ready.has(id));
        const read = unknown.length ? await deps.monitorCredentials(unknown, urgent) : {};
        for (const id of unknown) if (read[id]?.ready && read[id].sealedPassword) ready.set(id, read[id]);
        return Object.fromEntries(ids.map((id) => [id, ready.get(id) ?? read[id]]).filter(([, c]) => c !== undefined)) as Awaited<ReturnType<WatchDeps['monitorCredentials']>>;
      };
      let expected = input.membership;
      let written: MemberHealth[] | null = null;
      let writtenAt = 0;
      let probed = 0;
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
      let inFlight: Promise<unknown> | null = null;
      // Cleared in the finally below, whatever ends the watch.
      const beats = setInterval(() => ctx.heartbeat(details), Math.min(HEARTBEAT_EVERY_MS, (ctx.info.heartbeatTimeoutMs || Infinity) / 5));
      try {
        let woken = false;
        for (;;) {
          const pollStarted = Date.now();
          if (!claimed) claim();
          // The look after a lost connection, and each while the source looks down, decide how
          // soon a failover starts: their registry reads are not held for the batch window.
          const urgent = woken || memory.sourceDownSince !== null;
          // A loss while a batched read waits (up to the batch window, and its turn on a busy
          // worker: ~1 s at 1,000 sets) would hold the look it wakes until this poll ends.
          const viewing = urgent
            ? deps.describeSet(input.setId, true)
            : new Promise<SetView | undefined>((resolve, reject) => {
                deps.describeSet(input.setId, false).then(resolve, reject);
                hurry = () => {
                  hurry = undefined;
                  deps.describeSet(input.setId, true).then(resolve, reject);
                };
              });
          // The members are looked at while the set's view loads (at a thousand sets each took a
          // few hundred milliseconds on a busy worker, and a detection waits on two polls): the
          // members the last poll read, which the view is then checked against (membership). Only
          // the first poll, knowing no members yet, waits for the view before it looks.
          let observedAt = new Date().toISOString();
          probed = 0;
          const known = lastTargets ? looking(lastTargets, urgent) : null;
          // A watch that ends on what the view shows (dissolved, membership) waits for these first (finally).
          inFlight = known;
          // Its failure is the poll's, thrown where it is awaited below; not unhandled meanwhile.
          known?.catch(() => undefined);
          const view = await viewing.finally(() => (hurry = undefined));
          if (!view || view.replicas.length === 0) return { kind: 'dissolved' };
          const membership = membershipKey(view);
          const members = setMembers(view);
          const seen = (health: MemberHealth[], decision: AutoFailoverDecision | null): Seen => ({ health, decision, memory, membership });
          expected ??= membership;
          if (membership !== expected) return { kind: 'membership', ...seen(written ?? [], null) };
          const denied = new Set<string>();
          const targets = members.map((m) => ({ instanceId: m.id, address: m.address!, port: m.port ?? 3306, link: healthKeepsLink(healthRole(view.topology, m.id)) }));
          if (!known) observedAt = new Date().toISOString();
          const { creds, looks, probeSeconds } = await (known ?? looking(targets, urgent));
          lastTargets = targets;
          const probes = Object.fromEntries(targets.map((t, j) => [t.instanceId, { reachable: looks[j]!.reachable }]));
          const statuses = looks.map((l) => (l.read && 'status' in l.read ? l.read.status : null));
          targets.forEach((t, j) => {
            const r = looks[j]!.read;
            // A member restored from its source's snapshot (during a build) got the source's
            // account and password: its own is made again.
            if (r && 'error' in r && r.error?.code === 'ER_ACCESS_DENIED_ERROR') denied.add(t.instanceId);
          });
          const judged = judgePoll(view, { probes, statuses: Object.fromEntries(targets.map((t, j) => [t.instanceId, statuses[j]])), observedAt }, memory);
          memory = judged.memory;
          deps.polled?.({ setId: input.setId, health: judged.health, probed, probeSeconds });
          const now = Date.now();
          // A member not read for want of its account (a replica just built) is not stored as
          // silent: its health is unknown until its account is made a moment later, and what the
          // API judges by (a promote's pre-flight) must not refuse on it.
          const readable = judged.health.filter((h) => creds[h.instanceId]?.ready && !denied.has(h.instanceId));
          // A member the workflow does not show yet (its account was just made) wakes it before the
          // health is stored, so what the Web UI shows is never behind what the registry holds.
          const quietPoll = judged.decision.action !== 'failover' && judged.relayRecoveries.length === 0;
          if (quietPoll && input.shown && readable.some((h) => !input.shown!.includes(h.instanceId))) return { kind: 'read', ...seen(readable, judged.decision) };
          // Nothing read yet (no member has its account): nothing to store.
          const somethingToStore = readable.length > 0 || written !== null;
          if (somethingToStore && (healthChanged(written, readable) || now - writtenAt >= input.leaseSeconds * 1000)) {
            await deps.storeHealth(input.setId, readable, new Date(now + input.leaseSeconds * 1500));
            written = readable;
            writtenAt = now;
          }
          details = { memory, observedAt };
          // What the workflow shows is what is stored: a member not read for want of its account is left out, not shown silent.
          const s = seen(readable, judged.decision);
          if (judged.decision.action === 'failover') return { kind: 'failover', view, observedAt, ...s };
          if (judged.relayRecoveries.length > 0) return { kind: 'relays', view, dead: judged.relayRecoveries, observedAt, ...s };
          // Accounts are made also while an operation holds the set: a replica being built gets
          // its account as soon as its server answers, so its health is read when the build ends.
          const accountDue = (id: string) => !input.accountsQuietUntil?.[id] || now >= Date.parse(input.accountsQuietUntil[id]!);
          const accounts = members.filter((m) => m.novaServerId && (!creds[m.id]?.ready || denied.has(m.id)) && accountDue(m.id)).map((m) => ({ instanceId: m.id, novaServerId: m.novaServerId! }));
          const quiet = input.semiSyncQuietUntil ?? {};
          const semiSyncFixes = judged.semiSyncFixes.filter((f) => !quiet[semiSyncKey(f)] || now >= Date.parse(quiet[semiSyncKey(f)]!));
          const renewalQuiet = input.renewalQuietUntil !== undefined && now < Date.parse(input.renewalQuietUntil);
          const certificatesDue = renewalQuiet ? [] : await certificates.due(view, now);
          if (semiSyncFixes.length > 0 || accounts.length > 0 || certificatesDue.length > 0) return { kind: 'upkeep', semiSyncFixes, accounts, ...(certificatesDue.length ? { certificatesDue } : {}), ...s };
          if (now - started >= input.checkpointSeconds * 1000) return { kind: 'checkpoint', ...s };
          // Beaten at once only by a poll the watch goes on from: a heartbeat sent just before the
          // activity completes holds its completion (the SDK waits for a heartbeat in flight), and
          // a completing poll's memory is in its result.
          const memoryNow = JSON.stringify(memory);
          if (memoryNow !== beatMemory) {
            ctx.heartbeat(details);
            beatMemory = memoryNow;
          }
          // A source that looks down is looked at again as soon as failover_after has passed, not a poll later.
          const delay = nextPollDelayMs({ pollSeconds: input.pollSeconds, failoverAfterSeconds: view.settings.failoverAfterSeconds, sourceDownSince: memory.sourceDownSince, observedAt, now: new Date().toISOString() });
          // Otherwise each set polls at its own phase of the interval: a worker's sets are spread over it, not polled in bursts.
          const slept = ctx.sleep(memory.sourceDownSince ? delay : phasedDelayMs(delay, pollStarted, Date.now(), input.pollSeconds * 1000, input.setId));
          // Cancellation still ends the watch through `slept`; once woken, its later rejection is nobody's.
          slept.catch(() => undefined);
          if (!lost) await Promise.race([slept, new Promise<void>((resolve) => (wake = resolve))]);
          wake = undefined;
          // A member that keeps accepting and dropping connections gets no more than 5 looks a second.
          if (lost) await ctx.sleep(Math.max(0, WOKEN_POLL_GAP_MS - (Date.now() - pollStarted)));
          woken = lost;
          lost = false;
        }
      } finally {
        clearInterval(beats);
        await inFlight?.catch(() => undefined);
        await reader.close();
        await claiming;
        if (claimed) await deps.release?.(input.setId, ctx.info.taskToken).catch(() => undefined);
      }
    },
  };
}

export type WatchActivities = ReturnType<typeof createWatchActivities>;
