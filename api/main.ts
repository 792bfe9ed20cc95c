// The API process: validates its configuration, connects to Temporal and the registry, listens.
import { Client, Connection } from '@temporalio/client';
import { apiConfigSchema, loadConfig, parseAdminTokens, parseApiTokens } from '../lib/config';
import { NovaClient } from '../lib/nova-client';
import { payloadDataConverter } from '../lib/payload-codec';
import { parseSecretKey } from '../lib/secrets';
import { createRegistryPool, Registry, registryConnectionOf } from '../registry';
import { buildApiApp } from './app';
import { maskCodecToken } from './codec';
import { ApiMetrics } from './metrics';
import { guestScrapeTargets } from '../lib/guest-targets';
import { serveMetrics } from '../lib/metrics-server';

async function main(): Promise<void> {
  const config = loadConfig(apiConfigSchema);
  const registry = new Registry(
    createRegistryPool(registryConnectionOf(config)),
  );
  const dataConverter = payloadDataConverter(config);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const baseUrl = `http://${config.TROVE_API_HOST}:${config.TROVE_API_PORT}`;
  const metrics = config.TROVE_API_METRICS_PORT ? new ApiMetrics() : undefined;
  const app = buildApiApp({
    metrics,
    registry,
    temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
    nova: new NovaClient(config.NOVA_URL, config.NOVA_TOKEN),
    secretKey: parseSecretKey(config.TROVE_SECRET_KEY),
    tokens: parseApiTokens(config.TROVE_API_TOKENS),
    adminTokens: parseAdminTokens(config.TROVE_ADMIN_TOKENS),
    baseUrl,
    limits: { maxReplicas: config.TROVE_MAX_REPLICAS, maxDepth: config.TROVE_MAX_DEPTH },
    codecServer: dataConverter?.payloadCodecs?.length
      ? {
          codec: dataConverter.payloadCodecs[0]!,
          tokens: new Set([...parseAdminTokens(config.TROVE_CODEC_TOKENS), ...parseAdminTokens(config.TROVE_ADMIN_TOKENS)]),
          corsOrigins: parseAdminTokens(config.TROVE_CODEC_CORS_ORIGINS),
        }
      : undefined,
    logger: { level: config.TROVE_LOG_LEVEL, redact: ['req.headers["x-auth-token"]', 'req.headers.authorization'],
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: maskCodecToken(req.url) }) },
    },
  });
  const metricsServer = metrics
    ? await serveMetrics({
        host: config.TROVE_METRICS_HOST,
        port: config.TROVE_API_METRICS_PORT,
        registry: metrics.registry,
        // Prometheus's http_sd_configs: where each database server's guest serves its metrics.
        json: { '/targets/guests': async () => guestScrapeTargets(await registry.instances.listAll(), config.TROVE_GUEST_METRICS_PORT) },
      })
    : undefined;
  const shutdown = async () => {
    await metricsServer?.close();
    await app.close();
    await connection.close();
    await registry.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  await app.listen({ host: config.TROVE_API_HOST, port: config.TROVE_API_PORT });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
