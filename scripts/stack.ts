// npm start: runs the whole local stack in the foreground until Ctrl-C, which stops every
// process it started (the database servers included). The next start boots them again.
import { ConfigError } from '../lib/config';
import { stackOptionsFromEnv } from './stack/config';
import { startStack } from './stack/stack';

async function main(): Promise<void> {
  const options = stackOptionsFromEnv();
  const stack = await startStack(options);
  console.log(
    [
      '',
      'trove-replication stack is up:',
      `  REST API       http://127.0.0.1:${options.apiPort}/v1.0/demo/instances   (X-Auth-Token: trove-local-token)`,
      `  Temporal UI    http://127.0.0.1:${options.temporalUiPort}`,
      `  Temporal gRPC  127.0.0.1:${options.temporalPort}`,
      `  Nova           http://127.0.0.1:${options.novaPort}/v2.1`,
      `  Registry       mysql://127.0.0.1:${options.registryPort}/trove`,
      `  Metrics        http://127.0.0.1:${options.metricsPorts!.orchestrator}/metrics (orchestrator), http://127.0.0.1:${options.metricsPorts!.api}/metrics (API)`,
      `  Codec server   http://127.0.0.1:${options.apiPort}/codec (payloads are encrypted; the Temporal UI decodes through it)`,
      `  Data           ${options.dataDir}`,
      'Press Ctrl-C to stop everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[stack] ${signal}: stopping every part`);
    await stack.stop();
    console.log('[stack] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
