// A real stack per test file: fresh data dir, free ports, Temporal in memory, logs in a
// file (printed when a test fails to start). stop() ends every process it started.
import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { workflowIds } from '../../lib/names';
import { NovaClient } from '../../lib/nova-client';
import { payloadDataConverter } from '../../lib/payload-codec';
import { createRegistryPool, Registry } from '../../registry';
import { freePort, startStack, type PartName, type Stack } from '../../scripts/stack/stack';

export interface TestStack {
  stack: Stack;
  dataDir: string;
  logFile: string;
  temporal: Client;
  connection: Connection;
  registry?: Registry;
  nova: NovaClient;
  apiUrl: string;
  token: string;
  api(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  ports: number[];
  /** keepData leaves the data dir for a restart with `reuse`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface TestStackOptions {
  parts?: PartName[];
  apiTokens?: string;
  /** Administrators' tokens; 'tok-admin' by default. */
  adminTokens?: string;
  extraEnv?: Record<string, string>;
  /**
   * Payloads stored as plain JSON, not encrypted: history fixtures, which replay in any
   * checkout without the key of the stack that recorded them.
   */
  plainPayloads?: boolean;
  /** Where Temporal listens (the docker network's gateway when the servers are containers). */
  serviceAddress?: string;
  /** Start again on the data dir (and ports) of a stack that was stopped with keepData. */
  reuse?: { dataDir: string; ports: number[] };
}

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const dataDir = opts.reuse?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'trove-test-'));
  const logFile = path.join(dataDir, 'stack.log');
  const ports = opts.reuse?.ports ?? (await Promise.all(Array.from({ length: 8 }, () => freePort())));
  const [temporalPort, temporalUiPort, registryPort, novaPort, apiPort, orchestratorMetrics, orchestratorSdkMetrics, apiMetrics] = ports as [number, number, number, number, number, number, number, number];
  const stack = await startStack({
    dataDir,
    temporalPort,
    temporalUiPort,
    registryPort,
    novaPort,
    apiPort,
    // Metrics on, as in npm start, so every test exercises them.
    metricsPorts: { orchestrator: orchestratorMetrics, orchestratorSdk: orchestratorSdkMetrics, api: apiMetrics },
    temporalInMemory: true,
    apiTokens: opts.apiTokens ?? 'tok-a=proj-a,tok-b=proj-b',
    adminTokens: opts.adminTokens ?? 'tok-admin',
    parts: opts.parts,
    extraEnv: opts.plainPayloads ? { ...opts.extraEnv, TROVE_PAYLOAD_KEYS: '' } : opts.extraEnv,
    serviceAddress: opts.serviceAddress,
    log: (part, line) => appendFileSync(logFile, `[${part}] ${line}\n`),
  });
  // Without Temporal (a registry-only stack) the client connects lazily, i.e. never.
  const wantsTemporal = !opts.parts || opts.parts.includes('temporal');
  const connection = wantsTemporal ? await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS }) : Connection.lazy({ address: stack.env.TEMPORAL_ADDRESS });
  // Encrypting as the stack's own clients and workers do (TROVE_PAYLOAD_KEYS).
  const temporal = new Client({ connection, namespace: 'default', dataConverter: payloadDataConverter(stack.env) });
  const wantsRegistry = !opts.parts || opts.parts.includes('registry');
  const registry = wantsRegistry
    ? new Registry(
        createRegistryPool({ host: '127.0.0.1', port: registryPort, user: 'trove', password: stack.env.TROVE_REGISTRY_PASSWORD!, database: 'trove' }),
      )
    : undefined;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  return {
    stack,
    dataDir,
    logFile,
    temporal,
    connection,
    registry,
    nova: new NovaClient(stack.env.NOVA_URL!, stack.env.NOVA_TOKEN!),
    apiUrl,
    token: 'tok-a',
    async api(method, urlPath, body, headers = {}) {
      const res = await fetch(`${apiUrl}${urlPath}`, {
        method,
        headers: { 'X-Auth-Token': 'tok-a', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep text */
      }
      return { status: res.status, body: parsed };
    },
    ports,
    async stop(stopOpts = {}) {
      await connection.close();
      await registry?.close();
      await stack.stop();
      if (!process.env.KEEP_TEST_DATA && !stopOpts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One real stack for the whole test file: started before its first test, stopped after its
 * last. The object answers for the stack once it runs (tests use it as they would the stack).
 */
export function useTestStack(opts: TestStackOptions = {}): TestStack {
  let started: TestStack | undefined;
  beforeAll(async () => {
    started = await startTestStack(opts);
  }, 180_000);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as TestStack, {
    get: (_target, key) => {
      if (!started) throw new Error(`the test stack is not started (reading ${String(key)} outside a test?)`);
      return started[key as keyof TestStack];
    },
  });
}

/** The instance as the API shows it to proj-a, or undefined when it does not exist. */
export async function showInstance(env: TestStack, id: string): Promise<any> {
  return (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
}

/** The instance once it is ACTIVE with no operation running; an ERROR fails at once with its fault. */
export function waitIdle(env: TestStack, id: string, timeoutMs = 240_000): Promise<any> {
  return eventually(`${id} ACTIVE and idle`, async () => {
    const i = await showInstance(env, id);
    if (i?.status === 'ERROR') throw new Error(`${id} went to ERROR: ${JSON.stringify(i.fault)}`);
    return i?.status === 'ACTIVE' && !i.operation ? i : undefined;
  }, timeoutMs);
}

/** The Nova server an instance runs on, from the registry. */
export async function novaServerOf(env: TestStack, id: string): Promise<string> {
  return (await env.registry!.instances.get(id))!.novaServerId!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Nova puts its next `count` builds in ERROR (its fault-injection API). */
export async function errorNextBuilds(env: TestStack, count = 1): Promise<void> {
  const res = await fetch(`${env.stack.env.NOVA_URL}/_faults`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN!, 'Content-Type': 'application/json' },
    body: JSON.stringify({ error_next_builds: count }),
  });
  if (!res.ok) throw new Error(`Nova refused the fault: ${res.status} ${await res.text()}`);
}

/** The instance (as the API shows it) once it has this status; an unexpected ERROR fails at once with its fault. */
export async function waitForStatus(env: TestStack, id: string, wanted: string, timeoutMs = 240_000): Promise<any> {
  return eventually(`instance ${id} ${wanted}`, async () => {
    const res = await env.api('GET', `/v1.0/proj-a/instances/${id}`);
    if (res.body?.instance?.status === 'ERROR' && wanted !== 'ERROR') throw new Error(`instance went to ERROR: ${JSON.stringify(res.body.instance.fault)}`);
    return res.body?.instance?.status === wanted ? res.body.instance : undefined;
  }, timeoutMs);
}

/**
 * Each replica an operation builds, with its phase read from its own buildReplica workflow:
 * the operation's `replicas` table hears only of phases that last a second.
 */
export async function replicaPhases(client: Client, operationId: string): Promise<{ replicaId: string; phase: string }[]> {
  const rows = await client.workflow.getHandle(operationId).query<{ replicaId: string }[]>('replicas').catch(() => []);
  return Promise.all(
    rows.map(async ({ replicaId }) => {
      const progress = await client.workflow.getHandle(workflowIds.buildReplica(replicaId)).query<{ phase: string }>('progress').catch(() => undefined);
      return { replicaId, phase: progress?.phase ?? 'pending' };
    }),
  );
}
