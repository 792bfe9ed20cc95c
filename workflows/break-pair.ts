// breakPair: a master-master pair back into a source with replicas. The active side stops
// replicating from the passive one and keeps taking writes; the passive side stays its
// read-only replica (it already is); the active side's account on the passive side goes.
// Asked of either side. Each side keeps its own GTID domain (harmless, and a new pair of
// the same instances finds it so).
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import { replicationUserName } from '../lib/names';
import { breakPairInput, type BreakPairInput, type BreakPairResult } from '../lib/schemas';
import { peerOf } from '../lib/topology';
import { beginOn, errorMessage, guestActivities, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { ErrorType } from '../lib/errors';
import { Progress } from './progress';

export async function breakPair(raw: BreakPairInput): Promise<BreakPairResult> {
  const input = parseInput(breakPairInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('breakPair', () => `pair of ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  let view;
  try {
    view = (await beginOn('breakPair', input, progress, 'break pair')).set!;
  } catch (err) {
    await recordFault(input.instanceId, errorMessage(err));
    throw err;
  }
  tagReplicationSet(view.setId);
  const active = view.source;
  const passive = view.replicas.find((m) => m.id === peerOf(view.topology, active.id))!;
  try {
    progress.phase('stopping the reverse link');
    await guestActivities(active.novaServerId!).detachReplication({ writable: true });
    await guestActivities(passive.novaServerId!).dropReplicationUser({ userName: replicationUserName(active.id) });
    await registry.applyTransition({ setId: view.setId, transition: { kind: 'break-pair' } });
    progress.phase('done');
    return { sourceId: active.id, replicaId: passive.id };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'break pair failed', ErrorType.GuestFailed);
    await recordFault(input.instanceId, failure.message);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
