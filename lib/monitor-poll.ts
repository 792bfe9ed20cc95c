// One look at a replication set, judged: the members' health, the holistic judgement on
// the source, the automatic-failover decision, the dead relays to recover and the semi-sync
// roles to fix. Pure, and the one place that calls the decision functions (summarizeHealth,
// assessSource, decideAutoFailover, decideRelayRecovery): the 0.1.0 monitor's loop in its
// workflow and the watch activity both judge every poll here.
import type { SetView } from '../activities/registry/views';
import { deadRelays, decideRelayRecovery, type DeadRelay } from './dead-relays';
import { healthRole, judgesOfSource, takesOver } from './pair-failover';
import { semiSyncRole } from './semi-sync';
import { decideAutoFailover, type AutoFailoverDecision } from './failover';
import { assessSource, summarizeHealth, type ObservedStatus } from './health';
import type { MemberHealth } from './schemas';

/** What a member answered about its replication: its agent's status, or the monitoring account's read. */
export type MemberStatus = ObservedStatus & { semiSyncSource: boolean; semiSyncReplica: boolean };

export interface PollObservation {
  probes: Record<string, { reachable: boolean } | undefined>;
  /** null: the member did not answer. */
  statuses: Record<string, MemberStatus | null | undefined>;
  /** When the members were probed: a source is judged down as of then, not when the slowest probe gave up. */
  observedAt: string;
}

/** What a judgement carries to the next poll. */
export interface PollMemory {
  sourceDownSince: string | null;
  relaysDownSince: Record<string, string>;
}

/**
 * now, with what an earlier attempt remembered: a member both saw down has been down since the
 * earlier look; one only the earlier attempt saw down is up now (now's look is what counts).
 */
export function earlierMemory(now: PollMemory, before: PollMemory): PollMemory {
  const earlier = (a: string, b: string | undefined) => (b !== undefined && b < a ? b : a);
  return {
    sourceDownSince: now.sourceDownSince === null ? null : earlier(now.sourceDownSince, before.sourceDownSince ?? undefined),
    relaysDownSince: Object.fromEntries(Object.entries(now.relaysDownSince).map(([id, since]) => [id, earlier(since, before.relaysDownSince[id])])),
  };
}

/** The key of one semi-sync request in the watch's quiet periods (per member and role). */
export const semiSyncKey = (f: { instanceId: string; role: string }): string => `${f.instanceId}/${f.role}`;

export interface SemiSyncFix {
  instanceId: string;
  novaServerId: string;
  role: 'off' | 'source' | 'replica';
}

export interface PollJudgement {
  health: MemberHealth[];
  busy: boolean;
  decision: AutoFailoverDecision;
  /** Relays to recover now (never while busy or while the source fails over). */
  relayRecoveries: DeadRelay[];
  /** Semi-sync roles that differ from the settings (none while an operation reshapes the set). */
  semiSyncFixes: SemiSyncFix[];
  memory: PollMemory;
}

export const setMembers = (view: SetView) => [view.source, ...view.replicas];

export function judgePoll(view: SetView, obs: PollObservation, memory: PollMemory): PollJudgement {
  const members = setMembers(view);
  const health = summarizeHealth(
    // Roles as the topology model derives them from the links (a relay is watched as a replica).
    // (a pair's active side is its source, although it replicates from the passive one).
    members.map((m) => ({ instanceId: m.id, name: m.name, ...healthRole(view.topology, m.id) })),
    obs.probes,
    obs.statuses,
    obs.observedAt,
  );
  const busy = Boolean(view.lock.operationId);
  const semiSyncFixes: SemiSyncFix[] = [];
  if (!busy) {
    const ackSet = {
      semiSync: view.settings.semiSync,
      followsProfile: Boolean(view.zoneProfile),
      sourceId: view.source.id,
      peerId: view.topology.coMasters ? takesOver(view.topology) : undefined,
      members: members.map((x) => ({ id: x.id, zone: x.availabilityZone, reachable: health.find((h) => h.instanceId === x.id)?.reachable })),
    };
    for (const m of members) {
      const s = obs.statuses[m.id];
      if (!s) continue;
      const want = semiSyncRole(ackSet, m.id);
      const has = s.semiSyncSource ? 'source' : s.semiSyncReplica ? 'replica' : 'off';
      if (want !== has) semiSyncFixes.push({ instanceId: m.id, novaServerId: m.novaServerId!, role: want });
    }
  }
  const assessment = assessSource(health, judgesOfSource(view.topology));
  const decision = decideAutoFailover({ ...view.settings, ...assessment, sourceDownSince: memory.sourceDownSince, busy, now: obs.observedAt });
  const relays = decideRelayRecovery(deadRelays(view.topology, health), memory.relaysDownSince, obs.observedAt, view.settings.failoverAfterSeconds);
  return {
    health,
    busy,
    decision,
    relayRecoveries: !busy && decision.action !== 'failover' ? relays.recover : [],
    semiSyncFixes,
    memory: { sourceDownSince: decision.sourceDownSince, relaysDownSince: relays.downSince },
  };
}

/**
 * What a person reads in the health (and what the API's decisions use): a change of any of
 * it is written at once. Positions and lag move with every write, so they are refreshed by
 * the watch's slow heartbeat instead; a replica falling behind or catching up is a change.
 */
function shape(h: MemberHealth): string {
  const lag = h.role !== 'replica' ? '-' : h.transactionsBehind === null && h.secondsBehind === null ? '?' : (h.transactionsBehind ?? 0) > 0 || (h.secondsBehind ?? 0) > 0 ? 'behind' : 'caught-up';
  return JSON.stringify([h.instanceId, h.name, h.role, h.reachable, h.agentAnswered, h.ioRunning, h.sqlRunning, h.lastIoError, h.lastSqlError, h.readOnly, lag, h.tls ?? null]);
}

export function healthChanged(before: MemberHealth[] | null, after: MemberHealth[]): boolean {
  return !before || before.length !== after.length || before.some((h, i) => shape(h) !== shape(after[i]!));
}

/** The set as the watch's workflow last saw it: a change to it ends the watch (the workflow looks again). */
export function membershipKey(view: SetView): string {
  return JSON.stringify([view.source.id, setMembers(view).map((m) => [m.id, m.address, m.port, m.novaServerId]), view.topology]);
}

/**
 * How long to sleep, from now, to the set's next poll: `delayMs` after this poll's start, moved
 * to the nearest moment of the set's own phase of the interval (from a hash of its key), by at
 * most half an interval. A worker's sets started together poll spread over the interval
 * instead of all at once, and once in phase a set polls exactly every interval whatever its
 * poll took, up to an interval (a poll slowed past half an interval by a loaded worker used to
 * skip a beat, leaving its health two intervals old). A poll that outlasted its next moment
 * waits for the one after, rather than polling back to back.
 */
export function phasedDelayMs(delayMs: number, startedMs: number, nowMs: number, pollMs: number, key: string): number {
  const target = startedMs + delayMs;
  if (pollMs <= 0) return Math.max(0, target - nowMs);
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  const phase = h % pollMs;
  let shift = (((phase - target) % pollMs) + pollMs) % pollMs;
  if (shift > pollMs / 2) shift -= pollMs;
  let next = target + shift;
  while (next < nowMs) next += pollMs;
  return next - nowMs;
}
