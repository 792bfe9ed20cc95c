// Errors carry their HTTP status so services can fail without knowing about
// HTTP, and the body uses Nova's {"<kind>": {code, message}} envelope because
// Nova clients read the message from there.
import type { z } from 'zod';

const KINDS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  500: 'computeFault',
  503: 'serviceUnavailable',
};

export class NovaApiError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = 'NovaApiError';
  }
}

export function errorBody(statusCode: number, message: string): Record<string, { code: number; message: string }> {
  const kind = KINDS[statusCode] ?? (statusCode >= 500 ? 'computeFault' : 'badRequest');
  return { [kind]: { code: statusCode, message } };
}

export const badRequest = (message: string): NovaApiError => new NovaApiError(400, message);
export const notFound = (message: string): NovaApiError => new NovaApiError(404, message);
export const conflict = (message: string): NovaApiError => new NovaApiError(409, message);
export const computeFault = (message: string): NovaApiError => new NovaApiError(500, message);

/** Names the offending field and the violated rule, like Nova's JSON-schema errors. */
export function invalidInput(error: z.ZodError): NovaApiError {
  const issue = error.issues[0];
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  return badRequest(`Invalid input for field/attribute ${field}. ${issue.message}`);
}

/** Parses a request part or throws a 400 naming the field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw invalidInput(result.error);
  return result.data;
}
