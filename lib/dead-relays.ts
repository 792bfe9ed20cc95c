// orchestrator's "dead intermediate master" recovery, as pure rules: which relays of a
// cascade are gone, where their replicas go, and when to act. A relay is judged gone on the
// same holistic evidence as a source (lib/health.ts): the orchestrator cannot reach it, its
// agent is silent, and its replicas that answered agree they lost it. A path cut between the
// orchestrator and the relay alone leaves its replicas replicating: no move.
import type { MemberHealth } from './schemas';
import { downstreamOf, sourceOf, upstreamOf, type Topology } from './topology';

export interface DeadRelay {
  relayId: string;
  /** The nearest member above it that is not gone itself: its replicas move there. */
  moveTo: string;
  replicas: string[];
}

const gone = (h: MemberHealth | undefined): boolean => Boolean(h) && !h!.reachable && !h!.agentAnswered;

/** Relays gone on holistic evidence, with the member their replicas move to (none when every member above is gone too: that is the source's failover). */
export function deadRelays(t: Topology, health: MemberHealth[]): DeadRelay[] {
  const byId = new Map(health.map((h) => [h.instanceId, h]));
  const source = sourceOf(t);
  const found: DeadRelay[] = [];
  for (const m of t.members) {
    const replicas = downstreamOf(t, m.id);
    // A side of a master-master pair is no relay: its loss is the pair's failover, not a move.
    if (m.id === source || t.coMasters?.includes(m.id) || replicas.length === 0 || !gone(byId.get(m.id))) continue;
    const answering = replicas.map((r) => byId.get(r)).filter((h): h is MemberHealth => Boolean(h?.agentAnswered));
    if (answering.length === 0 || answering.some((h) => h.ioRunning !== false)) continue;
    let above = upstreamOf(t, m.id);
    while (above && gone(byId.get(above))) above = upstreamOf(t, above);
    if (!above || (above === source && gone(byId.get(source)))) continue;
    found.push({ relayId: m.id, moveTo: above, replicas });
  }
  return found;
}

/**
 * The relays to recover now: gone for at least `afterSeconds` (the set's failover_after, so a
 * restart is not a death). `downSince` is when each was first seen gone; a relay seen alive
 * again is forgotten.
 */
export function decideRelayRecovery(
  dead: DeadRelay[],
  downSince: Record<string, string>,
  now: string,
  afterSeconds: number,
): { recover: DeadRelay[]; downSince: Record<string, string> } {
  const next: Record<string, string> = {};
  for (const d of dead) next[d.relayId] = downSince[d.relayId] ?? now;
  const recover = dead.filter((d) => Date.parse(now) - Date.parse(next[d.relayId]!) >= afterSeconds * 1000);
  for (const d of recover) delete next[d.relayId];
  return { recover, downSince: next };
}
