// The step that makes two members a master-master pair, shared by createPair (a new second
// master) and rebuildAsReplica's rejoin (the side a failover lost, rebuilt from a snapshot of
// the survivor): each side writes in a GTID domain of its own, the passive side is read-only
// (my.cnf too), the active side replicates back from the passive one starting from its own
// binlog position, and the registry records the pair. Runs under the set's lock.
import type { SetView } from '../activities/registry/views';
import type { InstanceSummary } from '../activities/registry/activities';
import { replicationUserName } from '../lib/names';
import { guestActivities, registry } from './common';
import type { Progress } from './progress';
import { Saga } from './saga';

export interface PairSide {
  member: InstanceSummary;
  /** Its gtid_domain_id: its server_id, unique across the registry, so the two never collide. */
  domainId: number;
}

/** Returns the GTID domain of each side, by instance id. */
export async function linkPair(view: SetView, source: PairSide, peer: PairSide, progress: Progress): Promise<Record<string, number>> {
  const active = guestActivities(source.member.novaServerId!);
  const passive = guestActivities(peer.member.novaServerId!);
  const tls = view.settings.tls ?? false;

  progress.phase('own GTID domains');
  const gtidDomains = { [source.member.id]: source.domainId, [peer.member.id]: peer.domainId };
  await Promise.all([active.setGtidDomain({ domainId: source.domainId }), passive.setGtidDomain({ domainId: peer.domainId })]);

  progress.phase('replicating both ways');
  const undo = new Saga();
  try {
    await passive.setReadOnly({ readOnly: true });
    const credential = await registry.replicationCredential({ replicaId: source.member.id, sourceId: peer.member.id });
    undo.add('drop the reverse account', () => passive.dropReplicationUser({ userName: credential.userName }));
    await passive.createReplicationUser({ ...credential, requireSsl: tls });
    // The passive side holds a copy of its own account (it came with the snapshot or by
    // replication); once it is the active side that would be a stray login. Dropped without
    // binlogging (it replicates), so the active side keeps the account the passive one uses.
    await passive.dropReplicationUser({ userName: replicationUserName(peer.member.id) });
    // The source resumes from what it wrote itself: it needs only what the passive side writes.
    undo.add('stop the reverse link', () => active.detachReplication({ writable: true }));
    await active.startReplication({ source: { host: peer.member.address!, port: peer.member.port ?? 3306, ...credential, tls }, fromOwnBinlog: true });
    await registry.applyTransition({ setId: view.setId, transition: { kind: 'make-pair', peerId: peer.member.id } });
  } catch (err) {
    await undo.compensate();
    throw err;
  }
  return gtidDomains;
}
