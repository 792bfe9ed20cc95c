// Which replica to promote when the source is gone: pure, so every rule is a table test.
// The most advanced replica by what it RECEIVED (Gtid_IO_Pos) wins, because it will apply
// its relay log before promotion; then by what it executed; then by the zone profile's order
// of zones (a DR set: its primary zone, then its DR zones); ties go to the oldest member.
// Replicas in a lost zone (every member there unreachable) are set aside whatever they hold.
import { compareGtid, errantDomains, GtidParseError, parseGtidPosition, transactionsBehind, union, type GtidPosition } from './gtid';

export interface ReplicaObservation {
  instanceId: string;
  /** Creation order in the set: the tie-breaker. */
  order: number;
  reachable: boolean;
  /** Gtid_IO_Pos: received from the source (relay log). */
  ioPos: string;
  /** gtid_slave_pos: applied by the SQL thread. */
  slavePos: string;
  /** gtid_binlog_pos: written to its own binlog (replicated + local). */
  binlogPos: string;
  /** Its availability zone, when known (absent in histories recorded before zones). */
  zone?: string | null;
}

/** Where the set lives, for the choice: absent, zones play no part (as before DR). */
export interface ZonePreference {
  /** The zone profile's zones, preferred in this order: primary zone, then DR zones. */
  order: readonly string[];
  /** Zones with no member left answering (lostZones): nothing there is promoted. */
  lost: readonly string[];
}

/**
 * The zones where no member answers: each listed zone's members are all unreachable. A zone
 * with one member still answering is not lost (a single crashed source is not a zone outage).
 */
export function lostZones(members: readonly { zone?: string | null; reachable: boolean }[]): string[] {
  const zones = [...new Set(members.map((m) => m.zone).filter((z): z is string => Boolean(z)))];
  return zones.filter((z) => members.every((m) => m.zone !== z || !m.reachable)).sort();
}

/** Whether a member sits in a lost zone: never promoted, and an eject fences it (the zone may come back). */
export const inLostZone = (zone: string | null | undefined, lost: readonly string[]): zone is string => Boolean(zone && lost.includes(zone));

/** The replicas an eject fences with the old source: those in a lost zone, with why. */
export function lostZoneReplicas(replicas: readonly { instanceId: string; zone?: string | null }[], lost: readonly string[]): Record<string, string> {
  return Object.fromEntries(replicas.filter((r) => inLostZone(r.zone, lost)).map((r) => [r.instanceId, `in lost zone ${r.zone}`]));
}

export interface CandidateChoice {
  candidate?: string;
  /** Why each replica was set aside. */
  excluded: Record<string, string>;
  /** The eligible replicas, best first, with what each has received. */
  ranking: { instanceId: string; received: string; behindBest: number }[];
}

interface Eligible {
  o: ReplicaObservation;
  received: GtidPosition;
  applied: GtidPosition;
  /** Its zone's place in the profile's order; zones outside it after every listed one. */
  zoneRank: number;
}

const total = (p: GtidPosition) => [...p.values()].reduce((s, g) => s + g.seq, 0);

function better(a: Eligible, b: Eligible): number {
  const r = compareGtid(a.received, b.received);
  if (r === 'ahead') return -1;
  if (r === 'behind') return 1;
  // Diverged positions should not happen under strict mode; fall back to volume.
  if (r === 'diverged' && total(a.received) !== total(b.received)) return total(b.received) - total(a.received);
  const e = compareGtid(a.applied, b.applied);
  if (e === 'ahead') return -1;
  if (e === 'behind') return 1;
  // Only between replicas holding the same: a zone is never worth a lost transaction.
  if (a.zoneRank !== b.zoneRank) return a.zoneRank - b.zoneRank;
  return a.o.order - b.o.order;
}

