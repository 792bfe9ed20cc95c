// createPair (C1/C2): a master-master pair from an instance that holds data (or, with
// `provision`, from a new one it provisions first: a pair asked for at create). The second
// master is built exactly as a read replica is (createReplicas as a child: one snapshot,
// buildReplica, the source's server group and zone), then the pair is made under the set's
// lock (workflows/pair-link.ts): each side writes in a GTID domain of its own (its server_id),
// the source replicates back from the new side, and the new side stays read-only (my.cnf too,
// so a restart keeps it so). The registry declares the pair by its two links in one transition.
import { ApplicationFailure, CancellationScope, executeChild, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { instanceNameAttribute, workflowIds } from '../lib/names';
import { createPairInput, type CreatePairInput, type CreatePairResult } from '../lib/schemas';
import { operationMetadata } from '../lib/summaries';
import { upstreamOf } from '../lib/topology';
import { beginOn, errorMessage, operationFailure, parseInput, recordFault, registry, tagOperation, tagReplicationSet } from './common';
import { createReplicas } from './create-replicas';
import { linkPair } from './pair-link';
import { provisionAsChild } from './provision-instance';
import { Progress } from './progress';

export async function createPair(raw: CreatePairInput): Promise<CreatePairResult> {
  const input = parseInput(createPairInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('createPair', () => `pair of ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  if (input.provision) {
    progress.phase('provisioning the first master');
    await provisionAsChild(input.instanceId, input.provision);
  }
  progress.phase('building the second master');
  const build = { sourceInstanceId: input.instanceId, projectId: input.projectId, count: 1, replicaIds: [input.peerId], template: input.name ? { name: input.name } : {}, readOnly: true };
  let built;
  try {
    built = await executeChild(createReplicas, {
      workflowId: workflowIds.createPairBuild(input.instanceId, input.peerId),
      args: [build],
      typedSearchAttributes: instanceNameAttribute(input.name ?? input.peerId),
      ...operationMetadata('createReplicas', build),
    });
  } catch (err) {
    // The child recorded its own fault on the source; the pair's failure says so too.
    throw operationFailure(err, 'createPair: the second master was not built', ErrorType.ServerBuildFailed);
  }
  const outcome = built.replicas[0]!;
  if (outcome.status !== 'ACTIVE') {
    const message = `createPair: the second master was not built: ${outcome.error ?? outcome.status}`;
    await recordFault(input.instanceId, message);
    throw ApplicationFailure.nonRetryable(message, ErrorType.ServerBuildFailed);
  }

  let begun;
  try {
    begun = await beginOn('createPair', input, progress, 'createPair');
  } catch (err) {
    await recordFault(input.instanceId, errorMessage(err));
    throw err;
  }
  const view = begun.set!;
  tagReplicationSet(view.setId);
  try {
    const source = view.source;
    const peer = view.replicas.find((r) => r.id === input.peerId);
    if (!peer || upstreamOf(view.topology, peer.id) !== source.id) {
      throw ApplicationFailure.nonRetryable(`instance ${input.peerId} is no longer a replica of ${source.id}; the pair was not made`, ErrorType.InvalidInput);
    }
    const gtidDomains = await linkPair(view, { member: source, domainId: source.mysqlServerId! }, { member: peer, domainId: peer.mysqlServerId! }, progress);
    progress.phase('done');
    return { activeId: source.id, passiveId: peer.id, replicationSetId: view.setId, gtidDomains };
  } catch (err) {
    progress.fail(errorMessage(err));
    const failure = operationFailure(err, 'createPair failed', ErrorType.GuestFailed);
    await recordFault(input.instanceId, failure.message);
    throw failure;
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
