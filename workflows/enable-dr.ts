// enableDr (issue 18, B1 and B4): a zone profile's DR replica for an instance. With
// `provision` (dr_profile on create) the master is provisioned first, in the profile's
// primary zone with its locality; then, as dr-enable on a running instance, the profile is
// checked (lib/dr.ts, the API's rule again), createReplicas builds one replica in the first
// DR zone from one snapshot of the source (online: mariadb-backup, no write outage), and the
// set records the profile with its semi-sync and automatic failover, which the set's
// monitor applies from its next poll. Locks are the children's: this workflow holds none.
import { executeChild, uuid4, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { drReplicaName } from '../lib/dr';
import { workflowIds } from '../lib/names';
import { enableDrInput, type EnableDrInput, type EnableDrResult } from '../lib/schemas';
import { errorMessage, operationFailure, parseInput, recordFault, registry, tagOperation } from './common';
import { createReplicas } from './create-replicas';
import { Progress } from './progress';
import { provisionAsChild } from './provision-instance';

export async function enableDr(raw: EnableDrInput): Promise<EnableDrResult> {
  const input = parseInput(enableDrInput, raw);
  const progress = new Progress('enableDr', () => `${input.instanceId}, zone profile ${input.profile}`);
  tagOperation(input.projectId, input.instanceId);
  // Made once and kept in history: a replay names the same replica.
  const replicaId = input.replicaId ?? uuid4();
  try {
    if (input.provision) {
      progress.phase('provisioning the source');
      await provisionAsChild(input.instanceId, input.provision);
    }
    progress.phase('checking the profile');
    const profile = await registry.drProfileFor({ projectId: input.projectId, instanceId: input.instanceId, profile: input.profile });

    progress.phase('building the DR replica');
    const built = await executeChild(createReplicas, {
      workflowId: workflowIds.createReplicas(input.instanceId, `dr-${replicaId}`),
      args: [{ sourceInstanceId: input.instanceId, projectId: input.projectId, count: 1, replicaIds: [replicaId], template: { name: drReplicaName(profile.sourceName), availabilityZone: profile.drZone } }],
    });
    const replica = built.replicas[0];
    if (replica?.status !== 'ACTIVE') throw new Error(`the DR replica in ${profile.drZone} was not built: ${replica?.error ?? 'no outcome'}`);

    progress.phase('applying the profile');
    await registry.updateSettings({ setId: built.replicationSetId, patch: { zoneProfileId: profile.id, semiSync: profile.semiSync, autoFailover: profile.autoFailover } });
    progress.phase('done');
    return { instanceId: input.instanceId, replicationSetId: built.replicationSetId, replicaId, profile: profile.name, primaryZone: profile.primaryZone, drZone: profile.drZone };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, `DR with zone profile ${input.profile} failed`, ErrorType.GuestFailed);
    await recordFault(input.instanceId, `${failure.message} (${workflowInfo().workflowId})`);
    throw failure;
  }
}
