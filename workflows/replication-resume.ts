// After a member of a set was down on purpose (restart, resize), the operation is over
// only once replication runs again where that member takes part: a source's replicas have
// caught up with it, a replica with its source. MASTER_CONNECT_RETRY = 1 makes a replica
// reconnect within a second of its source coming back.
import { downstreamOf, upstreamOf } from '../lib/topology';
import type { InstanceSummary, SetView } from '../activities/registry/activities';
import { guestActivities } from './common';
import type { Progress } from './progress';

const CATCH_UP_SECONDS = 120;

/** Waits until every replica `instanceId` takes part in replicates again; returns their ids. */
export async function waitForReplicationToResume(set: SetView, instanceId: string, progress: Progress): Promise<string[]> {
  const members = new Map<string, InstanceSummary>([set.source, ...set.replicas].map((m) => [m.id, m]));
  const upstream = upstreamOf(set.topology, instanceId);
  const pairs = [
    ...(upstream ? [{ source: upstream, replica: instanceId }] : []),
    ...downstreamOf(set.topology, instanceId).map((replica) => ({ source: instanceId, replica })),
  ];
  if (pairs.length === 0) return [];
  progress.phase('waiting for replication to resume');
  await Promise.all(
    pairs.map(async ({ source, replica }) => {
      const from = members.get(source)!;
      const to = members.get(replica)!;
      const { gtidBinlogPos } = await guestActivities(from.novaServerId!).gtidPosition();
      await guestActivities(to.novaServerId!).waitForGtid({ gtid: gtidBinlogPos, timeoutSeconds: CATCH_UP_SECONDS });
    }),
  );
  return pairs.map((p) => p.replica);
}
