import type { FastifyRequest } from 'fastify';

/** Links point back at whatever address the client used to reach us. */
export function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}
