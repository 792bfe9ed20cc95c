// Replication routes: create replicas (POST /instances with replica_of, or the seed's
// "replicate" action) and detach (topology action, or PATCH/PUT replica_of: null).
// Checks that need no workflow answer at once; the workflow checks again under its lock.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { replicaNames, replicaShape, workflowIds } from '../../lib/names';
import type { ReplicationSettings } from '../../lib/schemas';
import { replicaIdsForRequest, startCreateReplicas, startDetachReplica, startEject, startEnableReplicationTls, startPromote, startRebuildAsReplica, startFailOverPair } from '../../lib/start';
import { tlsFromStart } from '../../lib/tls-from-start';
import { failoverOperationFor } from '../../lib/pair-failover';
import { sourceOf } from '../../lib/topology';
import { formatIssues } from '../../lib/validation';
import { newReplicaRecord, type InstanceRecord } from '../../registry';
import { refusedReply, sendError } from '../errors';
import { createReplicaBody, ejectAction, instancePatchBody, promoteAction, rebuildAsReplicaAction, rejoinPairAction, replicateAction, settingsBody } from '../schemas';
import { instanceOps } from './instance-ops';
import { pairActions } from './pairs';
import { findOrReply, placementProblems, recentAssessment, recentHealth, refusal, requestIdOf, serverZone } from '../lookup';
import { preflightFromHealth, promotePreflight } from '../../lib/health';
import { instanceView } from '../views';
import type { InstanceRouteDeps } from './instances';

export type ReplicationRouteDeps = InstanceRouteDeps;

type Req = FastifyRequest<{ Params: { project: string; id: string } }>;

interface ReplicaRequest {
  source: InstanceRecord;
  count: number;
  name?: string;
  flavorId?: string;
  volumeSizeGb?: number;
  availabilityZone?: string;
  readOnly: boolean;
  /** replication.tls: the set is TLS from these replicas on (or already is). */
  tls?: boolean;
}

function badRequest(reply: FastifyReply, errors: string[]) {
  return sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });
}

