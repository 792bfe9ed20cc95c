// The local stack: Temporal dev server, control-plane MariaDB (registry), mock Nova, the
// orchestrator worker and the REST API, each supervised. `npm start` runs it in the
// foreground; tests start their own on a temporary data dir and free ports.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { createConnection } from 'mysql2/promise';
import { initializeDatadir } from '../../activities/guest/mariadb-process';
import { nativePasswordHash } from '../../activities/guest/mariadb-config';
import { REPO_ROOT } from '../../lib/config';
import { SEARCH_ATTRIBUTES } from '../../lib/names';
import { migrate } from '../../registry/migrate';
import { createRegistryPool } from '../../registry';
import { loadOrCreateLocalSecrets } from './local-secrets';
import { bundleServerProcesses } from './bundle';
import { SupervisedPart, waitFor, type LogSink, type PartSpec } from './supervisor';

export interface StackOptions {
  dataDir: string;
  temporalPort: number;
  temporalUiPort: number;
  registryPort: number;
  novaPort: number;
  apiPort: number;
  /** Tests keep Temporal's state in memory; npm start keeps it in the data dir. */
  temporalInMemory?: boolean;
  temporalCli?: string;
  apiTokens?: string;
  logLevel?: string;
  log?: LogSink;
  /** Which parts to run (all by default). */
  parts?: PartName[];
  /** More environment for every service (e.g. TROVE_PROBE_ADDRESS). */
  extraEnv?: Record<string, string>;
}

export type PartName = 'temporal' | 'registry' | 'nova' | 'orchestrator' | 'api';
export const ALL_PARTS: PartName[] = ['temporal', 'registry', 'nova', 'orchestrator', 'api'];

export const DEFAULT_TEMPORAL_CLI = path.join(REPO_ROOT, '.venv', 'bin', 'temporal');
export const NOVA_TOKEN = 'nova-local-token';
export const TEMPORAL_DYNAMIC_CONFIG = ['history.transferProcessorMaxPollRPS=1000', 'history.timerProcessorMaxPollRPS=1000'];
const TSX = [process.execPath, '--import', 'tsx'];

