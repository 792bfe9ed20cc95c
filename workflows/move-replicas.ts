// What switchover and failover share once the new source takes writes: point the other
// replicas at it (each keeps its own account, asserted on the new source), apply the
// set's semi-sync roles, and drop the new source's own, now useless, account. In a TLS set
// every account moved requires TLS and every link moved verifies the new source's
// certificate (every member holds one from the set's CA).
import { patched } from '@temporalio/workflow';
import { replicationUserName } from '../lib/names';
import type { InstanceSummary } from '../activities/registry/activities';
import { errorMessage, guestActivities, registry } from './common';
import { SEMI_SYNC_ALONE_PATCH } from './patches';

type ReplicationCredential = { userName: string; sealedPassword: string };

export interface MoveOutcome {
  moved: string[];
  failed: Record<string, string>;
}

/** What the set's settings say about its links (tls absent: a set before TLS, plain). */
export interface LinkSettings {
  semiSync: boolean;
  tls?: boolean;
}

export async function moveReplicasTo(newSource: InstanceSummary, replicas: InstanceSummary[], links: LinkSettings): Promise<MoveOutcome> {
  const { semiSync } = links;
  const tls = links.tls ?? false;
  const target = guestActivities(newSource.novaServerId!);
  const outcome: MoveOutcome = { moved: [], failed: {} };
  const connect = (r: InstanceSummary, credential: ReplicationCredential) =>
    guestActivities(r.novaServerId!).startReplication({ source: { host: newSource.address!, port: newSource.port ?? 3306, ...credential, tls } });
  // Each replica on its own: one that fails is reported, the others still move.
  const each = (list: InstanceSummary[], step: (r: InstanceSummary) => Promise<void>) =>
    Promise.all(list.map((r) => step(r).catch((err: unknown) => void (outcome.failed[r.id] = errorMessage(err)))));

  if (semiSync && (replicas.length > 0 || !patched(SEMI_SYNC_ALONE_PATCH))) {
    // Accounts first, then the new source's role, then each replica's role, then its first
    // connection: an account made on a semi-sync source with no replica connected waits out
    // the semi-sync timeout (10 s), and a replica that connects before turning semi-sync on
    // never acknowledges.
    const credentials = new Map<string, ReplicationCredential>();
    await each(replicas, async (r) => {
      const credential = await registry.replicationCredential({ replicaId: r.id, sourceId: newSource.id });
      await target.createReplicationUser({ ...credential, requireSsl: tls });
      credentials.set(r.id, credential);
    });
    await target.configureSemiSync({ role: 'source' });
    await each(
      replicas.filter((r) => credentials.has(r.id)),
      async (r) => {
        await guestActivities(r.novaServerId!).configureSemiSync({ role: 'replica' });
        await connect(r, credentials.get(r.id)!);
        outcome.moved.push(r.id);
      },
    );
  } else {
    await each(replicas, async (r) => {
      const credential = await registry.replicationCredential({ replicaId: r.id, sourceId: newSource.id });
      await target.createReplicationUser({ ...credential, requireSsl: tls });
      await connect(r, credential);
      outcome.moved.push(r.id);
    });
  }
  outcome.moved.sort();
  return outcome;
}

/** "<id>: <reason>; ..." of the replicas that could not be moved, for a fault. */
export function notMoved(failed: Record<string, string>): string {
  return Object.entries(failed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, reason]) => `${id}: ${reason}`)
    .join('; ');
}

export async function dropOwnAccount(newSource: InstanceSummary): Promise<void> {
  await guestActivities(newSource.novaServerId!).dropReplicationUser({ userName: replicationUserName(newSource.id) });
}
