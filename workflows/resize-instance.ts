// resizeInstance: Trove's resize, one of two kinds.
// - Flavor: Nova resizes the server (it stops cleanly and boots with the new flavor, whose
//   RAM the guest gives MariaDB's buffer pool); once the database answers, the resize is
//   confirmed; if it does not, Nova reverts to the old flavor and the instance keeps it.
// - Volume: the data volume grows (a volume never shrinks); a source's replicas that are
//   smaller grow with it, so a replica is never smaller than its source (Trove resizes a
//   primary's replicas too).
// In a replication set it holds the set's lock: a member down for a resize must not look
// dead to the monitor.
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import type { InstanceSummary, SetView } from '../activities/registry/activities';
import { ErrorType } from '../lib/errors';
import { resizeInstanceInput, type ResizeInstanceInput, type ResizeInstanceResult } from '../lib/schemas';
import { downstreamOf } from '../lib/topology';
import { beginOn, compute, computeWait, errorMessage, guestActivities, operationFailure, parseInput, registry, tagOperation, tagReplicationSet } from './common';
import { Progress } from './progress';
import { waitForReplicationToResume } from './replication-resume';

export async function resizeInstance(raw: ResizeInstanceInput): Promise<ResizeInstanceResult> {
  const input = parseInput(resizeInstanceInput, raw);
  const operationId = workflowInfo().workflowId;
  const what = input.flavorId !== undefined ? `flavor ${input.flavorId}` : `volume ${input.volumeSizeGb} GB`;
  const progress = new Progress('resizeInstance', () => `instance ${input.instanceId} to ${what}`);
  tagOperation(input.projectId, input.instanceId);

  const resize = input.flavorId !== undefined ? { flavorId: input.flavorId } : { volumeSize: input.volumeSizeGb };
  const { instance, set } = await beginOn('resizeInstance', input, progress, 'resize', { fallbackType: ErrorType.OperationConflict, resize });
  const setId = set?.setId ?? null;
  if (setId) tagReplicationSet(setId);
  try {
    const result =
      input.flavorId !== undefined ? await resizeFlavor(instance, input.flavorId, set, progress) : await growVolumes(instance, input.volumeSizeGb!, set, progress);
    progress.phase('resized');
    return result;
  } catch (err) {
    const reason = errorMessage(err);
    progress.fail(reason);
    // A flavor resize says itself what became of the instance (reverted, or ERROR).
    if (input.volumeSizeGb !== undefined) await CancellationScope.nonCancellable(() => registry.updateInstance({ instanceId: instance.id, fault: `resize to ${what} failed: ${reason}` }));
    throw operationFailure(err, 'resize failed', ErrorType.ResizeFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: instance.id, setId }));
  }
}

async function resizeFlavor(instance: InstanceSummary, flavorId: string, set: SetView | undefined, progress: Progress): Promise<ResizeInstanceResult> {
  const novaServerId = instance.novaServerId!;
  await compute.getFlavor(flavorId);
  try {
    progress.phase('resizing server');
    await computeWait.resizeServer({ novaServerId, flavorId });
    progress.phase('checking database');
    const status = await guestActivities(novaServerId).status();
    if (!status.running) throw ApplicationFailure.nonRetryable(`the database did not start with flavor ${flavorId}`, ErrorType.ResizeFailed);
  } catch (err) {
    // Back to the old flavor: the instance keeps running as it was, and says why.
    const reason = errorMessage(err);
    await CancellationScope.nonCancellable(async () => {
      progress.phase('reverting resize');
      try {
        await computeWait.finishResize({ novaServerId, confirm: false });
        await registry.updateInstance({ instanceId: instance.id, fault: `resize to flavor ${flavorId} failed, reverted to flavor ${instance.flavorId}: ${reason}` });
      } catch (revertErr) {
        await registry.updateInstance({ instanceId: instance.id, status: 'ERROR', fault: `resize to flavor ${flavorId} failed (${reason}) and so did its revert: ${errorMessage(revertErr)}` });
      }
    });
    throw err;
  }
  progress.phase('confirming resize');
  await computeWait.finishResize({ novaServerId, confirm: true });
  await registry.updateInstance({ instanceId: instance.id, flavorId, fault: null });
  if (set) await resumed(instance, set, progress);
  return { instanceId: instance.id, flavorId, volumeSizeGb: instance.volumeSize, volumesGrown: [] };
}

async function growVolumes(instance: InstanceSummary, sizeGb: number, set: SetView | undefined, progress: Progress): Promise<ResizeInstanceResult> {
  const replicas = set ? set.replicas.filter((r) => downstreamOf(set.topology, instance.id).includes(r.id) && r.volumeSize < sizeGb) : [];
  const grown: string[] = [];
  for (const member of [instance, ...replicas]) {
    progress.phase(`growing the volume of ${member.name}`);
    await compute.extendVolume({ novaServerId: member.novaServerId!, sizeGb });
    await registry.updateInstance({ instanceId: member.id, volumeSize: sizeGb });
    grown.push(member.id);
  }
  progress.phase('checking the volume from the guest');
  const seen = await guestActivities(instance.novaServerId!).volumeInfo();
  if (seen.sizeGb !== null && seen.sizeGb < sizeGb) {
    throw ApplicationFailure.nonRetryable(`the guest still sees a volume of ${seen.sizeGb} GB, not ${sizeGb}`, ErrorType.ResizeFailed);
  }
  await registry.updateInstance({ instanceId: instance.id, fault: null });
  return { instanceId: instance.id, flavorId: instance.flavorId, volumeSizeGb: sizeGb, volumesGrown: grown, guestVolume: seen };
}

/** Replicas slow to reconnect after a flavor resize leave a fault; the resize itself stands. */
async function resumed(instance: InstanceSummary, set: SetView, progress: Progress): Promise<void> {
  try {
    await waitForReplicationToResume(set, instance.id, progress);
  } catch (err) {
    await registry.updateInstance({ instanceId: instance.id, fault: `resized, but replication did not resume: ${errorMessage(err)}` });
    throw err;
  }
}
