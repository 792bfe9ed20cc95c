// /v1.0/{project}/instances: create, list, show, delete. Long operations answer 202 at
// once; the workflow does the work and the registry shows its progress.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NovaClient } from '../../lib/nova-client';
import { parseGtidPosition, transactionsBehind } from '../../lib/gtid';
import { workflowIds } from '../../lib/names';
import { checkCreateTimePair, refusalText, type Limits } from '../../lib/rules';
import type { LockScope } from '../../lib/status';
import type { ProvisionInstanceSpec } from '../../lib/schemas';
import { sealSecret } from '../../lib/secrets';
import { instanceIdForRequest, pairPeerIdForRequest, startCreatePair, startDeleteInstance, startEnableDr, startProvisionInstance } from '../../lib/start';
import { drCheck, followedProfile } from './dr';
import { PhaseCache } from '../phase-cache';
import { formatIssues } from '../../lib/validation';
import { newInstanceFromSpec, type InstanceRecord, type Registry } from '../../registry';
import { refusedReply, sendError } from '../errors';
import { busyWith, findOrReply, placementProblems, refusal, requestIdOf, runningOn, setLocksOf } from '../lookup';
import { createInstanceBody } from '../schemas';
import { healthView, instanceView, pairView, tlsView, type OperationView } from '../views';

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

