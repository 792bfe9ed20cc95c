// Zone profiles: an administrator creates, lists, shows and deletes them under /v1.0/admin
// (an administrator's token); every project lists and shows them with its own token, to
// choose one. Refusals by the rules of lib/zone-profiles.ts, before anything is stored.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NovaClient } from '../../lib/nova-client';
import { formatIssues } from '../../lib/validation';
import { zoneProfileDeletion, zoneProfileProblems, type ZoneProfile } from '../../lib/zone-profiles';
import type { Registry } from '../../registry';
import { sendError } from '../errors';
import { zoneProfileBody } from '../profile-schemas';

export interface ZoneProfileRouteDeps {
  registry: Registry;
  nova: NovaClient;
  baseUrl: string;
}

type Req = FastifyRequest<{ Params: { project?: string; ref?: string } }>;

export function zoneProfileView(p: ZoneProfile, href: string) {
  return {
    id: p.id,
    name: p.name,
    description: p.description ?? null,
    primary_zone: p.primaryZone,
    dr_zones: p.drZones,
    locality: p.locality,
    semi_sync: p.semiSync,
    auto_failover: p.autoFailover,
    auto_rebuild: Boolean(p.autoRebuild),
    created: p.created.toISOString(),
    links: [{ rel: 'self', href: `${href}/${p.id}` }],
  };
}

function badRequest(reply: FastifyReply, errors: string[]) {
  return sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });
}

/** Listing and showing, the same for administrators and projects (each at its own path). */
function registerReads(app: FastifyInstance, d: ZoneProfileRouteDeps, prefix: string, href: (req: Req) => string): void {
  app.get(prefix, async (req: Req) => ({ zone_profiles: (await d.registry.profiles.list()).map((p) => zoneProfileView(p, href(req))) }));
  app.get(`${prefix}/:ref`, async (req: Req, reply) => {
    const p = await d.registry.profiles.get(req.params.ref!);
    if (!p) return sendError(reply, 404, `zone profile ${req.params.ref} not found`);
    return { zone_profile: zoneProfileView(p, href(req)) };
  });
}

export function registerZoneProfileRoutes(app: FastifyInstance, d: ZoneProfileRouteDeps): void {
  registerReads(app, d, '/v1.0/:project/zone-profiles', (req) => `${d.baseUrl}/v1.0/${req.params.project}/zone-profiles`);
}

export function registerAdminZoneProfileRoutes(app: FastifyInstance, d: ZoneProfileRouteDeps): void {
  const href = `${d.baseUrl}/v1.0/admin/zone-profiles`;
  registerReads(app, d, '/v1.0/admin/zone-profiles', () => href);

  app.post('/v1.0/admin/zone-profiles', async (req: Req, reply) => {
    const parsed = zoneProfileBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error));
    const b = parsed.data.zone_profile;
    const spec = {
      name: b.name,
      description: b.description ?? null,
      primaryZone: b.primary_zone,
      drZones: b.dr_zones,
      locality: b.locality ?? null,
      semiSync: b.semi_sync,
      autoFailover: b.auto_failover,
      autoRebuild: b.auto_rebuild,
    };
    const [zones, taken] = await Promise.all([d.nova.listZoneHosts(), d.registry.profiles.list()]);
    const problems = zoneProfileProblems(spec, zones, taken.map((p) => p.name));
    if (problems.length) return badRequest(reply, problems);
    const stored = await d.registry.profiles.insert(spec);
    // Another create of the name won the race between the check and the insert.
    if (!stored) return badRequest(reply, zoneProfileProblems(spec, zones, [spec.name]));
    return reply.code(201).send({ zone_profile: zoneProfileView(stored, href) });
  });

  app.delete('/v1.0/admin/zone-profiles/:ref', async (req: Req, reply) => {
    const p = await d.registry.profiles.get(req.params.ref!);
    if (!p) return sendError(reply, 404, `zone profile ${req.params.ref} not found`);
    const refused = zoneProfileDeletion(p, await d.registry.profiles.followedBy(p.id));
    if (refused) return sendError(reply, refused.status, refused.message);
    await d.registry.profiles.remove(p.id);
    return reply.code(202).send();
  });
}
