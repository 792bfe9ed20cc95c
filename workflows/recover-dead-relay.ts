// recoverDeadRelay: started by a set's monitor when a relay of a cascade is gone (orchestrator's
// "dead intermediate master" recovery). Under the set's lock it looks again, and when the
// relay is still gone moves its replicas to the nearest live member above it by GTID (each
// keeps its position: what the relay relayed, its upstream has too). The relay stays in the
// set, a leaf: when its server is back it replicates from its own upstream again.
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import type { InstanceSummary } from '../activities/registry/activities';
import { deadRelays } from '../lib/dead-relays';
import { ErrorType } from '../lib/errors';
import { summarizeHealth, type ObservedStatus } from '../lib/health';
import { recoverDeadRelayInput, type RecoverDeadRelayInput, type RecoverDeadRelayResult } from '../lib/schemas';
import { upstreamOf } from '../lib/topology';
import { beginOn, computeProbe, errorMessage, guestProbe, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { moveReplicasTo } from './move-replicas';
import { Progress } from './progress';

export async function recoverDeadRelay(raw: RecoverDeadRelayInput): Promise<RecoverDeadRelayResult> {
  const input = parseInput(recoverDeadRelayInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('recoverDeadRelay', () => `relay ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const set = (await beginOn('recoverDeadRelay', input, progress, 'relay recovery', { fallbackType: ErrorType.OperationConflict })).set!;
  tagReplicationSet(set.setId);
  const members = new Map<string, InstanceSummary>([set.source, ...set.replicas].map((m) => [m.id, m]));
  try {
    // Looked at again under the lock: the relay, every member above it, its replicas.
    progress.phase('checking the relay');
    const above: string[] = [];
    for (let at = upstreamOf(set.topology, input.instanceId); at; at = upstreamOf(set.topology, at)) above.push(at);
    const looked = [input.instanceId, ...above, ...set.topology.links.filter((l) => l.source === input.instanceId).map((l) => l.replica)].map((id) => members.get(id)!);
    const [probes, statuses] = await Promise.all([
      computeProbe.probeMembers(looked.map((m) => ({ instanceId: m.id, address: m.address!, port: m.port ?? 3306 }))),
      Promise.all(looked.map((m) => guestProbe(m.novaServerId!).replicationStatus().catch(() => null))),
    ]);
    const health = summarizeHealth(
      looked.map((m) => ({ instanceId: m.id, name: m.name, role: m.id === set.source.id ? ('source' as const) : ('replica' as const) })),
      probes,
      Object.fromEntries(looked.map((m, i) => [m.id, statuses[i] as ObservedStatus | null])),
      new Date().toISOString(),
    );
    const dead = deadRelays(set.topology, health).find((d) => d.relayId === input.instanceId);
    if (!dead) {
      progress.phase('the relay is alive');
      return { relayId: input.instanceId, movedTo: null, moved: [], alive: true };
    }

    progress.phase('moving its replicas up');
    const target = members.get(dead.moveTo)!;
    const moved = await moveReplicasTo(target, dead.replicas.map((id) => members.get(id)!), { semiSync: set.settings.semiSync && target.id === set.source.id, tls: set.settings.tls });
    const failed = Object.entries(moved.failed);
    // The registry follows only a whole move: the monitor tries again for the ones left.
    if (failed.length) throw ApplicationFailure.nonRetryable(`replicas not moved to ${target.id}: ${failed.map(([id, why]) => `${id}: ${why}`).join('; ')}`, ErrorType.GuestFailed);
    await registry.applyTransition({ setId: set.setId, transition: { kind: 'move-replicas', fromId: input.instanceId, toId: target.id } });
    await recordFault(input.instanceId, `relay lost: its replicas (${dead.replicas.join(', ')}) were moved to ${target.id} by ${operationId}; it replicates again from ${upstreamOf(set.topology, input.instanceId)} when its server is back`);
    progress.phase('recovered');
    return { relayId: input.instanceId, movedTo: target.id, moved: moved.moved };
  } catch (err) {
    progress.fail(errorMessage(err));
    throw operationFailure(err, 'relay recovery failed', ErrorType.GuestFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: set.setId }));
  }
}
