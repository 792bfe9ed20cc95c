// manageAccess: one request of the users API (list, show, create, delete, grant, revoke,
// change password) done by the instance's guest agent, which alone can reach its MariaDB.
//
// Why a workflow the API waits for, rather than a 202 and a long operation: Trove answers
// these requests at once, and what refuses them lives on the server (a user that does not
// exist is a 404, a grant of a database that is not there a 400), so the API needs the
// result. Why a workflow at all: an activity runs only inside one, and this way the
// request gets what every operation has: its own id (`access-<instance>-<action>-<request>`, so a
// repeated X-Request-Id is answered by the first run), a history and search attributes to
// find it, and, for a change, the instance's lock, so two changes, or a change and a
// delete or a promote, never interleave. Every step is bounded (a dead agent fails the
// step within seconds), so the workflow always ends and gives the lock back, whether or
// not the API still waits for it.
import { ApplicationFailure, CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AccessActivities } from '../activities/guest/access';
import { accessProblem, isChange, manageAccessInput, readAnswer, type ManageAccessInput, type ManageAccessResult } from '../lib/access';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import { guestTaskQueue } from '../lib/names';
import { beginOn, errorMessage, operationFailure, parseInput, registry, tagOperation } from './common';
import { Progress } from './progress';

/** A live agent answers in tens of ms; one that does not pick the task up within seconds is not there. */
function accessOn(novaServerId: string) {
  return proxyActivities<AccessActivities>({
    taskQueue: guestTaskQueue(novaServerId),
    scheduleToStartTimeout: '10s',
    startToCloseTimeout: '30s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

export async function manageAccess(raw: ManageAccessInput): Promise<ManageAccessResult> {
  const input = parseInput(manageAccessInput, raw) as ManageAccessInput;
  const { action } = input;
  const progress = new Progress('manageAccess', () => `${action.kind} on instance ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  if (!isChange(action)) {
    progress.phase('reading');
    const state = await accessOn(input.novaServerId).accessState();
    const problem = accessProblem(action, state);
    if (problem) throw ApplicationFailure.nonRetryable(problem.message, problem.kind === 'missing' ? ErrorType.NotFound : ErrorType.InvalidInput);
    progress.phase('done');
    return readAnswer(action, state);
  }

  const operationId = workflowInfo().workflowId;
  const { instance } = await beginOn('manageAccess', input, progress, action.kind, { fallbackType: ErrorType.OperationConflict });
  try {
    const guest = accessOn(instance.novaServerId ?? input.novaServerId);
    progress.phase('checking');
    const problem = accessProblem(action, await guest.accessState());
    if (problem) throw ApplicationFailure.nonRetryable(problem.message, problem.kind === 'missing' ? ErrorType.NotFound : ErrorType.InvalidInput);
    progress.phase('changing');
    await guest.changeAccess(action);
    progress.phase('done');
    return {};
  } catch (err) {
    progress.fail(errorMessage(err));
    throw err instanceof ApplicationFailure ? err : operationFailure(err, `${action.kind} failed`, ErrorType.GuestFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, instanceId: instance.id }));
  }
}
