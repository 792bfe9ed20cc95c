// The REST API: Trove v1.0 shapes, token auth scoped to one project, zod-validated bodies.
import type { Limits } from '../lib/rules';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { NovaClient } from '../lib/nova-client';
import type { Registry } from '../registry';
import { registerAdminAuth, registerAuth } from './auth';
import { registerCodecServer, type CodecServerDeps } from './codec';
import type { ApiMetrics } from './metrics';
import { sendError, ServiceUnavailable } from './errors';
import { openApiDocument } from './openapi';
import { registerAccessRoutes } from './routes/access';
import { registerBackupRoutes } from './routes/backups';
import { registerCatalogRoutes } from './routes/catalog';
import { registerDrRoutes } from './routes/dr';
import { registerInstanceRoutes } from './routes/instances';
import { registerReplicationRoutes } from './routes/replication';
import { registerAdminZoneProfileRoutes, registerZoneProfileRoutes } from './routes/zone-profiles';

export interface ApiDeps {
  registry: Registry;
  temporal: Client;
  nova: NovaClient;
  secretKey: Buffer;
  tokens: Map<string, string>;
  /** Administrators' tokens (TROVE_ADMIN_TOKENS): /v1.0/admin only. */
  adminTokens?: string[];
  baseUrl: string;
  limits: Limits;
  logger?: boolean | object;
  /** The codec server (api/codec.ts), when payloads are encrypted. */
  codecServer?: CodecServerDeps;
  /** Request counts and latency (api/metrics.ts). */
  metrics?: ApiMetrics;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

export function buildApiApp(d: ApiDeps): FastifyInstance {
  const app = Fastify({
    logger: d.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Request bodies carry passwords: never log them, nor the token header.
  });
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return sendError(reply, 413, `request body larger than ${BODY_LIMIT_BYTES} bytes`);
    if (status === 415) return sendError(reply, 415, 'Content-Type must be application/json');
    if (status === 400) return sendError(reply, 400, `malformed request: ${err.message}`);
    if (err instanceof ServiceUnavailable) {
      req.log.error({ err: err.cause }, err.message);
      return sendError(reply, 503, err.message);
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal error');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, `no route ${req.method} ${req.url}`));
  app.get('/', async () => ({ versions: [{ id: 'v1.0', status: 'CURRENT' }] }));
  // The document describes the API, not a project: no token needed to read it.
  const openapi = openApiDocument();
  app.get('/openapi.json', async () => openapi);
  const adminTokens = new Set(d.adminTokens ?? []);
  d.metrics?.register(app);
  if (d.codecServer) registerCodecServer(app, d.codecServer);
  app.register(async (admin) => {
    registerAdminAuth(admin, d.tokens, adminTokens);
    registerAdminZoneProfileRoutes(admin, d);
  });
  app.register(async (scoped) => {
    registerAuth(scoped, d.tokens, adminTokens);
    const replication = registerReplicationRoutes(scoped, d);
    registerInstanceRoutes(scoped, d, replication.createFromBody);
    registerCatalogRoutes(scoped, d);
    registerAccessRoutes(scoped, d);
    registerZoneProfileRoutes(scoped, d);
    registerBackupRoutes(scoped, d);
    registerDrRoutes(scoped, d);
  });
  return app;
}
