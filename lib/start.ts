// Typed start helpers for services that start operations themselves (and for our API).
// Each operation has a deterministic workflow id, so repeating a request (same request
// id) returns the operation already started instead of starting a second one.
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { instanceNameAttribute, ORCHESTRATOR_TASK_QUEUE, SA_INSTANCE, SA_OPERATION, SA_PROJECT, workflowIds } from './names';
import {
  createReplicasInput,
  deleteInstanceInput,
  detachReplicaInput,
  provisionInstanceInput,
  type CreateReplicasInput,
  type DeleteInstanceInput,
  type DetachReplicaInput,
  type ProvisionInstanceInput,
  ejectInput,
  promoteInput,
  type EjectInput,
  type PromoteInput,
  resizeInstanceInput,
  restartInstanceInput,
  type ResizeInstanceInput,
  type RestartInstanceInput,
  enableReplicationTlsInput,
  rebuildAsReplicaInput,
  createBackupInput,
  deleteBackupInput,
  type CreateBackupInput,
  type DeleteBackupInput,
  type RebuildAsReplicaInput,
  type EnableReplicationTlsInput,
  disableDrInput,
  enableDrInput,
  type DisableDrInput,
  type EnableDrInput,
  createPairInput,
  switchPairInput,
  breakPairInput,
  type BreakPairInput,
  type CreatePairInput,
  type SwitchPairInput,
} from './schemas';
import { operationMetadata, type OperationMetadata } from './summaries';
import { parseOrThrow } from './validation';
import { manageAccessInput, type ManageAccessInput } from './access';

