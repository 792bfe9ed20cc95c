// Fault-injection endpoints; see the comment block at the top of ../faults.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ComputeService } from '../compute';
import { parseInput } from '../errors';
import { faultUpdateSchema, type FaultInjector } from '../faults';

const serverParams = z.object({ id: z.string(), fault: z.enum(['crash', 'hang', 'resume', 'kill-guest', 'disconnect', 'reconnect']) });

export function faultRoutes(app: FastifyInstance, faults: FaultInjector, compute: ComputeService): void {
  app.get('/v2.1/_faults', async () => ({ faults: faults.get() }));
  app.put('/v2.1/_faults', async (req) => ({ faults: faults.update(parseInput(faultUpdateSchema, req.body)) }));
  app.delete('/v2.1/_faults', async (_req, reply) => {
    faults.reset();
    return reply.code(204).send();
  });

  app.post('/v2.1/_faults/zones/:zone/crash', async (req, reply) => {
    const { zone } = parseInput(z.object({ zone: z.string() }), req.params);
    return reply.code(202).send({ crashed: await compute.crashZone(zone) });
  });

  app.post('/v2.1/_faults/zones/:zone/recover', async (req, reply) => {
    const { zone } = parseInput(z.object({ zone: z.string() }), req.params);
    compute.recoverZone(zone);
    return reply.code(202).send();
  });

  app.post('/v2.1/_faults/servers/:id/:fault', async (req, reply) => {
    const { id, fault } = parseInput(serverParams, req.params);
    if (fault === 'crash') await compute.crash(id);
    else if (fault === 'kill-guest') await compute.killGuest(id);
    else if (fault === 'disconnect' || fault === 'reconnect') await compute.cutNetwork(id, fault === 'disconnect');
    else await compute.hang(id, fault === 'hang');
    return reply.code(202).send();
  });
}
