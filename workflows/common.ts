// Activity proxies and input parsing shared by the workflows. Retry policies are chosen
// per kind of activity: registry calls are quick and safe to retry often; Nova calls
// back off more; guest calls wait for the agent to come up on a new server.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ZodType } from 'zod';
import type { ComputeActivities } from '../activities/compute/activities';
import type { MonitorActivities } from '../activities/control/monitor';
import type { GuestActivities } from '../activities/guest/activities';
import type { CertificateActivities } from '../activities/guest/certificates';
import type { MonitorAccountActivities } from '../activities/guest/monitor-account';
import type { ReplicationActivities } from '../activities/guest/replication';
import type { SnapshotActivities } from '../activities/snapshots/activities';
import type { TlsActivities } from '../activities/tls/activities';
import type { BeginInput, BeginResult, InstanceSummary, RegistryActivities, SetView } from '../activities/registry/activities';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import { SA_INSTANCE, SA_OPERATION, SA_PROJECT, SA_REPLICATION_SET, guestTaskQueue } from '../lib/names';
import type { OperationType } from '../lib/rules';
import { upstreamOf } from '../lib/topology';
import type { Progress } from './progress';
import { formatIssues } from '../lib/validation';

/**
 * Quick control-plane calls (registry, starting a monitor) answer in
 * milliseconds and are idempotent: a short start-to-close is what lets an operation whose
 * orchestrator worker died mid-call go on within seconds of a restart (at 30 s, the chaos
 * trials that killed the worker took ~35 s; issue 17). A slow attempt is simply retried.
 */
const QUICK_CALL = '5s';

export const registry = proxyActivities<RegistryActivities>({
  startToCloseTimeout: QUICK_CALL,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Each replication set's certificate authority (quick, idempotent; its key never leaves the activity). */
export const authority = proxyActivities<TlsActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
});

