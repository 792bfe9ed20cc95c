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
