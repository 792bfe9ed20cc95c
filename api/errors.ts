// Trove/Nova-style error bodies: {"badRequest": {"code": 400, "message": "..."}}.
import type { FastifyReply } from 'fastify';

const KEYS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  409: 'conflictingRequest',
  413: 'requestEntityTooLarge',
  415: 'badMediaType',
  422: 'unprocessableEntity',
  500: 'computeFault',
  503: 'serviceUnavailable',
};

export function errorBody(code: number, message: string, extra: Record<string, unknown> = {}) {
  return { [KEYS[code] ?? 'error']: { code, message, ...extra } };
}

export function sendError(reply: FastifyReply, code: number, message: string, extra: Record<string, unknown> = {}) {
  return reply.code(code).send(errorBody(code, message, extra));
}

/** The rulebook's refusal: 400 for what the request asks, 409 for the state it meets. */
export function refusedReply(reply: FastifyReply, r: { status: 400 | 409; message: string; operation?: string }) {
  if (r.status === 400) return sendError(reply, 400, `invalid request: ${r.message}`, { errors: [r.message] });
  return sendError(reply, 409, r.message, r.operation ? { operation: r.operation } : {});
}

/**
 * A service the answer depends on did not answer (Nova, while a create's flavor and zone are
 * checked): thrown from a route before it changes anything; the app answers 503 with the message.
 */
export class ServiceUnavailable extends Error {
  readonly statusCode = 503;
}
