// What switchover and failover share once the new source takes writes: point the other
// replicas at it (each keeps its own account, asserted on the new source), apply the
// set's semi-sync roles, and drop the new source's own, now useless, account.
import { patched } from '@temporalio/workflow';
import { replicationUserName } from '../lib/names';
import type { InstanceSummary } from '../activities/registry/activities';
import { errorMessage, guestActivities, registry } from './common';

/**
 * Found by the failover benchmark: a replica that first connected to the new source
 * without semi-sync and only then turned it on never acknowledged the transaction the new
 * source was already waiting on, so writes stalled for the whole semi-sync timeout (10 s).
 * The role now comes before the replica's first connection.
 */
export const SEMI_SYNC_ROLE_FIRST_PATCH = '2026-11-semi-sync-role-before-move';

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
        const roleFirst = semiSync && patched(SEMI_SYNC_ROLE_FIRST_PATCH);
        if (roleFirst) await guest.configureSemiSync({ role: 'replica' });
        await guest.startReplication({ source: { host: newSource.address!, port: newSource.port ?? 3306, ...credential } });
        if (semiSync && !roleFirst) await guest.configureSemiSync({ role: 'replica' });
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
