// /v1.0/{project}/instances: create, list, show, delete. Long operations answer 202 at
// once; the workflow does the work and the registry shows its progress.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NovaClient } from '../../lib/nova-client';
import { workflowIds } from '../../lib/names';
import type { Limits } from '../../lib/rules';
import type { ProvisionInstanceSpec } from '../../lib/schemas';
import { sealSecret } from '../../lib/secrets';
import { instanceIdForRequest, startDeleteInstance, startProvisionInstance } from '../../lib/start';
import { formatIssues } from '../../lib/validation';
import { newInstanceFromSpec, type InstanceRecord, type Registry } from '../../registry';
import { refusedReply, sendError } from '../errors';
import { busyWith, findOrReply, placementProblems, refusal, requestIdOf } from '../lookup';
import { createInstanceBody } from '../schemas';
import { healthView, instanceView, type OperationView } from '../views';

export interface InstanceRouteDeps {
  registry: Registry;
  temporal: Client;
  nova: NovaClient;
  secretKey: Buffer;
  baseUrl: string;
  /** The rulebook's limits (TROVE_MAX_REPLICAS, the topology's depth). */
  limits: Limits;
}

type ProjectReq = FastifyRequest<{ Params: { project: string; id?: string } }>;

/** The operation running on the instance, or on its replication set (promote, eject), with its phase. */
async function operationOf(temporal: Client, store: Registry, r: InstanceRecord): Promise<OperationView | undefined> {
  const busy = await busyWith(store, r);
  if (!busy) return undefined;
  const op: OperationView = { id: busy.operation, type: busy.type };
  try {
    const progress = await Promise.race([
      temporal.workflow.getHandle(op.id).query<{ phase: string }>('progress'),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000).unref()),
    ]);
    if (progress) op.phase = progress.phase;
  } catch {
    /* progress is best effort: the record still tells the status */
  }
  return op;
}

export type RouteHandler = (req: FastifyRequest<{ Params: { project: string; id: string } }>, reply: FastifyReply) => Promise<unknown>;

export function registerInstanceRoutes(app: FastifyInstance, d: InstanceRouteDeps, createReplica: RouteHandler): void {
  const findInstance = (reply: FastifyReply, project: string, ref: string) => findOrReply(d.registry, reply, project, ref);

  app.post('/v1.0/:project/instances', async (req: ProjectReq, reply) => {
    const { project } = req.params;
    const raw = (req.body as { instance?: Record<string, unknown> } | null)?.instance;
    if (raw && typeof raw === 'object' && ('replica_of' in raw || 'slave_of' in raw)) return createReplica(req as never, reply);
    const parsed = createInstanceBody.safeParse(req.body);
    if (!parsed.success) {
      const errors = formatIssues(parsed.error);
      return sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });
    }
    const body = parsed.data.instance;
    const dbNames = new Set(body.databases.map((db) => db.name));
    const problems = [
      ...(await placementProblems(d.nova, { flavorId: body.flavorRef, zone: body.availability_zone }, { flavor: 'instance.flavorRef', zone: 'instance.availability_zone' })),
      ...body.users.flatMap((u, i) => u.databases.filter((db) => !dbNames.has(db.name)).map((db) => `instance.users[${i}].databases: "${db.name}" is not in instance.databases`)),
    ];
    if (problems.length) return sendError(reply, 400, `invalid request: ${problems.join('; ')}`, { errors: problems });

    const requestId = requestIdOf(req);
    const instanceId = requestId ? instanceIdForRequest(project, requestId) : randomUUID();
    const existing = await d.registry.instances.get(instanceId);
    if (existing) return reply.code(202).send({ instance: instanceView(existing, d.baseUrl) });

    const spec: ProvisionInstanceSpec = {
      instanceId,
      projectId: project,
      name: body.name,
      flavorId: body.flavorRef,
      volumeSizeGb: body.volume.size,
      availabilityZone: body.availability_zone,
      databases: body.databases.map((db) => db.name),
      users: body.users.map((u) => ({ name: u.name, host: u.host, sealedPassword: sealSecret(d.secretKey, u.password), databases: u.databases.map((db) => db.name) })),
    };
    const operationId = workflowIds.provisionInstance(instanceId);
    // Recorded before the start so that a GET right after the 202 finds the instance.
    await d.registry.instances.insert(newInstanceFromSpec(spec, operationId));
    try {
      await startProvisionInstance(d.temporal, spec);
    } catch (err) {
      await d.registry.instances.remove(instanceId);
      req.log.error({ err }, 'could not start provisionInstance');
      return sendError(reply, 503, 'the orchestrator is not reachable; nothing was created, try again');
    }
    const rec = (await d.registry.instances.get(instanceId))!;
    return reply.code(202).send({ instance: instanceView(rec, d.baseUrl, { id: operationId, type: 'provisionInstance' }) });
  });

  app.get('/v1.0/:project/instances', async (req: ProjectReq) => {
    const records = await d.registry.instances.list(req.params.project);
    return { instances: records.map((r) => instanceView(r, d.baseUrl, r.operationId ? { id: r.operationId, type: r.operationType } : undefined)) };
  });

  app.get('/v1.0/:project/instances/:id', async (req: ProjectReq, reply) => {
    const rec = await findInstance(reply, req.params.project, req.params.id!);
    if (!rec) return reply;
    const setId = rec.replicationSetId;
    const [topology, members, health] = setId
      ? await Promise.all([d.registry.sets.topology(setId), d.registry.instances.listSetMembers(setId), d.registry.health.get(setId)])
      : [undefined, [], []];
    const set = topology ? { topology, members } : undefined;
    return { instance: { ...instanceView(rec, d.baseUrl, await operationOf(d.temporal, d.registry, rec), set), ...(health.length ? { replication_health: healthView(health) } : {}) } };
  });

  app.delete('/v1.0/:project/instances/:id', async (req: ProjectReq, reply) => {
    const rec = await findInstance(reply, req.params.project, req.params.id!);
    if (!rec) return reply;
    const refused = await refusal(d.registry, rec, 'deleteInstance', { operationId: workflowIds.deleteInstance(rec.id) }, d.limits);
    if (refused) return refusedReply(reply, refused);
    await startDeleteInstance(d.temporal, { instanceId: rec.id, projectId: rec.projectId });
    return reply.code(202).send();
  });
}
