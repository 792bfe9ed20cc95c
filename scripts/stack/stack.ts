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
import { parseApiTokens, REPO_ROOT } from '../../lib/config';
import { ORCHESTRATOR_TASK_QUEUE, SEARCH_ATTRIBUTES } from '../../lib/names';
import { migrate } from '../../registry/migrate';
import { createRegistryPool } from '../../registry';
import { activePayloadKeyId, loadOrCreateLocalSecrets } from './local-secrets';
import { bundleServerProcesses } from './bundle';
import { forwardTcp, type Forwarder } from './forward';
import { SupervisedPart, waitFor, type LogSink, type PartSpec } from './supervisor';
import { ORCHESTRATOR_NODE_FLAGS } from '../../workers/node-flags';

export interface StackOptions {
  dataDir: string;
  temporalPort: number;
  temporalUiPort: number;
  registryPort: number;
  novaPort: number;
  apiPort: number;
  /** Prometheus endpoints (0: none): the orchestrator's, the SDK exporter it reads, the API's. */
  metricsPorts?: { orchestrator: number; orchestratorSdk: number; api: number };
  /** Tests keep Temporal's state in memory; npm start keeps it in the data dir. */
  temporalInMemory?: boolean;
  temporalCli?: string;
  apiTokens?: string;
  /** Administrators' tokens (TROVE_ADMIN_TOKENS), comma-separated. */
  adminTokens?: string;
  logLevel?: string;
  log?: LogSink;
  /** Which parts to run (all by default). */
  parts?: PartName[];
  /**
   * Where every service and client finds Temporal (127.0.0.1 by default). The docker driver's
   * servers reach the host only at their network's gateway, so a stack running them passes it
   * here: Temporal itself stays on loopback and the stack forwards the gateway's port to it.
   */
  serviceAddress?: string;
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

/**
 * Holds `port` (0: one the kernel picks) for this stack: fails if another process listens on
 * it, then leaves it in TIME_WAIT. The kernel does not hand a port in TIME_WAIT to anyone's
 * bind(0) for a minute, while an explicit bind (SO_REUSEADDR: node, Go, mariadbd) still gets
 * it. A port merely found free and closed, as before, was handed back to the next bind(0):
 * the Temporal dev server, started first, takes five ports that way, and one of them could be
 * the port Nova or the API was about to listen on (the trick is Temporal's own GetFreePort).
 */
async function holdPort(port: number): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  const held = (srv.address() as net.AddressInfo).port;
  try {
    // A connection this side closes first leaves its end, on `held`, in TIME_WAIT.
    await new Promise<void>((resolve, reject) => {
      srv.once('connection', (sock) => sock.destroy());
      const client = net.connect({ host: '127.0.0.1', port: held });
      client.once('error', reject);
      client.once('close', () => resolve());
    });
  } finally {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
  return held;
}

/** A free port, held for this stack as holdPort says. */
export async function freePort(): Promise<number> {
  return holdPort(0);
}

/** Each part's own ports: another process on one would answer in the part's place. */
function portsOf(o: StackOptions): Record<PartName, number[]> {
  const m = o.metricsPorts;
  const some = (...ports: (number | undefined)[]) => ports.filter((p): p is number => !!p);
  return { temporal: [o.temporalPort, o.temporalUiPort], registry: [o.registryPort], nova: [o.novaPort], orchestrator: some(m?.orchestrator, m?.orchestratorSdk), api: some(o.apiPort, m?.api) };
}

/** Every wanted part's ports are free, and held until the parts listen on them. */
async function holdPorts(o: StackOptions, wanted: Set<PartName>): Promise<void> {
  const ports = portsOf(o);
  for (const name of ALL_PARTS) {
    if (!wanted.has(name)) continue;
    for (const port of ports[name]) {
      try {
        await holdPort(port);
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'another process listens on it' : String(err);
        throw new Error(`${name} cannot listen on 127.0.0.1:${port}: ${why}`, { cause: err });
      }
    }
  }
}

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW (@temporalio/proto is not a dependency of ours). */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/** GET `url`: its JSON body when it answers 200; otherwise it throws, saying what answered. */
async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (every Trove* attribute is a Keyword). */
const INDEXED_KEYWORD = 2;

/**
 * Registers the Trove* search attributes the namespace lacks; returns their names. The dev
 * server's --search-attribute flags register them only when it creates its database: a data
 * dir made before an attribute was added (TroveInstanceName, 0.2.0) would otherwise refuse
 * every start that sets it ("search attribute ... is not defined").
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const c = await Connection.connect({ address });
  try {
    const { customAttributes } = await c.operatorService.listSearchAttributes({ namespace });
    const missing = SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in (customAttributes ?? {})));
    if (missing.length) await c.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((name) => [name, INDEXED_KEYWORD])) });
    return missing;
  } finally {
    await c.close();
  }
}

/**
 * Readiness probes. Each proves that the part itself answers, by something only it says: a
 * bare TCP connect was answered by whatever listened on the port, so a stack could be
 * "ready" with its API or Nova not even running.
 */
export const probes = {
  /** The Temporal frontend serves the namespace. */
  async temporal(address: string, namespace: string): Promise<boolean> {
    const c = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await c.workflowService.getSystemInfo({});
      await c.workflowService.describeNamespace({ namespace });
      return true;
    } finally {
      await c.close();
    }
  },
  /** Our Nova: it takes our token and lists its flavors. */
  async nova(novaUrl: string, token: string): Promise<boolean> {
    const body = (await getJson(`${novaUrl}/flavors`, { 'X-Auth-Token': token })) as { flavors?: unknown };
    return Array.isArray(body.flavors);
  },
  /** Our API, through the path a request takes: its version document, then a project's list (token, registry). */
  async api(apiUrl: string, token: string, project: string): Promise<boolean> {
    const root = (await getJson(`${apiUrl}/`)) as { versions?: { id?: string }[] };
    if (!root.versions?.some((v) => v.id === 'v1.0')) throw new Error(`GET ${apiUrl}/ is not the trove API: ${JSON.stringify(root).slice(0, 200)}`);
    const list = (await getJson(`${apiUrl}/v1.0/${project}/instances`, { 'X-Auth-Token': token })) as { instances?: unknown };
    return Array.isArray(list.instances);
  },
  /** The orchestrator process with this pid polls its task queue (a worker's identity is pid@host). */
  async orchestrator(connection: Connection, namespace: string, pid: number | undefined): Promise<boolean> {
    if (pid === undefined) return false;
    const res = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: ORCHESTRATOR_TASK_QUEUE },
      taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (res.pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
  },
};

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
  await holdPorts(o, wanted);
  mkdirSync(o.dataDir, { recursive: true });
  const secrets = loadOrCreateLocalSecrets(o.dataDir);
  const temporalAddress = `${o.serviceAddress ?? '127.0.0.1'}:${o.temporalPort}`;
  const loopbackTemporal = `127.0.0.1:${o.temporalPort}`;
  let forwarder: Forwarder | undefined;
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
    TROVE_ADMIN_TOKENS: o.adminTokens ?? 'trove-local-admin-token',
    TROVE_URL: `http://127.0.0.1:${o.apiPort}`,
    ...(o.metricsPorts
      ? {
          TROVE_ORCHESTRATOR_METRICS_PORT: String(o.metricsPorts.orchestrator),
          TROVE_ORCHESTRATOR_SDK_METRICS_PORT: String(o.metricsPorts.orchestratorSdk),
          TROVE_API_METRICS_PORT: String(o.metricsPorts.api),
        }
      : {}),
    TROVE_PAYLOAD_KEYS: secrets.payloadKeys,
    TROVE_PAYLOAD_KEY_ID: activePayloadKeyId(secrets.payloadKeys),
    TROVE_CODEC_TOKENS: secrets.codecToken,
    // The Web UI (its page, in a browser) decodes through the API's codec server.
    TROVE_CODEC_CORS_ORIGINS: `http://127.0.0.1:${o.temporalUiPort},http://localhost:${o.temporalUiPort}`,
    ...o.extraEnv,
  };
  const bundles = wanted.has('nova') && !env.NOVA_GUEST_COMMAND && env.NOVA_DRIVER !== 'docker' ? await bundleServerProcesses(String(o.novaPort)) : undefined;
  if (bundles) {
    env.NOVA_INIT_COMMAND = JSON.stringify(bundles.initCommand);
    env.NOVA_GUEST_COMMAND = JSON.stringify(bundles.guestCommand);
  }

  const [apiToken, apiProject] = [...parseApiTokens(env.TROVE_API_TOKENS!)][0]!;

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
        // The dev server's UI has no login to pass a token from: its endpoint carries one.
        ...(env.TROVE_PAYLOAD_KEYS ? ['--ui-codec-endpoint', `${env.TROVE_URL}/codec/${env.TROVE_CODEC_TOKENS!.split(',')[0]}`] : []),
        ...(o.temporalInMemory ? [] : ['--db-filename', path.join(o.dataDir, 'temporal.db')]),
        ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
        // The history service reads its transfer and timer queues at most 20 times a second
        // by default, which put ~50 ms into every hand-off (a workflow task, an activity on
        // another queue, a signal): half of an operation's time (bench/improvements.md).
        ...TEMPORAL_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
      ],
      ready: async ({ signal }) => {
        await waitFor('temporal', () => probes.temporal(loopbackTemporal, env.TEMPORAL_NAMESPACE!), 60_000, signal);
        await ensureSearchAttributes(loopbackTemporal, env.TEMPORAL_NAMESPACE!);
        if (o.serviceAddress && o.serviceAddress !== '127.0.0.1') {
          forwarder ??= await forwardTcp({ host: o.serviceAddress, port: o.temporalPort }, { host: '127.0.0.1', port: o.temporalPort });
        }
      },
    }),
    registry: () => ({
      name: 'registry',
      command: '/usr/sbin/mariadbd',
      args: [`--defaults-file=${path.join(registryDir, 'my.cnf')}`, '--user=root'],
      stopTimeoutMs: 60_000,
      ready: ({ signal }) =>
        waitFor(
          'registry',
          async () => {
            const c = await createConnection({ host: '127.0.0.1', port: o.registryPort, user: 'trove', password: secrets.registryPassword, database: 'trove' });
            await c.end();
            return true;
          },
          60_000,
          signal,
        ),
    }),
    nova: () => ({
      name: 'nova',
      command: TSX[0]!,
      args: [...TSX.slice(1), path.join(REPO_ROOT, 'nova', 'main.ts')],
      env,
      cwd: REPO_ROOT,
      stopTimeoutMs: 90_000,
      ready: ({ signal }) => waitFor('nova', () => probes.nova(env.NOVA_URL!, env.NOVA_TOKEN!), 60_000, signal),
    }),
    orchestrator: () => ({
      name: 'orchestrator',
      command: TSX[0]!,
      args: [...ORCHESTRATOR_NODE_FLAGS, ...TSX.slice(1), path.join(REPO_ROOT, 'workers', 'orchestrator.ts')],
      env,
      cwd: REPO_ROOT,
      // Ready once it polls: it bundles the workflows first (seconds), and an operation
      // started meanwhile waits on it unseen.
      ready: async ({ pid, signal }) => {
        const connection = await Connection.connect({ address: temporalAddress });
        try {
          await waitFor('orchestrator', () => probes.orchestrator(connection, env.TEMPORAL_NAMESPACE!, pid()), 120_000, signal);
        } finally {
          await connection.close();
        }
      },
    }),
    api: () => ({
      name: 'api',
      command: TSX[0]!,
      args: [...TSX.slice(1), path.join(REPO_ROOT, 'api', 'main.ts')],
      env,
      cwd: REPO_ROOT,
      ready: ({ signal }) => waitFor('api', () => probes.api(env.TROVE_URL!, apiToken, apiProject), 60_000, signal),
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
      await forwarder?.close();
      bundles?.remove();
    },
  };
  // The stack is ready when every part answers as itself; the orchestrator bundles its
  // workflows while the API starts, and both are waited for.
  let orchestratorReady: Promise<void> | undefined;
  try {
    for (const name of ALL_PARTS) {
      if (!wanted.has(name)) continue;
      const part = new SupervisedPart(specs[name](), log);
      parts.set(name, part);
      const ready = part.start();
      if (name === 'orchestrator') {
        orchestratorReady = ready;
        ready.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
        continue;
      }
      await ready;
      // The API must not answer before the schema exists: migrate before anything uses it.
      if (name === 'registry') await applyMigrations(o.registryPort, secrets.registryPassword, log);
    }
    await orchestratorReady;
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
