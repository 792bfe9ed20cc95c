// Turns zod issues into one line a person can act on: "users[0].name: must match ...".
import type { ZodError, ZodType } from 'zod';

/** under: where the parsed value sits in a larger body (an action's name), so its fields read "resize.volume.size". */
export function formatIssues(error: ZodError, under = ''): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
      under,
    );
    return `${path || '(input)'}: ${issue.message}`;
  });
}

export class ValidationError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid input: ${issues.join('; ')}`);
    this.name = 'ValidationError';
  }
}

/** Parses or throws a ValidationError that names every bad field. */
export function parseOrThrow<T>(schema: ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(formatIssues(result.error));
  return result.data;
}