export interface Stack {
  options: StackOptions;
  /** The environment every service and client of this stack reads. */
  env: Record<string, string>;
  parts: Map<PartName, SupervisedPart>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const tcpOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

function registryCnf(dir: string, port: number): string {
  return [
    '[mariadbd]',
    `datadir = ${path.join(dir, 'mysql')}`,
    `socket = ${path.join(dir, 'mysqld.sock')}`,
    `pid-file = ${path.join(dir, 'mysqld.pid')}`,
    `log-error = ${path.join(dir, 'mysqld.err')}`,
    `init-file = ${path.join(dir, 'init.sql')}`,
    'bind-address = 127.0.0.1',
    `port = ${port}`,
    'server_id = 1',
    'skip-name-resolve',
    'skip-log-bin',
    'performance_schema = OFF',
    'innodb_buffer_pool_size = 64M',
    'innodb_log_file_size = 48M',
    '',
  ].join('\n');
}

/** The registry's account is (re)asserted by init-file at every start: no bootstrap race. */
function registryInitSql(database: string, password: string): string {
  const hash = nativePasswordHash(password);
  return [
    `CREATE DATABASE IF NOT EXISTS \`${database}\`;`,
    `CREATE USER IF NOT EXISTS 'trove'@'127.0.0.1' IDENTIFIED BY PASSWORD '${hash}';`,
    `ALTER USER 'trove'@'127.0.0.1' IDENTIFIED BY PASSWORD '${hash}';`,
    `GRANT ALL PRIVILEGES ON \`${database}\`.* TO 'trove'@'127.0.0.1';`,
    '',
  ].join('\n');
}

async function applyMigrations(port: number, password: string, log: LogSink): Promise<void> {
  const pool = createRegistryPool({ host: '127.0.0.1', port, user: 'trove', password, database: 'trove' });
  try {
    const applied = await migrate(pool);
    if (applied.length) log('stack', `registry migrations applied: ${applied.join(', ')}`);
  } finally {
    await pool.end();
  }
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const log: LogSink = o.log ?? ((part, line) => process.stdout.write(`[${part}] ${line}\n`));
  const wanted = new Set(o.parts ?? ALL_PARTS);
  mkdirSync(o.dataDir, { recursive: true });
  const secrets = loadOrCreateLocalSecrets(o.dataDir);
  const temporalAddress = `127.0.0.1:${o.temporalPort}`;
  const env: Record<string, string> = {
    TROVE_DATA_DIR: o.dataDir,
    TROVE_LOG_LEVEL: o.logLevel ?? 'info',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TROVE_REGISTRY_HOST: '127.0.0.1',
    TROVE_REGISTRY_PORT: String(o.registryPort),
    TROVE_REGISTRY_USER: 'trove',
    TROVE_REGISTRY_PASSWORD: secrets.registryPassword,
    TROVE_REGISTRY_DATABASE: 'trove',
    TROVE_SECRET_KEY: secrets.secretKey,
    NOVA_PORT: String(o.novaPort),
    NOVA_URL: `http://127.0.0.1:${o.novaPort}/v2.1`,
    NOVA_TOKEN,
    TROVE_API_PORT: String(o.apiPort),
    TROVE_API_TOKENS: o.apiTokens ?? 'trove-local-token=demo',
    TROVE_URL: `http://127.0.0.1:${o.apiPort}`,
    ...o.extraEnv,
  };
  const bundles = wanted.has('nova') && !env.NOVA_GUEST_COMMAND ? await bundleServerProcesses(String(o.novaPort)) : undefined;
  if (bundles) {
    env.NOVA_INIT_COMMAND = JSON.stringify(bundles.initCommand);
    env.NOVA_GUEST_COMMAND = JSON.stringify(bundles.guestCommand);
  }

  const cli = o.temporalCli ?? DEFAULT_TEMPORAL_CLI;
  if (wanted.has('temporal') && !existsSync(cli)) throw new Error(`Temporal CLI not found at ${cli}: run npm run setup`);
  const registryDir = path.join(o.dataDir, 'registry');

  const specs: Record<PartName, () => PartSpec> = {
    temporal: () => ({
      name: 'temporal',
      command: cli,
      args: [
        'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.temporalPort), '--ui-port', String(o.temporalUiPort),
        '--namespace', 'default', '--log-level', 'error', '--ui-disable-news-fetch',
        ...(o.temporalInMemory ? [] : ['--db-filename', path.join(o.dataDir, 'temporal.db')]),
        ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
        // The history service reads its transfer and timer queues at most 20 times a second
        // by default, which put ~50 ms into every hand-off (a workflow task, an activity on
        // another queue, a signal): half of an operation's time (bench/improvements.md).
        ...TEMPORAL_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
      ],
      ready: () =>
        waitFor('temporal', async () => {
          const c = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
          try {
            await c.workflowService.getSystemInfo({});
            return true;
          } finally {
            await c.close();
          }
        }),
    }),
    registry: () => ({
      name: 'registry',
      command: '/usr/sbin/mariadbd',
      args: [`--defaults-file=${path.join(registryDir, 'my.cnf')}`, '--user=root'],
      stopTimeoutMs: 60_000,
      ready: () =>
        waitFor('registry', async () => {
          const c = await createConnection({ host: '127.0.0.1', port: o.registryPort, user: 'trove', password: secrets.registryPassword, database: 'trove' });
          await c.end();
          return true;
        }),
    }),
    nova: () => ({
      name: 'nova',
      command: TSX[0]!,
      args: [...TSX.slice(1), path.join(REPO_ROOT, 'nova', 'main.ts')],
      env,
      cwd: REPO_ROOT,
      stopTimeoutMs: 90_000,
      ready: () => waitFor('nova', () => tcpOpen('127.0.0.1', o.novaPort)),
    }),
    orchestrator: () => ({
      name: 'orchestrator',
      command: TSX[0]!,
      args: [...TSX.slice(1), path.join(REPO_ROOT, 'workers', 'orchestrator.ts')],
      env,
      cwd: REPO_ROOT,
    }),
    api: () => ({
      name: 'api',
      command: TSX[0]!,
      args: [...TSX.slice(1), path.join(REPO_ROOT, 'api', 'main.ts')],
      env,
      cwd: REPO_ROOT,
      ready: () => waitFor('api', () => tcpOpen('127.0.0.1', o.apiPort)),
    }),
  };

  if (wanted.has('registry')) {
    mkdirSync(registryDir, { recursive: true });
    writeFileSync(path.join(registryDir, 'my.cnf'), registryCnf(registryDir, o.registryPort));
    writeFileSync(path.join(registryDir, 'init.sql'), registryInitSql('trove', secrets.registryPassword), { mode: 0o600 });
    await initializeDatadir(path.join(registryDir, 'mysql'), '/usr/bin/mariadb-install-db');
  }

  const parts = new Map<PartName, SupervisedPart>();
  const stack: Stack = {
    options: o,
    env,
    parts,
    async stop() {
      // Reverse order: clients first, Nova stops the database servers, the registry and
      // Temporal last.
      for (const part of parts.values()) part.markStopping();
      for (const name of [...ALL_PARTS].reverse()) await parts.get(name)?.stop();
      bundles?.remove();
    },
  };
  try {
    for (const name of ALL_PARTS) {
      if (!wanted.has(name)) continue;
      const part = new SupervisedPart(specs[name](), log);
      parts.set(name, part);
      await part.start();
      // The API must not answer before the schema exists: migrate before anything uses it.
      if (name === 'registry') await applyMigrations(o.registryPort, secrets.registryPassword, log);
    }
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
