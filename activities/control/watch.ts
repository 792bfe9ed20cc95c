// watchSet: the frequent polling of a replication set, inside one long-running activity on
// the orchestrator. Every poll (set-poller.ts) reads the set from the registry, probes each
// member (the orchestrator's own path), reads each member's replication status with its
// monitoring account, and judges the poll (lib/monitor-poll.ts, the same judgement the 0.1.0
// loop makes); this activity decides what the workflow must be told. Heartbeats are not
// history events: the activity completes only when the workflow must act (a failover, a relay
// to recover, upkeep, the set changed or dissolved) or at the checkpoint. Health is written
// to the registry when it changes, and with a lease renewed slowly otherwise
// (registry/health.ts shows vouched health as current).
import { Context } from '@temporalio/activity';
import type { SetView } from '../registry/views';
import type { DeadRelay } from '../../lib/dead-relays';
import type { AutoFailoverDecision } from '../../lib/failover';
import { semiSyncKey, setMembers, type MemberStatus, type PollMemory, type SemiSyncFix } from '../../lib/monitor-poll';
import type { MemberHealth } from '../../lib/schemas';
import { certificateWatch, type CertificateRenewalDeps } from './certificate-watch';
import { createSetPoller } from './set-poller';
import type { InterimWatches } from './watch-interim';

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

/** interim: the sets this worker watches while their retried attempts are on their way (watch-interim.ts). */
export function createWatchActivities(deps: WatchDeps, interim?: Pick<InterimWatches, 'take' | 'release'>) {
  return {
    async watchSet(input: WatchInput): Promise<WatchOutcome> {
      const ctx = Context.current();
      // A retry (the worker died) resumes the judgement where the last heartbeat left it.
      const beaten: PollMemory = (ctx.info.heartbeatDetails as { memory?: PollMemory } | undefined)?.memory ?? input.memory;
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
      // A set this worker has watched since its worker died: the attempt goes on with those
      // connections and that judgement (what the last heartbeat remembers is older).
      const adopted = await interim?.take(input.setId);
      adopted?.resume(beaten);
      const poller = adopted ?? createSetPoller(deps, input.setId, beaten);
      // First sent by the clock below, not at once: a survivor starting a dead worker's thousand
      // watches sent a thousand heartbeats to the server while it was handing them out. The
      // details a retry resumes from stay at the server until this attempt sends its own.
      let details: { memory: PollMemory; observedAt?: string } = { memory: poller.memory };
      let beatMemory = JSON.stringify(poller.memory);
      const certificates = certificateWatch(deps.certificateRenewal);
      let expected = input.membership;
      // Cleared in the finally below, whatever ends the watch.
      const beats = setInterval(() => ctx.heartbeat(details), Math.min(HEARTBEAT_EVERY_MS, (ctx.info.heartbeatTimeoutMs || Infinity) / 5));
      try {
        for (;;) {
          if (!claimed) claim();
          const p = await poller.poll(expected);
          if (p.kind === 'dissolved') return { kind: 'dissolved' };
          const seen = (health: MemberHealth[], decision: AutoFailoverDecision | null): Seen => ({ health, decision, memory: poller.memory, membership: p.membership });
          if (p.kind === 'membership') return { kind: 'membership', ...seen(poller.written ?? [], null) };
          expected = p.membership;
          const { view, judged, creds, denied, readable, observedAt } = p;
          // A member the workflow does not show yet (its account was just made) wakes it before the
          // health is stored, so what the Web UI shows is never behind what the registry holds.
          const quietPoll = judged.decision.action !== 'failover' && judged.relayRecoveries.length === 0;
          if (quietPoll && input.shown && readable.some((h) => !input.shown!.includes(h.instanceId))) return { kind: 'read', ...seen(readable, judged.decision) };
          const storing = poller.store(readable, input.leaseSeconds);
          // What the workflow shows is what is stored.
          const s = seen(readable, judged.decision);
          // A failover does not wait for the health's write (a registry round trip per member,
          // queued behind a thousand sets' reads on a busy worker); it lands a moment later.
          if (judged.decision.action === 'failover') {
            storing.catch(() => undefined);
            return { kind: 'failover', view, observedAt, ...s };
          }
          await storing;
          const now = Date.now();
          details = { memory: poller.memory, observedAt };
          if (judged.relayRecoveries.length > 0) return { kind: 'relays', view, dead: judged.relayRecoveries, observedAt, ...s };
          // Accounts are made also while an operation holds the set: a replica being built gets
          // its account as soon as its server answers, so its health is read when the build ends.
          const accountDue = (id: string) => !input.accountsQuietUntil?.[id] || now >= Date.parse(input.accountsQuietUntil[id]!);
          const accounts = setMembers(view).filter((m) => m.novaServerId && (!creds[m.id]?.ready || denied.has(m.id)) && accountDue(m.id)).map((m) => ({ instanceId: m.id, novaServerId: m.novaServerId! }));
          const quiet = input.semiSyncQuietUntil ?? {};
          const semiSyncFixes = judged.semiSyncFixes.filter((f) => !quiet[semiSyncKey(f)] || now >= Date.parse(quiet[semiSyncKey(f)]!));
          const renewalQuiet = input.renewalQuietUntil !== undefined && now < Date.parse(input.renewalQuietUntil);
          const certificatesDue = renewalQuiet ? [] : await certificates.due(view, now);
          if (semiSyncFixes.length > 0 || accounts.length > 0 || certificatesDue.length > 0) return { kind: 'upkeep', semiSyncFixes, accounts, ...(certificatesDue.length ? { certificatesDue } : {}), ...s };
          if (now - started >= input.checkpointSeconds * 1000) return { kind: 'checkpoint', ...s };
          // Beaten at once only by a poll the watch goes on from: a heartbeat sent just before the
          // activity completes holds its completion (the SDK waits for a heartbeat in flight), and
          // a completing poll's memory is in its result.
          const memoryNow = JSON.stringify(poller.memory);
          if (memoryNow !== beatMemory) {
            ctx.heartbeat(details);
            beatMemory = memoryNow;
          }
          await poller.rest(input.pollSeconds, (ms) => ctx.sleep(ms));
        }
      } finally {
        clearInterval(beats);
        await poller.close();
        interim?.release(input.setId);
        // Not awaited: the outcome (a failover) does not wait for a registry write queued behind
        // a thousand sets' reads. A claim left by a worker that dies first names an ended attempt,
        // which the hand-over's failure finds refused, and the set's next attempt replaces it.
        void (async () => {
          await claiming;
          if (claimed) await deps.release?.(input.setId, ctx.info.taskToken);
        })().catch(() => undefined);
      }
    },
  };
}

export type WatchActivities = ReturnType<typeof createWatchActivities>;
