// rebuildAfterZoneReturn: a zone profile's auto_rebuild (use case B3 "automatically, if the
// profile says so"). The eject that lost a zone starts it for the members it fenced there.
// "Back" is what an operator sees: Nova reports the zone available again (its hosts'
// nova-compute up; os-availability-zone zoneState). Until then it only polls. Then each
// fenced member is rebuilt as a replica of the set's source (rebuildAsReplica as a child:
// same rule, same errant-GTID report), the former source first; one that fails stays ERROR
// with its fault for a person, and the others still go.
import { continueAsNew, executeChild, ParentClosePolicy, sleep, uuid4 } from '@temporalio/workflow';
import { workflowIds } from '../lib/names';
import { rebuildAfterZoneReturnInput, type RebuildAfterZoneReturnInput, type RebuildAfterZoneReturnResult, type RebuildAsReplicaResult } from '../lib/schemas';
import { computeProbe, errorMessage, parseInput, registry, tagOperation } from './common';
import { Progress } from './progress';
import { rebuildAsReplica } from './rebuild-as-replica';

/** Polls per run before continue-as-new: a zone may stay down for days. */
const POLLS_PER_RUN = 500;

export async function rebuildAfterZoneReturn(raw: RebuildAfterZoneReturnInput): Promise<RebuildAfterZoneReturnResult> {
  const input = parseInput(rebuildAfterZoneReturnInput, raw);
  const progress = new Progress('rebuildAfterZoneReturn', () => `zone ${input.zone}: ${input.instanceIds.join(', ')}`);
  tagOperation(input.projectId, input.instanceIds[0]!);

  progress.phase(`waiting for zone ${input.zone} to be back`);
  let polls = input.polled;
  for (let run = 0; ; run++) {
    // Sleep first: the eject that started this still holds the set until it ends.
    await sleep(input.pollSeconds * 1000);
    polls++;
    // A Nova error is not the zone's return: ask again at the next poll.
    const back = await computeProbe.zoneAvailable(input.zone).then((z) => z.available, () => false);
    if (back) break;
    if (run + 1 >= POLLS_PER_RUN) return continueAsNew<typeof rebuildAfterZoneReturn>({ ...input, polled: polls });
  }

  const rebuilt: RebuildAsReplicaResult[] = [];
  const failed: Record<string, string> = {};
  for (const instanceId of input.instanceIds) {
    progress.phase(`rebuilding ${instanceId} as a replica`);
    try {
      rebuilt.push(
        await executeChild(rebuildAsReplica, {
          workflowId: workflowIds.rebuildAsReplica(instanceId, uuid4()),
          args: [{ instanceId, projectId: input.projectId }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }),
      );
    } catch (err) {
      failed[instanceId] = errorMessage(err);
    }
  }
  // The eject's set dissolved (no member left but the new source): the set the rebuild founded
  // follows the profile again, with its settings.
  const founded = rebuilt[0]?.replicationSetId;
  if (founded && input.follow && founded !== input.setId) {
    progress.phase('following the zone profile again');
    await registry.updateSettings({ setId: founded, patch: input.follow });
  }
  if (Object.keys(failed).length) progress.fail(`not rebuilt: ${JSON.stringify(failed)}`);
  else progress.phase('done');
  return { zone: input.zone, polls, rebuilt, failed };
}
