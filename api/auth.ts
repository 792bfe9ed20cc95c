// Keystone-like scoping: each token is valid for exactly one project. Every route under
// /v1.0/{project} needs a token of that project. Administrators' tokens serve /v1.0/admin
// only (zone profiles), and no project token reaches it.
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors';

export function registerAuth(app: FastifyInstance, tokens: Map<string, string>, adminTokens: ReadonlySet<string> = new Set()): void {
  app.addHook('onRequest', async (req, reply) => {
    const token = req.headers['x-auth-token'];
    const project = typeof token === 'string' ? tokens.get(token) : undefined;
    if (!project) {
      if (typeof token === 'string' && adminTokens.has(token)) return sendError(reply, 403, "an administrator's token serves /v1.0/admin only; use a project's token");
      return sendError(reply, 401, 'a valid X-Auth-Token header is required');
    }
    const wanted = (req.params as { project?: string } | undefined)?.project ?? /^\/v1\.0\/([^/?]+)/.exec(req.url)?.[1];
    if (wanted !== undefined && wanted !== project) return sendError(reply, 403, `the token is not valid for project ${wanted}`);
  });
}

export function registerAdminAuth(app: FastifyInstance, tokens: Map<string, string>, adminTokens: ReadonlySet<string>): void {
  app.addHook('onRequest', async (req, reply) => {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && adminTokens.has(token)) return;
    if (typeof token === 'string' && tokens.has(token)) return sendError(reply, 403, "this route needs an administrator's token (TROVE_ADMIN_TOKENS); a project's token cannot use it");
    return sendError(reply, 401, "a valid administrator's X-Auth-Token header is required");
  });
}
