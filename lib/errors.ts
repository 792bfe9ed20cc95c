// ApplicationFailure types. Workflows and activity retry policies refer to them by name,
// so they live in one place.
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  NotFound: 'NotFound',
  OperationConflict: 'OperationConflict',
  ServerBuildFailed: 'ServerBuildFailed',
  GuestFailed: 'GuestFailed',
  DeleteFailed: 'DeleteFailed',
  RestartFailed: 'RestartFailed',
  ResizeFailed: 'ResizeFailed',
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

/** The failure type of a rulebook refusal (lib/rules.ts), as the operation reports it. */
export const REFUSAL_ERROR_TYPE = {
  invalid: ErrorType.InvalidInput,
  conflict: ErrorType.OperationConflict,
  wait: ErrorType.SetBusyWithDelete,
  healthy: ErrorType.SourceHealthy,
} as const;
