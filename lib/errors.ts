// ApplicationFailure types. Workflows and activity retry policies refer to them by name,
// so they live in one place.
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  NotFound: 'NotFound',
  OperationConflict: 'OperationConflict',
  ServerBuildFailed: 'ServerBuildFailed',
  GuestFailed: 'GuestFailed',
  DeleteFailed: 'DeleteFailed',
  PreflightFailed: 'PreflightFailed',
  SourceHealthy: 'SourceHealthy',
  NoCandidate: 'NoCandidate',
  /**
   * The set is held by the delete of another of its replicas: seconds, not minutes, so the
   * lock is asked for again (retryable) instead of refusing the second delete.
   */
  SetBusyWithDelete: 'SetBusyWithDelete',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * Which conflicts on a replication set's lock are waited for rather than refused: a delete
 * behind another replica's delete (seconds). The API accepts such a request and the
 * registry's lockInstance retries it (SetBusyWithDelete).
 */
export function waitsForSetLock(operationType: string, holderType: string | null): boolean {
  return operationType === 'deleteInstance' && holderType === 'deleteInstance';
}

/** Errors no retry can fix: bad input, missing things, a build Nova already put in ERROR. */
export const NON_RETRYABLE: string[] = [
  ErrorType.InvalidInput,
  ErrorType.NotFound,
  ErrorType.OperationConflict,
  ErrorType.ServerBuildFailed,
  ErrorType.PreflightFailed,
  ErrorType.SourceHealthy,
  ErrorType.NoCandidate,
];