export function registerReplicationRoutes(app: FastifyInstance, d: ReplicationRouteDeps) {
  const find = (reply: FastifyReply, project: string, ref: string, field?: string) => findOrReply(d.registry, reply, project, ref, field);
  const ops = instanceOps(d);
  const pairs = pairActions(d);

  /**
   * The refusals a person can act on before anything starts. Says whether it refused:
   * a sent reply is thenable (it resolves to undefined), so it cannot be the answer.
   */
  async function refused(reply: FastifyReply, r: ReplicaRequest, fields: { count: string; source: string; tls: string }): Promise<boolean> {
    const no = (send: () => unknown) => (send(), true);
    const refused = await refusal(d.registry, r.source, 'createReplicas', { count: r.count }, d.limits, fields);
    if (refused) return no(() => refusedReply(reply, refused));
    if (r.tls) {
      const tls = tlsFromStart(await tlsSetState(r.source.replicationSetId));
      if (tls.kind === 'refused') return no(() => badRequest(reply, [`${fields.tls}: ${tls.message}`]));
    }
    // Replicas go to their source's zone unless the request names another: a source recorded
    // before zones were kept is asked of Nova, and the zone is then named to the workflow.
    r.availabilityZone ??= r.source.availabilityZone ? undefined : await serverZone(d.nova, r.source);
    const zone = r.availabilityZone ?? r.source.availabilityZone ?? undefined;
    const problems = await placementProblems(
      d.nova,
      { flavorId: r.flavorId, zone, count: r.count, serverGroupId: r.source.serverGroupId },
      { flavor: 'flavorRef', zone: 'availability_zone', count: fields.count },
    );
    if (problems.length) return no(() => badRequest(reply, problems));
    return false;
  }

  /** The source's set as tlsFromStart reads it: its TLS setting and how many links replicate. */
  async function tlsSetState(setId: string | null) {
    if (!setId) return undefined;
    const [settings, topology] = await Promise.all([d.registry.health.getSettings(setId), d.registry.sets.topology(setId)]);
    return settings && topology ? { tls: settings.tls, links: topology.links.length } : undefined;
  }

  async function startReplicas(req: Req, reply: FastifyReply, r: ReplicaRequest) {
    const project = req.params.project;
    // One id names the operation and its replicas; fixing the replica ids here lets the
    // answer name them and a GET find them at once.
    const requestId = requestIdOf(req) ?? randomUUID();
    const replicaIds = replicaIdsForRequest(project, r.source.id, requestId, r.count);
    const existing = await d.registry.instances.get(replicaIds[0]!);
    if (!existing) {
      // Numbered names continue past the project's, so a lookup by name finds one instance.
      const taken = r.count === 1 && r.name ? [] : (await d.registry.instances.list(project)).map((i) => i.name);
      const names = replicaNames(r.source.name, r.name, r.count, taken);
      const shape = replicaShape({ flavorId: r.flavorId, volumeSizeGb: r.volumeSizeGb, availabilityZone: r.availabilityZone }, r.source);
      for (const [i, replicaId] of replicaIds.entries()) {
        await d.registry.instances.insert(
          newReplicaRecord({
            replicaId, projectId: project, name: names[i]!, ...shape, sourceId: r.source.id, readOnly: r.readOnly, operationId: workflowIds.buildReplica(replicaId),
            locality: r.source.locality, serverGroupId: r.source.serverGroupId,
          }),
        );
      }
    }
    let operationId: string;
    try {
      const { handle } = await startCreateReplicas(
        d.temporal,
        {
          sourceInstanceId: r.source.id,
          projectId: project,
          count: r.count,
          readOnly: r.readOnly,
          replicaIds,
          template: { name: r.name, flavorId: r.flavorId, volumeSizeGb: r.volumeSizeGb, availabilityZone: r.availabilityZone },
          ...(r.tls ? { tls: true } : {}),
        },
        { requestId, instanceName: r.source.name },
      );
      operationId = handle.workflowId;
    } catch (err) {
      await d.registry.instances.removeUnbuilt(replicaIds);
      req.log.error({ err }, 'could not start createReplicas');
      return sendError(reply, 503, 'the orchestrator is not reachable; nothing was created, try again');
    }
    const records = (await Promise.all(replicaIds.map((id) => d.registry.instances.get(id)))).filter((x): x is InstanceRecord => Boolean(x));
    const views = records.map((rec) => instanceView(rec, d.baseUrl, { id: operationId, type: 'createReplicas' }));
    // Trove answers with the (last) created instance; the list of all of them comes along.
    return reply.code(202).send({ instance: views[views.length - 1], replicas: views, operation: { id: operationId, type: 'createReplicas' } });
  }

  /** POST /instances whose body names replica_of / slave_of (the instances route hands it over). */
  async function createFromBody(req: Req, reply: FastifyReply) {
    const parsed = createReplicaBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error));
    const b = parsed.data.instance;
    const sourceRef = (b.replica_of ?? b.slave_of)!;
    const source = await find(reply, req.params.project, sourceRef, 'instance.replica_of');
    if (!source) return reply;
    const r: ReplicaRequest = { source, count: b.replica_count ?? 1, name: b.name, flavorId: b.flavorRef, volumeSizeGb: b.volume?.size, availabilityZone: b.availability_zone, readOnly: true, tls: b.replication?.tls };
    if (await refused(reply, r, { count: 'instance.replica_count', source: 'instance.replica_of', tls: 'instance.replication.tls' })) return reply;
    return startReplicas(req, reply, r);
  }

  app.post('/v1.0/:project/instances/:id/action', async (req: Req, reply) => {
    const body = req.body as Record<string, unknown> | null;
    const keys = body && typeof body === 'object' ? Object.keys(body) : [];
    if (keys.length !== 1) return badRequest(reply, ['(body): must hold exactly one action, e.g. {"replicate": {...}}']);
    const rec = await find(reply, req.params.project, req.params.id);
    if (!rec) return reply;
    const action = keys[0]!;
    if (action === 'replicate') {
      const parsed = replicateAction.safeParse(body!.replicate);
      if (!parsed.success) return badRequest(reply, formatIssues(parsed.error).map((e) => `replicate.${e}`));
      const a = parsed.data;
      const r: ReplicaRequest = { source: rec, count: a.count, name: a.instance.name, flavorId: a.instance.flavorRef, volumeSizeGb: a.instance.volume?.size, availabilityZone: a.instance.availability_zone, readOnly: a.topology.read_only, tls: a.replication?.tls };
      if (await refused(reply, r, { count: 'replicate.count', source: 'instance', tls: 'replicate.replication.tls' })) return reply;
      return startReplicas(req, reply, r);
    }
    if (action === 'detach') return detach(req, reply, rec);
    if (action === 'promote_to_replica_source' || action === 'eject_replica_source') {
      const parsed = (action === 'promote_to_replica_source' ? promoteAction : ejectAction).safeParse(body![action] ?? {});
      if (!parsed.success) return badRequest(reply, formatIssues(parsed.error).map((e) => `${action}.${e}`));
      const force = action === 'eject_replica_source' && ((parsed.data as { force?: boolean }).force ?? false);
      // Trove's eject of a pair's active side fails over to the pair's other side (failOverPair).
      const topology = action === 'eject_replica_source' && rec.replicationSetId ? await d.registry.sets.topology(rec.replicationSetId) : undefined;
      if (topology && failoverOperationFor(topology) === 'failOverPair' && sourceOf(topology) === rec.id) return pairFailover(req, reply, rec, force);
      const type = action === 'promote_to_replica_source' ? 'promoteToReplicaSource' : 'ejectReplicaSource';
      const refused = await refusal(d.registry, rec, type, { force, assessment: await recentAssessment(d.registry, rec.replicationSetId) }, d.limits);
      if (refused) return refusedReply(reply, refused);
      if (type === 'promoteToReplicaSource') {
        // The workflow's pre-flight, asked of the monitor's last look: refused before the 202.
        // A member changed since that look (a replica just built) is left to the workflow.
        const [health, members] = await Promise.all([recentHealth(d.registry, rec.replicationSetId), d.registry.instances.listSetMembers(rec.replicationSetId!)]);
        const changed = new Map(members.map((m) => [m.id, m.updated.getTime()]));
        const current = (health ?? []).filter((h) => Date.parse(h.observedAt) > (changed.get(h.instanceId) ?? Infinity));
        const problems = promotePreflight(preflightFromHealth(current));
        if (problems.length) return sendError(reply, 409, `pre-flight failed, nothing was changed: ${problems.join('; ')}`, { errors: problems });
      }
      const requestId = requestIdOf(req);
      const handle =
        action === 'promote_to_replica_source'
          ? await startPromote(d.temporal, { instanceId: rec.id, projectId: rec.projectId }, { requestId, instanceName: rec.name })
          : await startEject(d.temporal, { instanceId: rec.id, projectId: rec.projectId, force }, { requestId, instanceName: rec.name });
      return reply.code(202).send({ operation: { id: handle.workflowId, type: action === 'promote_to_replica_source' ? 'promoteToReplicaSource' : 'ejectReplicaSource' } });
    }
    if (action === 'rebuild_as_replica' || action === 'rejoin_pair') {
      // Restore the master side: the fenced former source rejoins its set as a replica (or as a pair's passive side).
      const pair = action === 'rejoin_pair';
      const parsed = (pair ? rejoinPairAction : rebuildAsReplicaAction).safeParse(body![action] ?? {});
      if (!parsed.success) return badRequest(reply, formatIssues(parsed.error).map((e) => `${action}.${e}`));
      const refused = await refusal(d.registry, rec, pair ? 'rejoinPair' : 'rebuildAsReplica', {}, d.limits, { locality: 'instance.locality' });
      if (refused) return refusedReply(reply, refused);
      const handle = await startRebuildAsReplica(d.temporal, { instanceId: rec.id, projectId: rec.projectId, ...(pair ? { pair } : {}) }, { requestId: requestIdOf(req), instanceName: rec.name });
      return reply.code(202).send({ operation: { id: handle.workflowId, type: 'rebuildAsReplica' } });
    }
    const pair = pairs[action];
    if (pair) return pair(req, reply, rec, body![action]);
    const op = ops.actions[action];
    if (op) return op(req, reply, rec, body![action]);
    return badRequest(reply, [`${action}: unknown action`]);
  });

  // Replication-set settings: automatic failover, its quiet period, semi-sync, TLS.
  const settingsView = (setId: string, st: ReplicationSettings) => ({
    replication_set_id: setId,
    auto_failover: st.autoFailover,
    semi_sync: st.semiSync,
    tls: st.tls,
    quiet_period: st.quietPeriodSeconds,
    failover_after: st.failoverAfterSeconds,
    last_failover: st.lastFailoverAt ? { at: st.lastFailoverAt, operation: st.lastFailoverOperation, acknowledged: st.lastFailoverAcknowledged } : null,
  });

  app.get('/v1.0/:project/instances/:id/replication', async (req: Req, reply) => {
    const rec = await find(reply, req.params.project, req.params.id);
    if (!rec) return reply;
    if (!rec.replicationSetId) return sendError(reply, 404, `instance ${rec.id} is not in a replication set`);
    return { replication: settingsView(rec.replicationSetId, (await d.registry.health.getSettings(rec.replicationSetId))!) };
  });

  app.patch('/v1.0/:project/instances/:id/replication', async (req: Req, reply) => {
    const parsed = settingsBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error));
    const rec = await find(reply, req.params.project, req.params.id);
    if (!rec) return reply;
    if (!rec.replicationSetId) return sendError(reply, 404, `instance ${rec.id} is not in a replication set`);
    const b = parsed.data.replication;
    const setId = rec.replicationSetId;
    // TLS is work on every member (enableReplicationTls), refused before any setting changes;
    // so is a renewal of its certificates, which only a TLS set has.
    const tlsNow = (await d.registry.health.getSettings(setId))!.tls;
    const renew = typeof b.tls === 'object';
    const rotateCa = typeof b.tls === 'object' && 'rotate_ca' in b.tls;
    if (renew && !tlsNow) return badRequest(reply, [`replication.tls.${rotateCa ? 'rotate_ca' : 'renew'}: the set does not replicate over TLS; turn it on with {"tls": true}`]);
    const enableTls = renew || (b.tls === true && !tlsNow);
    if (enableTls) {
      const refused = await refusal(d.registry, rec, 'enableReplicationTls', {}, d.limits);
      if (refused) return refusedReply(reply, refused);
    }
    await d.registry.health.updateSettings(setId, {
      autoFailover: b.auto_failover,
      semiSync: b.semi_sync,
      quietPeriodSeconds: b.quiet_period,
      failoverAfterSeconds: b.failover_after,
      acknowledgeFailover: b.acknowledge_failover,
    });
    const replication = settingsView(setId, (await d.registry.health.getSettings(setId))!);
    if (!enableTls) return { replication };
    const handle = await startEnableReplicationTls(d.temporal, { instanceId: rec.id, projectId: rec.projectId, ...(rotateCa ? { rotateCa: true as const } : renew ? { renew: true as const } : {}) }, { requestId: requestIdOf(req), instanceName: rec.name, setId });
    // tls reads false until every link runs TLS; the operation says when.
    return reply.code(202).send({ replication, operation: { id: handle.workflowId, type: 'enableReplicationTls' } });
  });

  async function pairFailover(req: Req, reply: FastifyReply, rec: InstanceRecord, force: boolean) {
    const refused = await refusal(d.registry, rec, 'failOverPair', { force, assessment: await recentAssessment(d.registry, rec.replicationSetId) }, d.limits);
    if (refused) return refusedReply(reply, refused);
    const handle = await startFailOverPair(d.temporal, { instanceId: rec.id, projectId: rec.projectId, force }, { requestId: requestIdOf(req), instanceName: rec.name });
    return reply.code(202).send({ operation: { id: handle.workflowId, type: 'failOverPair' } });
  }

  async function detach(req: Req, reply: FastifyReply, rec: InstanceRecord) {
    const refused = await refusal(d.registry, rec, 'detachReplica', {}, d.limits);
    if (refused) return refusedReply(reply, refused);
    const handle = await startDetachReplica(d.temporal, { instanceId: rec.id, projectId: rec.projectId }, { requestId: requestIdOf(req), instanceName: rec.name });
    return reply.code(202).send({ operation: { id: handle.workflowId, type: 'detachReplica' } });
  }

  app.post('/v1.0/:project/instances/:id/topology/action', async (req: Req, reply) => {
    const body = req.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || Object.keys(body).join() !== 'detach') return badRequest(reply, ['(body): must be {"detach": {}}']);
    const rec = await find(reply, req.params.project, req.params.id);
    if (!rec) return reply;
    return detach(req, reply, rec);
  });

  // troveclient's update: a rename, Trove's detach (the presence of replica_of or slave_of
  // set to null), or both. A detach the rulebook refuses refuses the whole request, so
  // nothing is renamed either.
  const patchInstance = async (req: Req, reply: FastifyReply) => {
    const parsed = instancePatchBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error));
    const b = parsed.data.instance;
    const detaching = 'replica_of' in b || 'slave_of' in b;
    const rec = await find(reply, req.params.project, req.params.id);
    if (!rec) return reply;
    if (detaching) {
      const refused = await refusal(d.registry, rec, 'detachReplica', {}, d.limits);
      if (refused) return refusedReply(reply, refused);
    }
    if (b.name !== undefined) await ops.rename(rec, b.name);
    if (detaching) return detach(req, reply, rec);
    return reply.code(202).send({ instance: instanceView((await d.registry.instances.get(rec.id))!, d.baseUrl) });
  };
  app.patch('/v1.0/:project/instances/:id', patchInstance);
  app.put('/v1.0/:project/instances/:id', patchInstance);
  return { createFromBody };
}
