// Failover inside a master-master pair, as pure rules: the monitor judges the active side
// on the same holistic evidence as any source (lib/health.ts assessSource, lib/failover.ts
// decideAutoFailover: unreachable to the orchestrator, and the passive side says its IO
// thread lost it, for failover_after); what differs is who takes over (the other side,
// no candidate to choose) and so which operation it starts.
import type { Topology } from './topology';
import { peerOf, sourceOf } from './topology';

/** The operation a failover of the set's source starts: a pair fails over to its other side. */
export function failoverOperationFor(t: Topology): 'failOverPair' | 'ejectReplicaSource' {
  return t.coMasters ? 'failOverPair' : 'ejectReplicaSource';
}

/**
 * The role the health of a member is judged in: the member taking the set's writes is the
 * source (in a pair, its active side, although it replicates from the passive one: that
 * link's threads and lag are kept), every other member a replica.
 */
export function healthRole(t: Topology, id: string): { role: 'source' | 'replica'; replicates?: true } {
  if (sourceOf(t) !== id) return { role: 'replica' };
  return t.coMasters ? { role: 'source', replicates: true } : { role: 'source' };
}

/**
 * Whose word counts on the source's death: the members replicating from it directly. In a
 * pair that includes the passive side, and never the active side itself (it replicates
 * from the passive one: its IO thread says nothing about itself).
 */
export function judgesOfSource(t: Topology): (id: string) => boolean {
  const source = sourceOf(t);
  return (id) => id !== source && t.links.some((l) => l.source === source && l.replica === id);
}

/** The side that takes over when the active side of the pair dies. */
export const takesOver = (t: Topology): string | undefined => {
  const source = sourceOf(t);
  return source === undefined ? undefined : peerOf(t, source);
};