/** A UUID derived from (project, request id): the same request always names the same instance. */
export function instanceIdForRequest(projectId: string, requestId: string): string {
  const h = createHash('sha256').update(`${projectId}\0${requestId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface StartOptions {
  taskQueue?: string;
  /**
   * The instance's name, for the Web UI's summary and its TroveInstanceName column (the input
   * carries only its id; a provision's input carries the name itself).
   */
  instanceName?: string;
}

// Provisioning is done once per id (a repeat returns the first run); a delete may be run
// again after a failed attempt.
type ReusePolicy = 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE';

async function startOrAttach(
  client: Client,
  type: string,
  workflowId: string,
  arg: unknown,
  projectId: string,
  instanceId: string,
  reuse: ReusePolicy,
  opts: StartOptions,
  metadata: OperationMetadata,
): Promise<WorkflowHandle> {
  try {
    return await client.workflow.start(type, {
      workflowId,
      taskQueue: opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
      args: [arg],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: reuse,
      typedSearchAttributes: [
        { key: SA_PROJECT, value: projectId },
        { key: SA_INSTANCE, value: instanceId },
        { key: SA_OPERATION, value: type },
        ...instanceNameAttribute(opts.instanceName),
      ],
      ...metadata,
    });
  } catch (err) {
    // Already ran to completion under this id: the request was already served.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
    throw err;
  }
}

export async function startProvisionInstance(client: Client, input: ProvisionInstanceInput, opts: StartOptions = {}) {
  const spec = parseOrThrow(provisionInstanceInput, input);
  return startOrAttach(client, 'provisionInstance', workflowIds.provisionInstance(spec.instanceId), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', { ...opts, instanceName: spec.name }, operationMetadata('provisionInstance', spec));
}

export async function startDeleteInstance(client: Client, input: DeleteInstanceInput, opts: StartOptions = {}) {
  const spec = parseOrThrow(deleteInstanceInput, input);
  return startOrAttach(client, 'deleteInstance', workflowIds.deleteInstance(spec.instanceId), spec, spec.projectId, spec.instanceId, 'ALLOW_DUPLICATE', opts, operationMetadata('deleteInstance', spec, { name: opts.instanceName }));
}

/** The ids the replicas of one request get: the same request id always yields the same ones. */
export function replicaIdsForRequest(projectId: string, sourceId: string, requestId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => instanceIdForRequest(projectId, `${sourceId}/${requestId}/replica-${i + 1}`));
}

/**
 * Starts createReplicas. With a requestId, a repeated call returns the same operation (and
 * the same replica ids); without one, every call is a new operation.
 */
export async function startCreateReplicas(client: Client, input: CreateReplicasInput, opts: StartOptions & { requestId?: string } = {}) {
  const requestId = opts.requestId ?? randomUUID();
  const withIds = input.replicaIds ? input : { ...input, replicaIds: replicaIdsForRequest(input.projectId, input.sourceInstanceId, requestId, input.count) };
  const spec = parseOrThrow(createReplicasInput, withIds);
  const handle = await startOrAttach(client, 'createReplicas', workflowIds.createReplicas(spec.sourceInstanceId, requestId), spec, spec.projectId, spec.sourceInstanceId, 'REJECT_DUPLICATE', opts, operationMetadata('createReplicas', spec, { name: opts.instanceName }));
  return { handle, replicaIds: spec.replicaIds! };
}

export async function startDetachReplica(client: Client, input: DetachReplicaInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(detachReplicaInput, input);
  return startOrAttach(client, 'detachReplica', workflowIds.detachReplica(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('detachReplica', spec, { name: opts.instanceName }));
}

export async function startPromote(client: Client, input: PromoteInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(promoteInput, { flipSourceEarly: true, ...input });
  return startOrAttach(client, 'promoteToReplicaSource', workflowIds.promote(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('promoteToReplicaSource', spec, { name: opts.instanceName }));
}

export async function startEject(client: Client, input: EjectInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(ejectInput, { flipSourceEarly: true, ...input });
  return startOrAttach(client, 'ejectReplicaSource', workflowIds.eject(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('ejectReplicaSource', spec, { name: opts.instanceName }));
}

/**
 * Starts manageAccess (one request of the users API); the caller waits for its result. The
 * same request id is answered by the same run, also after it has ended.
 */
export async function startManageAccess(client: Client, input: ManageAccessInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(manageAccessInput, input) as ManageAccessInput;
  return startOrAttach(client, 'manageAccess', workflowIds.manageAccess(spec.instanceId, spec.action.kind, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('manageAccess', spec, { name: opts.instanceName }));
}

export async function startRestartInstance(client: Client, input: RestartInstanceInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(restartInstanceInput, input);
  return startOrAttach(client, 'restartInstance', workflowIds.restartInstance(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('restartInstance', spec, { name: opts.instanceName }));
}

export async function startResizeInstance(client: Client, input: ResizeInstanceInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(resizeInstanceInput, input);
  return startOrAttach(client, 'resizeInstance', workflowIds.resizeInstance(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('resizeInstance', spec, { name: opts.instanceName }));
}

/** Starts enableReplicationTls on the set of `instanceId` (setId names the workflow). */
export async function startEnableReplicationTls(client: Client, input: EnableReplicationTlsInput, opts: StartOptions & { requestId?: string; setId: string }) {
  const spec = parseOrThrow(enableReplicationTlsInput, input);
  return startOrAttach(client, 'enableReplicationTls', workflowIds.enableReplicationTls(opts.setId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('enableReplicationTls', spec, { name: opts.instanceName }));
}

/** Starts rebuildAsReplica on a former source that a failover fenced. */
export async function startRebuildAsReplica(client: Client, input: RebuildAsReplicaInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(rebuildAsReplicaInput, input);
  return startOrAttach(client, 'rebuildAsReplica', workflowIds.rebuildAsReplica(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('rebuildAsReplica', spec, { name: opts.instanceName }));
}

/** Starts createBackup (the API has recorded the backup as NEW); one operation per backup. */
export async function startCreateBackup(client: Client, input: CreateBackupInput, opts: StartOptions = {}) {
  const spec = parseOrThrow(createBackupInput, input);
  return startOrAttach(client, 'createBackup', workflowIds.createBackup(spec.backupId), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('createBackup', spec, { name: opts.instanceName }));
}

/** Starts deleteBackup: its snapshot leaves the store, then its record. */
export async function startDeleteBackup(client: Client, input: DeleteBackupInput & { instanceId: string }, opts: StartOptions = {}) {
  const { instanceId, ...rest } = input;
  const spec = parseOrThrow(deleteBackupInput, rest);
  return startOrAttach(client, 'deleteBackup', workflowIds.deleteBackup(spec.backupId), spec, spec.projectId, instanceId, 'ALLOW_DUPLICATE', opts, operationMetadata('deleteBackup', spec, { name: opts.instanceName }));
}

/** Starts disableDr (dr-disable); the same request id names the same operation. */
export async function startDisableDr(client: Client, input: DisableDrInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(disableDrInput, input);
  return startOrAttach(client, 'disableDr', workflowIds.disableDr(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('disableDr', spec, { name: opts.instanceName }));
}

/**
 * Starts enableDr: dr-enable on a running instance, or (with `provision`) a create with
 * dr_profile. The same request id names the same operation.
 */
export async function startEnableDr(client: Client, input: EnableDrInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(enableDrInput, input);
  const name = opts.instanceName ?? spec.provision?.name;
  return startOrAttach(client, 'enableDr', workflowIds.enableDr(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', { ...opts, instanceName: name }, operationMetadata('enableDr', spec, { name }));
}

/** The id a pair's second master gets: the same request always names the same instance. */
export const pairPeerIdForRequest = (projectId: string, instanceId: string, requestId: string): string => instanceIdForRequest(projectId, `${instanceId}/${requestId}/pair`);

/** Starts createPair (C1/C2) on `instanceId`; peerId (the new side) is fixed by the caller so it can answer with it. */
export async function startCreatePair(client: Client, input: CreatePairInput, opts: StartOptions = {}) {
  const spec = parseOrThrow(createPairInput, input);
  return startOrAttach(client, 'createPair', workflowIds.createPair(spec.instanceId, spec.peerId), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('createPair', spec, { name: opts.instanceName }));
}

/** Starts switchPairActive (C3): `instanceId` becomes the active side of its pair. */
export async function startSwitchPairActive(client: Client, input: SwitchPairInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(switchPairInput, input);
  return startOrAttach(client, 'switchPairActive', workflowIds.switchPairActive(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('switchPairActive', spec, { name: opts.instanceName }));
}

/** Starts failOverPair: the active side `instanceId` is fenced, the pair's other side takes over. */
export async function startFailOverPair(client: Client, input: EjectInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(ejectInput, input);
  return startOrAttach(client, 'failOverPair', workflowIds.failOverPair(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('failOverPair', spec, { name: opts.instanceName }));
}

/** Starts breakPair on the pair of `instanceId` (either side). */
export async function startBreakPair(client: Client, input: BreakPairInput, opts: StartOptions & { requestId?: string } = {}) {
  const spec = parseOrThrow(breakPairInput, input);
  return startOrAttach(client, 'breakPair', workflowIds.breakPair(spec.instanceId, opts.requestId ?? randomUUID()), spec, spec.projectId, spec.instanceId, 'REJECT_DUPLICATE', opts, operationMetadata('breakPair', spec, { name: opts.instanceName }));
}
