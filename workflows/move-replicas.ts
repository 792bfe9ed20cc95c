// What switchover and failover share once the new source takes writes: point the other
// replicas at it (each keeps its own account, asserted on the new source), apply the
// set's semi-sync roles, and drop the new source's own, now useless, account.
import { replicationUserName } from '../lib/names';
import type { InstanceSummary } from '../activities/registry/activities';
import { errorMessage, guestActivities, registry } from './common';

export interface MoveOutcome {
  moved: string[];
  failed: Record<string, string>;
}

export async function moveReplicasTo(newSource: InstanceSummary, replicas: InstanceSummary[], semiSync: boolean): Promise<MoveOutcome> {
  const target = guestActivities(newSource.novaServerId!);
  if (semiSync) await target.configureSemiSync({ role: 'source' });
  const outcome: MoveOutcome = { moved: [], failed: {} };
  await Promise.all(
    replicas.map(async (r) => {
      try {
        const credential = await registry.replicationCredential({ replicaId: r.id, sourceId: newSource.id });
        await target.createReplicationUser(credential);
        const guest = guestActivities(r.novaServerId!);
        await guest.startReplication({ source: { host: newSource.address!, port: newSource.port ?? 3306, ...credential } });
        if (semiSync) await guest.configureSemiSync({ role: 'replica' });
        outcome.moved.push(r.id);
      } catch (err) {
        outcome.failed[r.id] = errorMessage(err);
      }
    }),
  );
  outcome.moved.sort();
  return outcome;
}

export async function dropOwnAccount(newSource: InstanceSummary): Promise<void> {
  await guestActivities(newSource.novaServerId!).dropReplicationUser({ userName: replicationUserName(newSource.id) });
}
