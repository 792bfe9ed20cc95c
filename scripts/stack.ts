// npm start: runs the whole local stack in the foreground until Ctrl-C, which stops every
// process it started (the database servers included). The next start boots them again.
// TROVE_SNAPSHOT_STORE=swift keeps snapshots in Swift: the one SWIFT_AUTH_URL names, or
// without it an all-in-one Swift started here under <data dir>/swift.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../lib/config';
import { stackOptionsFromEnv } from './stack/config';
import { startStack } from './stack/stack';
import { startLocalSwift, swiftInstalled, type LocalSwift } from './stack/swift';
import { ensureServerNetwork, type ServerNetwork } from './stack/docker-network';
import { ensureImages } from './images/images';

/**
 * NOVA_DRIVER=docker: the database servers are containers on the network NOVA_DOCKER_NETWORK
 * (default trove-servers, created once and kept, so servers keep their addresses), which
 * share no disk, so snapshots must go through Swift.
 */
async function serverNetworkIfAsked(): Promise<ServerNetwork | undefined> {
  if (process.env.NOVA_DRIVER !== 'docker') return undefined;
  if (process.env.TROVE_SNAPSHOT_STORE !== 'swift') throw new ConfigError('NOVA_DRIVER=docker needs TROVE_SNAPSHOT_STORE=swift: containers share no snapshot folder');
  await ensureImages();
  const network = await ensureServerNetwork(process.env.NOVA_DOCKER_NETWORK || 'trove-servers');
  process.env.NOVA_DOCKER_NETWORK = network.name;
  // The containers reach this host at the gateway only: the orchestrator probes from there too.
  process.env.TROVE_PROBE_ADDRESS ??= network.gateway;
  return network;
}

async function localSwiftIfAsked(dataDir: string, bindAddress?: string): Promise<LocalSwift | undefined> {
  if (process.env.TROVE_SNAPSHOT_STORE !== 'swift' || process.env.SWIFT_AUTH_URL) return undefined;
  if (!swiftInstalled()) throw new ConfigError('TROVE_SNAPSHOT_STORE=swift without SWIFT_AUTH_URL runs a local Swift, which is not installed: run npm run setup');
  // Fresh rings on fresh ports each start: a snapshot lives only as long as its operation.
  const dir = path.join(dataDir, 'swift');
  rmSync(dir, { recursive: true, force: true });
  return startLocalSwift({ dir, bindAddress });
}

async function main(): Promise<void> {
  const options = stackOptionsFromEnv();
  const network = await serverNetworkIfAsked();
  const swift = await localSwiftIfAsked(options.dataDir, network?.gateway);
  const extraEnv: Record<string, string> = network ? { NOVA_DOCKER_NETWORK: network.name, TROVE_PROBE_ADDRESS: process.env.TROVE_PROBE_ADDRESS! } : {};
  const stack = await startStack({ ...options, serviceAddress: network?.gateway, extraEnv: { ...extraEnv, ...swift?.settings } }).catch(async (err: unknown) => {
    await swift?.stop();
    throw err;
  });
  const snapshots =
    process.env.TROVE_SNAPSHOT_STORE === 'swift'
      ? `Swift ${stack.env.SWIFT_AUTH_URL ?? process.env.SWIFT_AUTH_URL}${swift ? ` (local, ${swift.dir})` : ''}`
      : `folder ${process.env.TROVE_SNAPSHOT_DIR ?? path.join(options.dataDir, 'snapshots')}`;
  console.log(
    [
      '',
      'trove-replication stack is up:',
      `  REST API       http://127.0.0.1:${options.apiPort}/v1.0/demo/instances   (X-Auth-Token: trove-local-token)`,
      `  Temporal UI    http://127.0.0.1:${options.temporalUiPort}`,
      `  Temporal gRPC  ${stack.env.TEMPORAL_ADDRESS}`,
      `  Nova           http://127.0.0.1:${options.novaPort}/v2.1`,
      `  Registry       mysql://127.0.0.1:${options.registryPort}/trove`,
      `  Snapshots      ${snapshots}`,
      `  Metrics        http://127.0.0.1:${options.metricsPorts!.orchestrator}/metrics (orchestrator), http://127.0.0.1:${options.metricsPorts!.api}/metrics (API)`,
      `  Codec server   http://127.0.0.1:${options.apiPort}/codec (payloads are encrypted; the Temporal UI decodes through it)`,
      `  Data           ${options.dataDir}`,
      ...(network ? [`  Servers        docker containers (trove/db-server) on network ${network.name} ${network.subnet}`] : []),
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
    await swift?.stop();
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
