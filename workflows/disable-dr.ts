// disableDr (dr-disable): the DR replicas the API's plan names (lib/dr.ts drDisablePlan) are
// deleted, each by a deleteInstance child (its own lock and rules), and only then does the
// set stop following the zone profile. In that order a crash or a refused delete half way
// leaves the set still marked DR, so `dr-disable` again computes what is left and finishes;
// the other order left a set that followed no profile while its DR replica stayed.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { workflowIds } from '../lib/names';
import { disableDrInput, type DisableDrInput, type DisableDrResult } from '../lib/schemas';
import { errorMessage, operationFailure, parseInput, recordFault, registry, tagOperation } from './common';
import { deleteInstance } from './delete-instance';
import { Progress } from './progress';

export async function disableDr(raw: DisableDrInput): Promise<DisableDrResult> {
  const input = parseInput(disableDrInput, raw);
  const progress = new Progress('disableDr', () => `${input.instanceId}, zone profile ${input.profile}`);
  tagOperation(input.projectId, input.instanceId);
  try {
    progress.phase('deleting the DR replicas');
    await Promise.all(
      input.remove.map((id) => executeChild(deleteInstance, { workflowId: workflowIds.deleteInstance(id), args: [{ instanceId: id, projectId: input.projectId }] })),
    );
    progress.phase('leaving the profile');
    // The profile's settings go with it when no replica stays to keep them meaningful.
    await registry.updateSettings({ setId: input.setId, patch: { zoneProfileId: null, ...(input.keepsReplicas ? {} : { semiSync: false, autoFailover: false }) } });
    progress.phase('done');
    return { instanceId: input.instanceId, replicationSetId: input.setId, removed: input.remove, profile: input.profile };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, `DR off (zone profile ${input.profile}) failed; the set still follows the profile, dr-disable again finishes`, ErrorType.GuestFailed);
    await recordFault(input.instanceId, `${failure.message} (${workflowInfo().workflowId})`);
    throw failure;
  }
}
