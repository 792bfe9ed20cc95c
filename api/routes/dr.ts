// Disaster recovery on a running instance (issue 18, B4): POST /instances/{id}/dr
// {"dr": {"profile": NAME}} builds the zone profile's DR replica (enableDr), DELETE
// /instances/{id}/dr removes it (disableDr: deleteInstance of each DR replica, then the set stops
// following the profile). Refusals by lib/dr.ts (the rule enableDr applies again), the
// rulebook and the placement rule, before the 202 and before anything changes.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { drDisablePlan, drProblems, drZoneOf, type DrInstance } from '../../lib/dr';
import { workflowIds } from '../../lib/names';
import { instanceIdForRequest, startDisableDr, startEnableDr } from '../../lib/start';
import { formatIssues } from '../../lib/validation';
import type { ZoneProfile } from '../../lib/zone-profiles';
import type { InstanceRecord, Registry } from '../../registry';
import type { NovaClient } from '../../lib/nova-client';
import { refusedReply, sendError, ServiceUnavailable } from '../errors';
import { findOrReply, placementProblems, refusal, requestIdOf } from '../lookup';
import { drEnableBody } from '../schemas';
import type { InstanceRouteDeps } from './instances';

type Req = FastifyRequest<{ Params: { project: string; id: string } }>;

/** The profile of the set the instance is in, if the set follows one. */
export async function followedProfile(registry: Registry, setId: string | null): Promise<ZoneProfile | undefined> {
  if (!setId) return undefined;
  const id = (await registry.health.getSettings(setId))?.zoneProfileId;
  return id ? registry.profiles.get(id) : undefined;
}

/** The profile `ref` names and why DR cannot follow it (lib/dr.ts drProblems), from the registry and Nova. */
export async function drCheck(d: { registry: Registry; nova: NovaClient }, ref: string, field: string, rec?: InstanceRecord): Promise<{ profile?: ZoneProfile; problems: string[] }> {
  const profile = await d.registry.profiles.get(ref);
  let zones;
  try {
    zones = await d.nova.listZoneHosts();
  } catch (err) {
    throw new ServiceUnavailable(`the compute service (Nova) did not answer while ${field} was checked; nothing was created, try again`, { cause: err });
  }
  let instance: DrInstance | undefined;
  if (rec) instance = { id: rec.id, name: rec.name, replicaOf: rec.replicaOf, zoneProfileName: (await followedProfile(d.registry, rec.replicationSetId))?.name ?? null };
  return { ...(profile ? { profile } : {}), problems: drProblems({ profileRef: ref, profile, zones, ...(instance ? { instance } : {}) }, field) };
}

const badRequest = (reply: FastifyReply, errors: string[]) => sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });

export function registerDrRoutes(app: FastifyInstance, d: InstanceRouteDeps): void {
  app.post('/v1.0/:project/instances/:id/dr', async (req: Req, reply) => {
    const parsed = drEnableBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error));
    const rec = await findOrReply(d.registry, reply, req.params.project, req.params.id);
    if (!rec) return reply;
    const { profile, problems } = await drCheck(d, parsed.data.dr.profile, 'dr.profile', rec);
    if (problems.length) return badRequest(reply, problems);
    const refused = await refusal(d.registry, rec, 'createReplicas', { count: 1 }, d.limits, { count: 'dr.profile', source: 'id' });
    if (refused) return refusedReply(reply, refused);
    const drZone = drZoneOf(profile!);
    const placement = await placementProblems(d.nova, { zone: drZone, count: 1, serverGroupId: rec.serverGroupId }, { flavor: 'dr.profile', zone: 'dr.profile', count: 'dr.profile' });
    if (placement.length) return badRequest(reply, placement);

    const requestId = requestIdOf(req) ?? randomUUID();
    const replicaId = instanceIdForRequest(rec.projectId, `${rec.id}/dr/${requestId}`);
    const handle = await startEnableDr(d.temporal, { instanceId: rec.id, projectId: rec.projectId, profile: profile!.id, replicaId }, { requestId, instanceName: rec.name });
    return reply.code(202).send({ dr: { operation: handle.workflowId, profile: profile!.name, primary_zone: profile!.primaryZone, dr_zone: drZone, replica_id: replicaId } });
  });

  app.delete('/v1.0/:project/instances/:id/dr', async (req: Req, reply) => {
    const rec = await findOrReply(d.registry, reply, req.params.project, req.params.id);
    if (!rec) return reply;
    if (rec.replicaOf) return badRequest(reply, [`id: instance ${rec.name} (${rec.id}) is a replica of ${rec.replicaOf}; DR is disabled on the replication set's source`]);
    const profile = await followedProfile(d.registry, rec.replicationSetId);
    if (!profile) return sendError(reply, 409, `the replication set of ${rec.name} follows no zone profile; there is no DR to disable`);
    const members = await d.registry.instances.listSetMembers(rec.replicationSetId!);
    const plan = drDisablePlan(
      members.map((m) => ({ id: m.id, zone: m.availabilityZone, replicaOf: m.replicaOf, replicas: m.replicas })),
      profile,
    );
    for (const id of plan.remove) {
      const refused = await refusal(d.registry, members.find((m) => m.id === id)!, 'deleteInstance', { operationId: workflowIds.deleteInstance(id) }, d.limits);
      if (refused) return refusedReply(reply, refused);
    }
    // Deletes first, the profile last (disableDr): a failure half way leaves the set marked DR,
    // and this request again plans what is left and finishes.
    const requestId = requestIdOf(req) ?? randomUUID();
    const handle = await startDisableDr(
      d.temporal,
      { instanceId: rec.id, projectId: rec.projectId, setId: rec.replicationSetId!, profile: profile.name, remove: plan.remove, keepsReplicas: plan.keepsReplicas },
      { requestId, instanceName: rec.name },
    );
    return reply.code(202).send({ dr: { operation: handle.workflowId, profile: profile.name, removed: plan.remove, semi_sync_kept: plan.keepsReplicas } });
  });
}