export const compute = proxyActivities<ComputeActivities>({
  startToCloseTimeout: '2m',
  // A Nova call answers within a fraction of a second (124 ms the slowest under load ~20); the
  // long ones (fence, delete, resize) heartbeat as they poll. A dead worker's call is retried
  // after this, not after the 2 minutes: 5 s, so a worker restarted in a few seconds finds
  // it retryable (issue 17; was 10 s).
  heartbeatTimeout: '5s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The orchestrator's own probe of members (a few seconds at most): a probe that hangs must
 * not hold the monitor, whose next look may be the one that decides a failover.
 */
export const computeProbe = proxyActivities<ComputeActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Waiting for a server to boot polls and heartbeats, bounded by the build timeout. */
export const computeWait = proxyActivities<ComputeActivities>({
  startToCloseTimeout: '10m',
  // It heartbeats every poll (<= 1 s): a dead worker's wait is retried within ~3.5 s of the
  // kill, so a worker restarted in a few seconds runs it again at once (at 5 s and a 1 s first
  // retry it came ~5.6 s after the restart: bench/RESULTS.md, *Resume*). A retry only polls Nova again.
  heartbeatTimeout: '3s',
  // More attempts than before: a worker stalled past the heartbeat timeout costs one.
  retry: { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Starting a set's monitor through the orchestrator's Temporal client: quick and idempotent. */
export const monitors = proxyActivities<MonitorActivities>({
  startToCloseTimeout: QUICK_CALL,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
});

type GuestAll = GuestActivities & ReplicationActivities & CertificateActivities & MonitorAccountActivities;

export const snapshots = proxyActivities<SnapshotActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 20 },
});

/**
 * Snapshot and restore move whole datasets: long, heartbeating, resumable by retry. A
 * server that dies under them is noticed by the missed heartbeat, and a server that stays
 * down by nobody taking the retry (schedule-to-start is not retried).
 */
export function guestLong(novaServerId: string) {
  return proxyActivities<GuestAll>({
    taskQueue: guestTaskQueue(novaServerId),
    scheduleToStartTimeout: '90s',
    startToCloseTimeout: '4h',
    heartbeatTimeout: '20s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

/**
 * Health checks: a guest that does not answer at once counts as not answering. A live
 * agent picks a task up within ~0.1 s and answers in tens of ms; a dead one holds a monitor
 * poll for 1 s, and one killed after it picked the task up, for `answerWithin`: both are
 * floors of failover detection. The monitor asks for 1 s (at 3 s, an agent killed mid-answer
 * made 7 s detections: bench/improvements.md §8); an operation choosing a candidate gives a
 * busy replica 3 s rather than count it out.
 */
export function guestProbe(novaServerId: string, answerWithin: Duration = '3s') {
  return guestOnce(novaServerId, '1s', answerWithin);
}

/**
 * Upkeep the monitor does between its looks (semi-sync roles): one short try, retried at the
 * next poll. A member that dies between its status and this call must not hold the monitor,
 * whose next look may be the one that decides a failover.
 */
export function guestUpkeep(novaServerId: string) {
  return guestOnce(novaServerId, '2s', '5s');
}

/** One try on a member's agent, bounded twice: to be picked up, and to answer. */
function guestOnce(novaServerId: string, scheduleToStartTimeout: Duration, startToCloseTimeout: Duration) {
  return proxyActivities<GuestAll>({ taskQueue: guestTaskQueue(novaServerId), scheduleToStartTimeout, startToCloseTimeout, retry: { maximumAttempts: 1 } });
}

export function guestActivities(novaServerId: string) {
  return proxyActivities<GuestAll>({
    taskQueue: guestTaskQueue(novaServerId),
    // The agent of a new server needs a few seconds to boot before it polls.
    scheduleToStartTimeout: '5m',
    startToCloseTimeout: '5m',
    heartbeatTimeout: '60s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

/** Parses workflow input; bad input fails the workflow at once, naming each field. */
export function parseInput<T>(schema: ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw ApplicationFailure.nonRetryable(`invalid input: ${formatIssues(result.error).join('; ')}`, ErrorType.InvalidInput);
  }
  return result.data;
}

/**
 * Makes the operation findable in the Web UI even when it was started without attributes.
 * setId: the set too, in the same update (each update is a visibility write on the server).
 */
export function tagOperation(projectId: string, instanceId: string, setId?: string): void {
  upsertSearchAttributes([
    { key: SA_PROJECT, value: projectId },
    { key: SA_INSTANCE, value: instanceId },
    { key: SA_OPERATION, value: workflowInfo().workflowType },
    ...(setId === undefined ? [] : [{ key: SA_REPLICATION_SET, value: setId }]),
  ]);
}

/**
 * The failure a workflow ends with: the activity's own type and message (NotFound,
 * InvalidInput, OperationConflict...) rather than a generic "activity task failed".
 */
export function operationFailure(err: unknown, prefix: string, fallbackType: string): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const type = cause instanceof ApplicationFailure && cause.type ? cause.type : fallbackType;
  return ApplicationFailure.create({ message: `${prefix}: ${errorMessage(err)}`, type, nonRetryable: true });
}

/**
 * The operation itself was cancelled and err is that cancellation reaching it (not a step
 * that failed, nor a step the workflow cancelled on its own): it should end CANCELLED.
 */
export function cancelled(err: unknown): boolean {
  return isCancellation(err) && CancellationScope.current().consideredCancelled;
}

export function tagReplicationSet(setId: string): void {
  upsertSearchAttributes([{ key: SA_REPLICATION_SET, value: setId }]);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : err.message;
  }
  return String(err);
}

/** The member of the set that `id` replicates from (through the topology model). */
export function upstreamMember(set: SetView, id: string): InstanceSummary {
  const upstream = upstreamOf(set.topology, id);
  const found = [set.source, ...set.replicas].find((m) => m.id === upstream);
  if (!found) throw ApplicationFailure.nonRetryable(`instance ${id} replicates from no member of set ${set.setId}`, ErrorType.InvalidInput);
  return found;
}

/**
 * An operation's first step on an instance: the rulebook's check and the locks it takes
 * (beginOperation). A refusal fails the operation as "<what> refused: <reason>"; with
 * faultPatch (the workflow's patch id that records faults), and in an execution that has it,
 * the refusal is the instance's fault too: the API answered 202, so only `show` can tell.
 */
export async function beginOn(
  type: OperationType,
  input: { projectId: string; instanceId: string },
  progress: Progress,
  what: string,
  options: { fallbackType?: string; faultPatch?: string } & Pick<BeginInput, 'resize'> = {},
): Promise<BeginResult> {
  progress.phase('locking');
  try {
    return await registry.beginOperation({ operation: { id: workflowInfo().workflowId, type }, projectId: input.projectId, instanceId: input.instanceId, ...(options.resize ? { resize: options.resize } : {}) });
  } catch (err) {
    const failure = operationFailure(err, `${what} refused`, options.fallbackType ?? ErrorType.InvalidInput);
    if (options.faultPatch && patched(options.faultPatch)) await recordFault(input.instanceId, failure.message);
    throw failure;
  }
}

/**
 * Trove's fault, on the instance the user acted on: what its operation said when it failed
 * after the 202, or what it could not do (replicas not built or not moved). The status
 * changes only to ERROR, and only when the failure took the instance out of service (a
 * fenced source); otherwise it stays as it is, since the instance still works. Best effort:
 * the operation ends with its own failure whether or not the registry could be told.
 */
export async function recordFault(instanceId: string, message: string, status?: 'ERROR'): Promise<void> {
  await CancellationScope.nonCancellable(() => registry.updateInstance({ instanceId, fault: message, ...(status ? { status } : {}) })).catch(() => undefined);
}
