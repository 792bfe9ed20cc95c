// Trove's backups: POST/GET /backups, GET/DELETE /backups/{id}, GET /instances/{id}/backups.
// A backup is a snapshot kept in the snapshot store (createBackup) until it is deleted
// (deleteBackup); `restorePoint` on an instance create builds a new master from it.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkDeleteBackup } from '../../lib/rules';
import { instanceIdForRequest, startCreateBackup, startDeleteBackup } from '../../lib/start';
import { formatIssues } from '../../lib/validation';
import type { BackupRecord } from '../../registry';
import { createBackupBody } from '../backup-schemas';
import { refusedReply, sendError } from '../errors';
import { findOrReply, refusal, requestIdOf } from '../lookup';
import type { InstanceRouteDeps } from './instances';

type Req = FastifyRequest<{ Params: { project: string; id?: string }; Querystring: { instance_id?: string } }>;

const GIB = 1024 ** 3;

/** Trove's backup view (size in GB, as python-troveclient prints it). */
export function backupView(b: BackupRecord, baseUrl: string) {
  return {
    id: b.id,
    name: b.name,
    description: b.description,
    status: b.status,
    instance_id: b.instanceId,
    project_id: b.projectId,
    parent_id: null,
    size: b.sizeBytes === null ? null : Math.round((b.sizeBytes / GIB) * 1e6) / 1e6,
    locationRef: b.status === 'COMPLETED' ? `snapshot://${b.id}` : null,
    datastore: { type: b.datastore, version: b.datastoreVersion, version_id: b.datastoreVersion },
    ...(b.failReason ? { fail_reason: b.failReason } : {}),
    created: b.created.toISOString(),
    updated: b.updated.toISOString(),
    links: [{ rel: 'self', href: `${baseUrl}/v1.0/${b.projectId}/backups/${b.id}` }],
  };
}

export function registerBackupRoutes(app: FastifyInstance, d: InstanceRouteDeps): void {
  const findBackup = async (reply: FastifyReply, project: string, id: string) => {
    const b = await d.registry.backups.getInProject(project, id);
    if (!b) sendError(reply, 404, `backup ${id} not found`);
    return b;
  };

  app.post('/v1.0/:project/backups', async (req: Req, reply) => {
    const parsed = createBackupBody.safeParse(req.body);
    if (!parsed.success) {
      const errors = formatIssues(parsed.error);
      return sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });
    }
    const body = parsed.data.backup;
    const rec = await findOrReply(d.registry, reply, req.params.project, body.instance, 'backup.instance');
    if (!rec) return reply;
    const refused = await refusal(d.registry, rec, 'createBackup', {}, d.limits);
    if (refused) return refusedReply(reply, refused);
    // The same X-Request-Id answers with the same backup.
    const requestId = requestIdOf(req);
    const backupId = requestId ? instanceIdForRequest(req.params.project, `backup:${requestId}`) : randomUUID();
    await d.registry.backups.insert({ id: backupId, projectId: rec.projectId, name: body.name, description: body.description ?? null, instanceId: rec.id, datastore: rec.datastore, datastoreVersion: rec.datastoreVersion });
    try {
      await startCreateBackup(d.temporal, { backupId, projectId: rec.projectId, instanceId: rec.id }, { instanceName: rec.name });
    } catch (err) {
      await d.registry.backups.remove(backupId);
      req.log.error({ err }, 'could not start createBackup');
      return sendError(reply, 503, 'the orchestrator is not reachable; nothing was created, try again');
    }
    return reply.code(202).send({ backup: backupView((await d.registry.backups.get(backupId))!, d.baseUrl) });
  });

  app.get('/v1.0/:project/backups', async (req: Req) => {
    const backups = await d.registry.backups.list(req.params.project, req.query.instance_id);
    return { backups: backups.map((b) => backupView(b, d.baseUrl)) };
  });

  app.get('/v1.0/:project/backups/:id', async (req: Req, reply) => {
    const b = await findBackup(reply, req.params.project, req.params.id!);
    return b ? { backup: backupView(b, d.baseUrl) } : reply;
  });

  app.get('/v1.0/:project/instances/:id/backups', async (req: Req, reply) => {
    const rec = await findOrReply(d.registry, reply, req.params.project, req.params.id!);
    if (!rec) return reply;
    return { backups: (await d.registry.backups.list(req.params.project, rec.id)).map((b) => backupView(b, d.baseUrl)) };
  });

  app.delete('/v1.0/:project/backups/:id', async (req: Req, reply) => {
    const b = await findBackup(reply, req.params.project, req.params.id!);
    if (!b) return reply;
    const refused = checkDeleteBackup(b, await d.registry.instances.restoresOf(b.id));
    if (refused) return refusedReply(reply, { status: 409, message: refused.message, ...(refused.operation ? { operation: refused.operation } : {}) });
    await startDeleteBackup(d.temporal, { backupId: b.id, projectId: b.projectId, instanceId: b.instanceId });
    return reply.code(202).send();
  });
}