export function chooseCandidate(replicas: ReplicaObservation[], zones?: ZonePreference): CandidateChoice {
  const excluded: Record<string, string> = {};
  const eligible: Eligible[] = [];
  const rankOf = (zone: string | null | undefined) => {
    const i = zone && zones ? zones.order.indexOf(zone) : -1;
    return i < 0 ? (zones?.order.length ?? 0) : i;
  };
  for (const o of replicas) {
    if (zones && inLostZone(o.zone, zones.lost)) {
      excluded[o.instanceId] = `in lost zone ${o.zone}`;
      continue;
    }
    if (!o.reachable) {
      excluded[o.instanceId] = 'unreachable';
      continue;
    }
    try {
      const io = parseGtidPosition(o.ioPos);
      const applied = parseGtidPosition(o.slavePos);
      const errant = errantDomains(parseGtidPosition(o.binlogPos), union(io, applied));
      if (errant.length) {
        excluded[o.instanceId] = `errant transactions in domain(s) ${errant.join(', ')}`;
        continue;
      }
      eligible.push({ o, received: union(io, applied), applied, zoneRank: rankOf(o.zone) });
    } catch (err) {
      if (!(err instanceof GtidParseError)) throw err;
      excluded[o.instanceId] = `unreadable GTID position: ${err.message}`;
    }
  }
  eligible.sort(better);
  const best = eligible[0];
  return {
    candidate: best?.o.instanceId,
    excluded,
    ranking: eligible.map((e) => ({ instanceId: e.o.instanceId, received: [...e.received.values()].map((g) => `${g.domain}-${g.server}-${g.seq}`).join(','), behindBest: best ? transactionsBehind(e.received, best.received) : 0 })),
  };
}

export interface AutoFailoverInput {
  autoFailover: boolean;
  failoverAfterSeconds: number;
  quietPeriodSeconds: number;
  lastFailoverAt: string | null;
  lastFailoverAcknowledged: boolean;
  sourceReachable: boolean;
  replicasLostSource: boolean;
  /** When the orchestrator first failed to reach the source (carried between polls). */
  sourceDownSince: string | null;
  /** Another operation holds the set. */
  busy: boolean;
  now: string;
}

export interface AutoFailoverDecision {
  action: 'none' | 'wait' | 'suppressed' | 'failover';
  reason: string;
  sourceDownSince: string | null;
}

/**
 * Orchestrator-style holistic detection: fail over only when the orchestrator has not
 * reached the source for failoverAfterSeconds AND the replicas agree they lost it, so a
 * cut between the orchestrator and the source alone never causes a failover. Never twice
 * within the quiet period unless a person acknowledged the previous one.
 */
export function decideAutoFailover(i: AutoFailoverInput): AutoFailoverDecision {
  if (i.sourceReachable) return { action: 'none', reason: 'the source is reachable', sourceDownSince: null };
  const since = i.sourceDownSince ?? i.now;
  const downFor = (Date.parse(i.now) - Date.parse(since)) / 1000;
  const wait = (reason: string): AutoFailoverDecision => ({ action: 'wait', reason, sourceDownSince: since });
  if (!i.replicasLostSource) return wait('the orchestrator cannot reach the source but the replicas still replicate from it');
  if (!i.autoFailover) return { action: 'suppressed', reason: 'the source is down; automatic failover is off for this set', sourceDownSince: since };
  if (i.busy) return wait('another operation holds the replication set');
  if (downFor < i.failoverAfterSeconds) return wait(`the source has been down for ${downFor.toFixed(1)} s of the ${i.failoverAfterSeconds} s required`);
  if (i.lastFailoverAt && !i.lastFailoverAcknowledged) {
    const since = (Date.parse(i.now) - Date.parse(i.lastFailoverAt)) / 1000;
    if (since < i.quietPeriodSeconds) {
      return { action: 'suppressed', reason: `an automatic failover ran ${since.toFixed(0)} s ago (quiet period ${i.quietPeriodSeconds} s); acknowledge it to allow another`, sourceDownSince: i.sourceDownSince ?? i.now };
    }
  }
  return { action: 'failover', reason: `the source has been unreachable for ${downFor.toFixed(1)} s and every replica lost it`, sourceDownSince: since };
}

/**
 * How long the monitor sleeps before its next poll. Normally the poll interval; but when
 * this poll saw the source down for less than failover_after, the next look comes as soon
 * as failover_after has elapsed (never sooner than minMs), so confirming a dead source
 * costs failover_after rather than up to a whole extra poll interval (the idea of
 * orchestrator's "emergency re-read"). Once a poll judged a source down for the whole
 * window (and still waited: busy set, replicas still replicating) polling is normal again.
 */
export function nextPollDelayMs(i: { pollSeconds: number; failoverAfterSeconds: number; sourceDownSince: string | null; observedAt: string; now: string; minMs?: number }): number {
  const pollMs = i.pollSeconds * 1000;
  if (!i.sourceDownSince) return pollMs;
  const windowMs = i.failoverAfterSeconds * 1000;
  const since = Date.parse(i.sourceDownSince);
  if (Date.parse(i.observedAt) - since >= windowMs) return pollMs;
  return Math.min(pollMs, Math.max(i.minMs ?? 200, windowMs - (Date.parse(i.now) - since)));
}
