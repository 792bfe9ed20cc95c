import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../errors';
import type { ServerGroups } from '../groups';
import { createGroupSchema } from '../schemas';
import { serverGroupView } from '../views';

const idParams = z.object({ id: z.string() });

export function groupRoutes(app: FastifyInstance, groups: ServerGroups): void {
  const view = (id: string) => serverGroupView(groups.get(id), groups.members(id));

  app.post('/v2.1/os-server-groups', async (req) => {
    const { server_group: body } = parseInput(createGroupSchema, req.body);
    const policy = body.policy ?? body.policies?.[0] ?? 'anti-affinity';
    return { server_group: view(groups.create(body.name, policy).id) };
  });
  app.get('/v2.1/os-server-groups', async () => ({ server_groups: groups.list().map((g) => view(g.id)) }));
  app.get('/v2.1/os-server-groups/:id', async (req) => ({ server_group: view(parseInput(idParams, req.params).id) }));
  app.delete('/v2.1/os-server-groups/:id', async (req, reply) => {
    groups.delete(parseInput(idParams, req.params).id);
    return reply.code(204).send();
  });
}
