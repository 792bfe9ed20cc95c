import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ComputeService, ServerAction } from '../compute';
import { parseInput } from '../errors';
import { createServerSchema, listServersQuery, serverActionSchema, updateMetadataSchema } from '../schemas';
import { serverSummaryView, serverView } from '../views';
import { baseUrl } from './base-url';

const idParams = z.object({ id: z.string() });

export function serverRoutes(app: FastifyInstance, compute: ComputeService): void {
  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const query = parseInput(listServersQuery, req.query);
    const base = baseUrl(req);
    return { servers: compute.list(query).map((s) => (detail ? serverView(base, s) : serverSummaryView(base, s))) };
  };
  app.get('/v2.1/servers', list(false));
  app.get('/v2.1/servers/detail', list(true));

  app.post('/v2.1/servers', async (req, reply) => {
    const body = parseInput(createServerSchema, req.body);
    const hints = body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? body.server.scheduler_hints ?? body.scheduler_hints;
    const server = compute.create({
      name: body.server.name,
      flavorRef: body.server.flavorRef,
      availabilityZone: body.server.availability_zone,
      metadata: body.server.metadata ?? {},
      groupId: hints?.group,
    });
    return reply.code(202).send({ server: serverSummaryView(baseUrl(req), server) });
  });

  app.get('/v2.1/servers/:id', async (req) => {
    const { id } = parseInput(idParams, req.params);
    return { server: serverView(baseUrl(req), compute.get(id)) };
  });

  app.delete('/v2.1/servers/:id', async (req, reply) => {
    const { id } = parseInput(idParams, req.params);
    await compute.delete(id);
    return reply.code(204).send();
  });

  app.post('/v2.1/servers/:id/metadata', async (req) => {
    const { id } = parseInput(idParams, req.params);
    const body = parseInput(updateMetadataSchema, req.body);
    return { metadata: compute.updateMetadata(id, body.metadata) };
  });

  app.post('/v2.1/servers/:id/action', async (req, reply) => {
    const { id } = parseInput(idParams, req.params);
    const body = parseInput(serverActionSchema, req.body);
    const name = Object.keys(body)[0] as keyof typeof body;
    const action: ServerAction =
      name === 'reboot' ? { type: 'reboot', hard: body.reboot!.type === 'HARD' }
      : name === 'resize' ? { type: 'resize', flavorRef: body.resize!.flavorRef }
      : name === 'x-extend-volume' ? { type: 'x-extend-volume', newSize: body['x-extend-volume']!.new_size }
      : { type: name };
    compute.action(id, action);
    return reply.code(202).send();
  });
}
