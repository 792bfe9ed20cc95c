// Assembles the Nova API: auth, fault injection, error envelopes, routes, and
// the supervisor's lifecycle tied to fastify's (ready -> adopt/boot servers,
// close -> stop watching them; servers keep running across app.close()).
import fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ComputeService } from './compute';
import type { NovaConfig } from './config';
import { createDriver } from './drivers';
import type { ComputeDriver } from './drivers/types';
import { NovaApiError, errorBody } from './errors';
import { FaultInjector } from './faults';
import { ServerGroups } from './groups';
import { novaStateFile } from './paths';
import { sleep } from './procfs';
import { catalogRoutes } from './routes/catalog';
import { faultRoutes } from './routes/faults';
import { groupRoutes } from './routes/groups';
import { serverRoutes } from './routes/servers';
import { NovaStore } from './state';
import { Supervisor } from './supervisor';

export interface NovaRuntime {
  compute: ComputeService;
  faults: FaultInjector;
  /** Graceful power-off of all servers, keeping them recorded ACTIVE (Nova shutdown). Call after app.close(). */
  stopAllServers(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    nova: NovaRuntime;
  }
}

export interface BuildNovaOptions {
  logger?: Logger;
  /** Source of randomness for api_error_rate. */
  random?: () => number;
}

export function buildNovaApp(config: NovaConfig, driver?: ComputeDriver, options: BuildNovaOptions = {}): FastifyInstance {
  const logger = options.logger ?? pino({ level: 'silent' });
  const store = new NovaStore(novaStateFile(config.dataDir));
  const groups = new ServerGroups(store);
  const faults = new FaultInjector(options.random);
  const compute = new ComputeService({ config, driver: driver ?? createDriver(config), store, groups, faults, logger });
  const supervisor = new Supervisor(compute);

  // Fastify's own request logging is two lines per request; onResponse below logs one.
  const app = fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.decorate('nova', { compute, faults, stopAllServers: () => supervisor.stopAllServers() });

  // Clients often send Content-Type: application/json on bodiless DELETEs and actions.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new NovaApiError(400, 'Malformed request body: not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (req) => {
    if (req.headers['x-auth-token'] !== config.token) {
      throw new NovaApiError(401, 'The request you have made requires authentication.');
    }
    if (req.url.startsWith('/v2.1/_faults')) return;
    const latency = faults.latencyMs();
    if (latency > 0) await sleep(latency);
    if (faults.shouldFailApiCall()) throw new NovaApiError(500, 'Injected fault: API error (api_error_rate).');
  });

  app.addHook('onResponse', async (req, reply) => {
    const ms = Math.round(reply.elapsedTime);
    logger.info({ method: req.method, url: req.url, status: reply.statusCode, ms }, `${req.method} ${req.url} ${reply.statusCode} ${ms}ms`);
  });

  app.setErrorHandler((err: FastifyError | NovaApiError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500 && !(err instanceof NovaApiError)) logger.error({ err, url: req.url }, 'unexpected error');
    const message = status >= 500 && !(err instanceof NovaApiError)
      ? 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.'
      : err.message;
    return reply.code(status).send(errorBody(status, message));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody(404, `The resource could not be found: ${req.method} ${req.url}`));
  });

  catalogRoutes(app, config, (zone) => compute.downZones.has(zone));
  serverRoutes(app, compute);
  groupRoutes(app, groups);
  faultRoutes(app, faults, compute);

  app.addHook('onReady', async () => supervisor.start());
  app.addHook('onClose', async () => supervisor.close());
  return app;
}
