// Keystone-like scoping: each token is valid for exactly one project. Every route under
// /v1.0/{project} needs a token of that project.
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors';

export function registerAuth(app: FastifyInstance, tokens: Map<string, string>): void {
  app.addHook('onRequest', async (req, reply) => {
    const token = req.headers['x-auth-token'];
    const project = typeof token === 'string' ? tokens.get(token) : undefined;
    if (!project) return sendError(reply, 401, 'a valid X-Auth-Token header is required');
    const wanted = (req.params as { project?: string } | undefined)?.project ?? /^\/v1\.0\/([^/?]+)/.exec(req.url)?.[1];
    if (wanted !== undefined && wanted !== project) return sendError(reply, 403, `the token is not valid for project ${wanted}`);
  });
}