/** Settles within `ms` with the value, or with undefined on a timeout or an error: progress is best effort. */
function bestEffort<T>(p: Promise<T>, ms = 2000): Promise<T | undefined> {
  return Promise.race([p.catch(() => undefined), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}

type ReplicaProgressView = Pick<OperationView, 'restored_bytes' | 'seconds_behind' | 'transactions_behind'>;

/**
 * A replica's row in its createReplicas operation's `replicas` query: the bytes restored
 * once the restore is over, the lag once the build is.
 */
async function replicaRow(temporal: Client, createReplicasId: string, replicaId: string): Promise<ReplicaProgressView> {
  const rows = await temporal.workflow.getHandle(createReplicasId).query<{ replicaId: string; restoredBytes?: number; secondsBehind?: number | null }[]>('replicas');
  const row = rows.find((x) => x.replicaId === replicaId);
  return {
    ...(typeof row?.restoredBytes === 'number' ? { restored_bytes: row.restoredBytes } : {}),
    ...(typeof row?.secondsBehind === 'number' ? { seconds_behind: row.secondsBehind } : {}),
  };
}

/**
 * A building replica's bytes restored and lag: live from the last heartbeat of its running
 * guest activity (restoreSnapshot beats {bytes}, waitForGtid {secondsBehind, gtidSlavePos,
 * target}), else from its row in the parent createReplicas (heartbeats reach Temporal at most
 * every 16 s, so a short restore shows its bytes only there).
 */
export async function buildProgress(temporal: Client, operationId: string, replicaId: string): Promise<ReplicaProgressView> {
  const { raw } = await temporal.workflow.getHandle(operationId).describe();
  const live: ReplicaProgressView = {};
  for (const activity of raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const beat = defaultPayloadConverter.fromPayload<Record<string, unknown> | null>(payload as Payload);
    if (!beat || typeof beat !== 'object') continue;
    if (typeof beat.bytes === 'number') live.restored_bytes = beat.bytes;
    if (typeof beat.secondsBehind === 'number' || beat.secondsBehind === null) live.seconds_behind = beat.secondsBehind;
    if (typeof beat.gtidSlavePos === 'string' && typeof beat.target === 'string') {
      try {
        live.transactions_behind = transactionsBehind(parseGtidPosition(beat.gtidSlavePos), parseGtidPosition(beat.target));
      } catch {
        /* a position we cannot read: no count rather than a wrong one */
      }
    }
  }
  const parent = raw.workflowExecutionInfo?.parentExecution?.workflowId;
  const row = parent ? await replicaRow(temporal, parent, replicaId).catch(() => ({})) : {};
  return { ...row, ...live };
}

/**
 * The operation running on the instance, or on its replication set (promote, eject), with its
 * phase; a replica being built (or whose set's createReplicas still runs) with its progress.
 */
async function operationOf(temporal: Client, store: Registry, r: InstanceRecord, phases: PhaseCache): Promise<(OperationView & { scope: LockScope }) | undefined> {
  const busy = await busyWith(store, r);
  if (!busy) return undefined;
  const op: OperationView & { scope: LockScope } = { id: busy.operation, type: busy.type, scope: busy.held };
  const replica =
    busy.type === 'buildReplica' ? buildProgress(temporal, op.id, r.id) : busy.type === 'createReplicas' && r.replicaOf ? replicaRow(temporal, op.id, r.id) : undefined;
  const [phase, built] = await Promise.all([phases.phase(op.id), replica && bestEffort(replica)]);
  if (phase) op.phase = phase;
  return { ...op, ...built };
}

/**
 * Trove's restorePoint: the backup must be this project's and COMPLETED, the volume large
 * enough for it (Trove's rule), and the databases and users are the backup's own.
 */
async function restoreProblems(registry: Registry, project: string, backupId: string, body: { volume: { size: number }; databases: unknown[]; users: unknown[] }): Promise<string[]> {
  const b = await registry.backups.getInProject(project, backupId);
  if (!b) return [`instance.restorePoint.backupRef: backup ${backupId} not found`];
  const problems: string[] = [];
  if (b.status !== 'COMPLETED') problems.push(`instance.restorePoint.backupRef: backup ${backupId} is ${b.status}; only a COMPLETED backup can be restored`);
  if (b.sizeBytes !== null && b.sizeBytes > body.volume.size * 1024 ** 3) problems.push(`instance.volume.size: ${body.volume.size} GB cannot hold backup ${backupId} (${b.sizeBytes} bytes)`);
  if (body.databases.length || body.users.length) problems.push('instance.restorePoint: the databases and users come from the backup; create others once the instance is ACTIVE');
  return problems;
}

export type RouteHandler = (req: FastifyRequest<{ Params: { project: string; id: string } }>, reply: FastifyReply) => Promise<unknown>;

export function registerInstanceRoutes(app: FastifyInstance, d: InstanceRouteDeps, createReplica: RouteHandler): void {
  const findInstance = (reply: FastifyReply, project: string, ref: string) => findOrReply(d.registry, reply, project, ref);
  const phases = new PhaseCache((id) => d.temporal.workflow.getHandle(id).query<{ phase: string }>('progress'));

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
    // dr_profile: the profile says where the master goes and how the set is spread.
    const dr = body.dr_profile ? await drCheck(d, body.dr_profile, 'instance.dr_profile') : undefined;
    if (dr?.problems.length) return sendError(reply, 400, `invalid request: ${dr.problems.join('; ')}`, { errors: dr.problems });
    const profile = dr?.profile;
    if (profile) {
      const conflicts = [
        ...(body.availability_zone && body.availability_zone !== profile.primaryZone ? [`instance.availability_zone: zone profile "${profile.name}" puts the master in ${profile.primaryZone}; omit availability_zone`] : []),
        ...(body.locality !== undefined && body.locality !== null && body.locality !== profile.locality ? [`instance.locality: zone profile "${profile.name}" sets the placement (${profile.locality ?? 'none'}); omit locality`] : []),
      ];
      if (conflicts.length) return sendError(reply, 400, `invalid request: ${conflicts.join('; ')}`, { errors: conflicts });
      body.availability_zone = profile.primaryZone;
      body.locality = profile.locality;
    }
    const pair = body.replication?.mode === 'master-master';
    if (pair) {
      // The pair rules, on the instance as it will be: anti-affinity (its sides on two hosts), one zone.
      const refused = checkCreateTimePair({ name: body.name, locality: body.locality ?? null, drProfile: Boolean(body.dr_profile) });
      const text = refused && refusalText(refused, { locality: 'instance.locality' });
      if (text) return sendError(reply, 400, `invalid request: ${text}`, { errors: [text] });
    }
    const dbNames = new Set(body.databases.map((db) => db.name));
    const problems = [
      ...(await placementProblems(
        d.nova,
        // A pair needs two hosts of the zone in the new anti-affinity group.
        { flavorId: body.flavorRef, zone: body.availability_zone, locality: body.locality, ...(pair ? { count: 2 } : {}) },
        { flavor: 'instance.flavorRef', zone: 'instance.availability_zone', count: 'instance.locality' },
      )),
      ...body.users.flatMap((u, i) => u.databases.filter((db) => !dbNames.has(db.name)).map((db) => `instance.users[${i}].databases: "${db.name}" is not in instance.databases`)),
      ...(body.restorePoint ? await restoreProblems(d.registry, project, body.restorePoint.backupRef, body) : []),
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
      ...(body.locality ? { locality: body.locality } : {}),
      ...(body.restorePoint ? { restoreBackupId: body.restorePoint.backupRef } : {}),
      databases: body.databases.map((db) => db.name),
      users: body.users.map((u) => ({ name: u.name, host: u.host, sealedPassword: sealSecret(d.secretKey, u.password), databases: u.databases.map((db) => db.name) })),
    };
    const operationId = workflowIds.provisionInstance(instanceId);
    // Recorded before the start so that a GET right after the 202 finds the instance.
    await d.registry.instances.insert(newInstanceFromSpec(spec, operationId));
    let started = { id: operationId, type: 'provisionInstance' };
    try {
      if (pair) {
        // createPair provisions the master (as provisionInstance, its child) and then its second side.
        const peerId = pairPeerIdForRequest(project, instanceId, requestId ?? instanceId);
        const handle = await startCreatePair(d.temporal, { instanceId, projectId: project, peerId, ...(body.replication?.peer_name ? { name: body.replication.peer_name } : {}), provision: spec }, { instanceName: body.name });
        started = { id: handle.workflowId, type: 'createPair' };
      } else if (profile) {
        // enableDr provisions the master (as provisionInstance, its child) and then its DR replica.
        const handle = await startEnableDr(d.temporal, { instanceId, projectId: project, profile: profile.id, replicaId: instanceIdForRequest(project, `${instanceId}/dr`), provision: spec }, { requestId: requestId ?? instanceId });
        started = { id: handle.workflowId, type: 'enableDr' };
      } else await startProvisionInstance(d.temporal, spec);
    } catch (err) {
      await d.registry.instances.remove(instanceId);
      req.log.error({ err }, 'could not start provisionInstance');
      return sendError(reply, 503, 'the orchestrator is not reachable; nothing was created, try again');
    }
    const rec = (await d.registry.instances.get(instanceId))!;
    return reply.code(202).send({ instance: { ...instanceView(rec, d.baseUrl, started), ...(profile ? { zone_profile: { id: profile.id, name: profile.name } } : {}) } });
  });

  app.get('/v1.0/:project/instances', async (req: ProjectReq) => {
    const records = await d.registry.instances.list(req.params.project);
    const setLocks = await setLocksOf(d.registry, records);
    return { instances: records.map((r) => instanceView(r, d.baseUrl, runningOn(r, setLocks))) };
  });

  app.get('/v1.0/:project/instances/:id', async (req: ProjectReq, reply) => {
    const found = await findInstance(reply, req.params.project, req.params.id!);
    if (!found) return reply;
    const running = await operationOf(d.temporal, d.registry, found, phases);
    // The registry is read after the operation's phase (which may take PHASE_WAIT_MS), not
    // beside it: the answer is as old as its reads, not as the phase's wait. A client finding
    // the source through the API learns of a failover's flip that much sooner (issue 17).
    const rec = (await d.registry.instances.get(found.id)) ?? found;
    const setId = rec.replicationSetId;
    const reads = setId
      ? await Promise.all([
          d.registry.sets.topology(setId),
          d.registry.instances.listSetMembers(setId),
          d.registry.health.get(setId),
          d.registry.certificates.tlsCertificate(setId),
          followedProfile(d.registry, setId),
          d.registry.certificates.serverCertificates(setId),
        ])
      : undefined;
    const [topology, members, health, caCertificate, profile, certificates] = reads ?? [undefined, [], [], undefined, undefined, []];
    const set = topology ? { topology, members } : undefined;
    const pair = topology ? pairView(topology, members, health) : undefined;
    return {
      instance: {
        ...instanceView(rec, d.baseUrl, running, set),
        ...(profile ? { zone_profile: { id: profile.id, name: profile.name, primary_zone: profile.primaryZone, dr_zones: profile.drZones } } : {}),
        ...(pair ? { pair } : {}),
        ...(health.length ? { replication_health: healthView(health, topology && { topology, members }, Boolean(caCertificate)) } : {}),
        ...(caCertificate ? { tls: tlsView(caCertificate, certificates) } : {}),
      },
    };
  });

  app.delete('/v1.0/:project/instances/:id', async (req: ProjectReq, reply) => {
    const rec = await findInstance(reply, req.params.project, req.params.id!);
    if (!rec) return reply;
    const refused = await refusal(d.registry, rec, 'deleteInstance', { operationId: workflowIds.deleteInstance(rec.id) }, d.limits);
    if (refused) return refusedReply(reply, refused);
    await startDeleteInstance(d.temporal, { instanceId: rec.id, projectId: rec.projectId }, { instanceName: rec.name });
    return reply.code(202).send();
  });
}
