// Who acknowledges semi-sync writes: the one rule for every shape of set (plain, DR, pair).
// MariaDB releases a commit on the first ack, so an ack only protects a write if the member
// that sent it is one that would take over, or survive what the source would not.

export type SemiSyncRole = 'off' | 'source' | 'replica';

export interface SemiSyncSet {
  semiSync: boolean;
  /** The set follows a zone profile (DR). */
  followsProfile: boolean;
  sourceId: string;
  /** A master-master pair's passive side: it takes over, so it alone acknowledges. */
  peerId?: string;
  members: readonly { id: string; zone: string | null; reachable?: boolean }[];
}

/**
 * The semi-sync role a member should run.
 * - A pair: only the passive side acknowledges; an ack from another replica of the active
 *   side would let a write be acknowledged that the side taking over never received.
 * - A DR set: only replicas outside the source's zone acknowledge, when there are any; an
 *   ack from the source's own zone would be lost with that zone.
 * - Otherwise every replica acknowledges.
 * A DR set's source waits for acks only while one of its acknowledgers is reachable: after
 * a zone's loss the new source's only replicas may be the lost ones, and each commit would
 * wait rpl_semi_sync_master_timeout (10 s) for an ack none can send, then go on without it.
 */
export function semiSyncRole(set: SemiSyncSet, memberId: string): SemiSyncRole {
  if (!set.semiSync) return 'off';
  const ackers = acknowledgers(set);
  if (memberId === set.sourceId) return !set.followsProfile || ackers.some((m) => m.reachable !== false) ? 'source' : 'off';
  return ackers.some((m) => m.id === memberId) ? 'replica' : 'off';
}

function acknowledgers(set: SemiSyncSet): SemiSyncSet['members'] {
  const replicas = set.members.filter((m) => m.id !== set.sourceId);
  if (set.peerId !== undefined) return replicas.filter((m) => m.id === set.peerId);
  const sourceZone = set.members.find((m) => m.id === set.sourceId)?.zone ?? null;
  const outside = replicas.filter((m) => m.zone !== null && m.zone !== sourceZone);
  return set.followsProfile && outside.length > 0 ? outside : replicas;
}
