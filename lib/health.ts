// Turns what the monitor observed (the orchestrator's probes and each guest agent's
// replication status) into per-member health and a judgement on the source. Pure.
import { parseGtidPosition, transactionsBehind } from './gtid';
import type { MemberHealth } from './schemas';

export interface MemberRef {
  instanceId: string;
  name: string;
  role: 'source' | 'replica';
  /** The source replicates too (the active side of a master-master pair, from the passive one): its link's threads and lag are kept. */
  replicates?: boolean;
}

/** Whether a member's own replication (its threads, lag, errors, TLS) is part of its health: a replica's, and a pair's active side's. */
export const healthKeepsLink = (m: Pick<MemberRef, 'role' | 'replicates'>): boolean => m.role === 'replica' || m.replicates === true;

/** The part of a guest's replication status the monitor uses. */
export interface ObservedStatus {
  ioRunning: boolean;
  sqlRunning: boolean;
  secondsBehind: number | null;
  gtidSlavePos: string;
  gtidIoPos: string;
  gtidBinlogPos: string;
  lastIoError: string;
  lastSqlError: string;
  readOnly: boolean;
  /** The link connects with TLS, verifying its source's certificate (absent: not read). */
  tls?: boolean;
}

function behind(replicaPos: string, sourcePos: string | undefined): number | null {
  if (sourcePos === undefined) return null;
  try {
    return transactionsBehind(parseGtidPosition(replicaPos), parseGtidPosition(sourcePos));
  } catch {
    return null;
  }
}

export function summarizeHealth(
  members: MemberRef[],
  probes: Record<string, { reachable: boolean } | undefined>,
  statuses: Record<string, ObservedStatus | null | undefined>,
  observedAt: string,
): MemberHealth[] {
  const source = members.find((m) => m.role === 'source');
  const sourcePos = source ? statuses[source.instanceId]?.gtidBinlogPos : undefined;
  return members.map((m) => {
    const s = statuses[m.instanceId] ?? null;
    const replica = healthKeepsLink(m);
    return {
      instanceId: m.instanceId,
      name: m.name,
      role: m.role,
      reachable: probes[m.instanceId]?.reachable ?? false,
      agentAnswered: s !== null,
      ioRunning: s && replica ? s.ioRunning : null,
      sqlRunning: s && replica ? s.sqlRunning : null,
      secondsBehind: s && replica ? s.secondsBehind : null,
      transactionsBehind: s && m.role === 'replica' ? behind(s.gtidSlavePos, sourcePos) : null,
      gtidSlavePos: s?.gtidSlavePos ?? null,
      gtidIoPos: s && replica ? s.gtidIoPos : null,
      gtidBinlogPos: s?.gtidBinlogPos ?? null,
      lastIoError: s && replica ? s.lastIoError || null : null,
      lastSqlError: s && replica ? s.lastSqlError || null : null,
      readOnly: s ? s.readOnly : null,
      tls: s && replica ? s.tls ?? null : null,
      observedAt,
    };
  });
}

export interface SourceAssessment {
  /** The orchestrator reached the source's MariaDB. */
  sourceReachable: boolean;
  /** Every replica that answered says its IO thread lost the source (and at least one answered). */
  replicasLostSource: boolean;
  replicasAnswering: number;
}

/**
 * fromSource: whether a member replicates from the source itself. In a cascade only those
 * can tell that the source is gone: a relay's replicas keep replicating from the relay.
 */
export function assessSource(health: MemberHealth[], fromSource: (instanceId: string) => boolean = () => true): SourceAssessment {
  const source = health.find((h) => h.role === 'source');
  const answering = health.filter((h) => h.role === 'replica' && h.agentAnswered && fromSource(h.instanceId));
  return {
    sourceReachable: source?.reachable ?? false,
    replicasLostSource: answering.length > 0 && answering.every((h) => h.ioRunning === false),
    replicasAnswering: answering.length,
  };
}

/** A member as the promote pre-flight sees it: its agent's replication status, null when silent. */
export interface PreflightMember {
  id: string;
  name: string;
  isSource: boolean;
  status: { ioRunning: boolean | null; sqlRunning: boolean | null; lastIoError: string | null; lastSqlError: string | null } | null;
}

/**
 * What stops a switchover before anything changes: a member whose agent does not answer, a
 * replica that is not replicating. The workflow asks it of fresh statuses; the API of the
 * monitor's last look, so that most refusals come before the 202.
 */
export function promotePreflight(members: PreflightMember[]): string[] {
  const problems: string[] = [];
  for (const m of members) {
    const s = m.status;
    if (!s) problems.push(`${m.name} (${m.id}) does not answer`);
    else if (!m.isSource && (!s.ioRunning || !s.sqlRunning)) problems.push(`${m.name} (${m.id}) is not replicating${s.lastIoError || s.lastSqlError ? `: ${s.lastIoError || s.lastSqlError}` : ''}`);
  }
  return problems.sort();
}

/** The pre-flight's members from the monitor's health rows. */
export const preflightFromHealth = (health: MemberHealth[]): PreflightMember[] =>
  health.map((h) => ({ id: h.instanceId, name: h.name, isSource: h.role === 'source', status: h.agentAnswered ? h : null }));
