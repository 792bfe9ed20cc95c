// Process entry point: `node --import tsx nova/main.ts`.
// On SIGTERM/SIGINT the servers are powered off but stay recorded ACTIVE, so
// stopping and restarting the whole stack brings the same servers back.
import { pino } from 'pino';
import { buildNovaApp } from './app';
import { NovaConfigError, loadNovaConfig, type NovaConfig } from './config';

async function main(): Promise<void> {
  const logger = pino({ name: 'nova', level: 'info' });
  let config: NovaConfig;
  try {
    config = loadNovaConfig(process.env);
  } catch (err) {
    if (!(err instanceof NovaConfigError)) throw err;
    logger.fatal(err.message);
    process.exit(2);
  }
  const app = buildNovaApp(config, undefined, { logger });
  await app.listen({ port: config.port, host: config.host });
  logger.info({ driver: config.driver, dataDir: config.dataDir, zones: config.zones }, 'nova ready');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: stopping servers (they stay ACTIVE for the next start)`);
    await app.close();
    await app.nova.stopAllServers();
    logger.info('nova stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`nova failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
