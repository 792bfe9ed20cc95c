// restartInstance: Trove's restart: the database (not the server) is stopped cleanly and
// started again by the guest; the data stays on its disk. In a replication set it holds the
// set's lock too (a source down on purpose must not look dead to the monitor) and ends once
// replication runs again where the instance takes part.
import { CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { restartInstanceInput, type RestartInstanceInput, type RestartInstanceResult } from '../lib/schemas';
import { beginOn, errorMessage, guestActivities, operationFailure, parseInput, registry, tagOperation, tagReplicationSet } from './common';
import { Progress } from './progress';
import { waitForReplicationToResume } from './replication-resume';

export async function restartInstance(raw: RestartInstanceInput): Promise<RestartInstanceResult> {
  const input = parseInput(restartInstanceInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('restartInstance', () => `instance ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const { instance, set } = await beginOn('restartInstance', input, progress, 'restart', { fallbackType: ErrorType.OperationConflict });
  const setId = set?.setId ?? null;
  if (setId) tagReplicationSet(setId);
  // A database that did not come back is an ERROR; replicas slow to catch up are only a fault.
  let restarted = false;
  try {
    progress.phase('restarting database');
    const { pid } = await guestActivities(instance.novaServerId!).restart();
    restarted = true;
    const replicasResumed = set ? await waitForReplicationToResume(set, instance.id, progress) : [];
    await registry.updateInstance({ instanceId: instance.id, fault: null });
    progress.phase('restarted');
    return { instanceId: instance.id, pid, replicasResumed };
  } catch (err) {
    const reason = errorMessage(err);
    progress.fail(reason);
    await CancellationScope.nonCancellable(() =>
      registry.updateInstance({ instanceId: instance.id, ...(restarted ? {} : { status: 'ERROR' as const }), fault: `restart failed: ${reason}` }),
    );
    throw operationFailure(err, 'restart failed', ErrorType.RestartFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: instance.id, setId }));
  }
}
