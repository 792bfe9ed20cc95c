// Read-only parts of the API: flavors and availability zones.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { NovaConfig } from '../config';
import { notFound, parseInput } from '../errors';
import { FLAVORS, findFlavor } from '../flavors';
import { novaTimestamp } from '../state';
import { flavorView, zoneView } from '../views';
import { baseUrl } from './base-url';

export function catalogRoutes(app: FastifyInstance, config: NovaConfig, isDown: (zone: string) => boolean = () => false): void {
  const flavors = async (req: FastifyRequest) => ({ flavors: FLAVORS.map((f) => flavorView(baseUrl(req), f)) });
  app.get('/v2.1/flavors', flavors);
  app.get('/v2.1/flavors/detail', flavors);
  app.get('/v2.1/flavors/:id', async (req) => {
    const { id } = parseInput(z.object({ id: z.string() }), req.params);
    const flavor = findFlavor(id);
    if (!flavor) throw notFound(`Flavor ${id} could not be found.`);
    return { flavor: flavorView(baseUrl(req), flavor) };
  });

  const zones = (detail: boolean) => async () => ({
    availabilityZoneInfo: config.zones.map((z) => zoneView(z, detail, novaTimestamp(), !isDown(z.name))),
  });
  app.get('/v2.1/os-availability-zone', zones(false));
  app.get('/v2.1/os-availability-zone/detail', zones(true));
}
