// Every environment variable the services read, validated at start. A bad value stops
// the process with a message that names the variable and the rule.
import * as path from 'node:path';
import { z } from 'zod';
import { payloadKeysIssue } from './payload-codec';
import { DEFAULT_LIMITS } from './topology';
import { formatIssues } from './validation';

export const REPO_ROOT = path.resolve(__dirname, '..');

const port = (def: number) => z.coerce.number().int().min(1, 'must be a TCP port').max(65535, 'must be a TCP port').default(def);
// A metrics listener's port: 0 turns it off.
const metricsPort = (def: number) => z.coerce.number().int().min(0, 'must be a TCP port, or 0 for none').max(65535, 'must be a TCP port, or 0 for none').default(def);
const metricsHost = { TROVE_METRICS_HOST: z.string().min(1).default('127.0.0.1') };
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port');

const temporal = {
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  // Payload encryption (lib/payload-codec.ts): "id:base64,id:base64", and the id that
  // encrypts (optional with one key). Unset: payloads are stored as plain JSON.
  TROVE_PAYLOAD_KEYS: z.string().optional(),
  TROVE_PAYLOAD_KEY_ID: z.string().optional(),
};

/** The key ring's rules, reported under the variable at fault (both variables are read together). */
function checkPayloadKeys(c: { TROVE_PAYLOAD_KEYS?: string; TROVE_PAYLOAD_KEY_ID?: string }, ctx: z.RefinementCtx): void {
  const issue = !c.TROVE_PAYLOAD_KEYS ? undefined : payloadKeysIssue(c.TROVE_PAYLOAD_KEYS, c.TROVE_PAYLOAD_KEY_ID);
  if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: [issue.variable] });
}
const registry = {
  TROVE_REGISTRY_HOST: z.string().min(1).default('127.0.0.1'),
  TROVE_REGISTRY_PORT: port(3307),
  TROVE_REGISTRY_USER: z.string().min(1).default('trove'),
  TROVE_REGISTRY_PASSWORD: z.string().min(1, 'is required (npm start creates one in the data dir)'),
  TROVE_REGISTRY_DATABASE: z.string().regex(/^[A-Za-z0-9_]{1,64}$/).default('trove'),
};
const secretKey = {
  TROVE_SECRET_KEY: z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/=]{43,44})$/, 'must be 32 bytes as 64 hex digits or base64'),
};
const dataDir = { TROVE_DATA_DIR: z.string().min(1).default(path.join(REPO_ROOT, '.data')) };
const nova = {
  NOVA_URL: z.string().url().default('http://127.0.0.1:8774/v2.1'),
  NOVA_TOKEN: z.string().min(1).default('nova-local-token'),
};
const maxReplicas = {
  TROVE_MAX_REPLICAS: z.coerce.number().int().min(1, 'must be at least 1').max(50, 'must be at most 50').default(10),
  // How many links a replica may be from its set's source (1: no replica of a replica).
  TROVE_MAX_DEPTH: z.coerce.number().int().min(1, 'must be at least 1').max(10, 'must be at most 10').default(DEFAULT_LIMITS.maxDepth),
};
const logLevel = { TROVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') };

const snapshots = {
  // Default: <TROVE_DATA_DIR>/snapshots (filled in by snapshotDir()).
  TROVE_SNAPSHOT_DIR: z.string().min(1).optional(),
  // folder: TROVE_SNAPSHOT_DIR, shared by every server; swift: OpenStack Swift (SWIFT_*).
  TROVE_SNAPSHOT_STORE: z.enum(['folder', 'swift']).default('folder'),
  // Swift's v1.0 auth endpoint (tempauth, or Keystone's v1 shim) and one account's user and key.
  SWIFT_AUTH_URL: z.string().url().optional(),
  SWIFT_USER: z.string().min(1).optional(),
  SWIFT_KEY: z.string().min(1).optional(),
  SWIFT_CONTAINER: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'must be 1-200 letters, digits, "_", "." or "-"').default('trove-snapshots'),
  // Each uploaded segment (a backup holds two in memory); 1000 per manifest level.
  SWIFT_SEGMENT_MB: z.coerce.number().int().min(1, 'must be at least 1').max(5120, 'must be at most 5120 (Swift\'s largest object)').default(16),
};
/** What a snapshot store is built from (activities/snapshots/from-config.ts). */
export const snapshotStoreSchema = z.object({ ...dataDir, ...snapshots });
export type SnapshotStoreConfig = z.infer<typeof snapshotStoreSchema>;

export const orchestratorConfigSchema = z.object({
  ...temporal,
  ...registry,
  ...dataDir,
  ...snapshots,
  ...secretKey,
  ...logLevel,
  ...nova,
  TROVE_BUILD_TIMEOUT_S: z.coerce.number().int().min(10).max(7200).default(600),
  ...maxReplicas,
  // TLS sets: how long a member's server certificate lasts (fractions of a day allowed: tests
  // issue certificates of minutes), and how long before it expires the watch renews it.
  TROVE_TLS_SERVER_CERT_DAYS: z.coerce.number().positive('must be more than 0').max(825, 'must be at most 825 (what clients accept)').default(825),
  TROVE_TLS_RENEW_BEFORE_DAYS: z.coerce.number().min(0, 'must be at least 0').max(365, 'must be at most 365').default(30),
  // The orchestrator's probes leave from this address, its "management network".
  TROVE_PROBE_ADDRESS: z.ipv4().default('127.0.0.1'),
  ...metricsHost,
  // GET /metrics: the product's metrics and the Temporal SDK's, which the SDK's own exporter
  // serves on the second port (loopback) for this endpoint to read.
  TROVE_ORCHESTRATOR_METRICS_PORT: metricsPort(9464),
  TROVE_ORCHESTRATOR_SDK_METRICS_PORT: metricsPort(9465),
  // Activities one worker runs at once. Each watched set holds one (its watch runs for an
  // hour): the SDK's default of 100 would leave the 101st set unwatched and no slot for the
  // operations' activities. They wait on the network, not the CPU.
  TROVE_ORCHESTRATOR_MAX_ACTIVITIES: z.coerce.number().int().min(10, 'must be at least 10').max(100_000, 'must be at most 100000').default(5000),
  // Workflows kept in the worker's memory between their tasks. A set's watch waits an hour on
  // its activity: evicted, it replays its few events when it wakes, which a failover it starts
  // waits for. Measured at 500 sets (bench watch-scale): 1,000 instead of 200 cost ~0.5 MB per
  // cached watch (RSS 1270 -> 1418 MiB) and moved detection p99 from 3.1 s to 2.5 s; the
  // default stays small for workers beside other processes.
  TROVE_ORCHESTRATOR_WORKFLOW_CACHE: z.coerce.number().int().min(0, 'must be at least 0').max(100_000, 'must be at most 100000').default(200),
}).superRefine(checkPayloadKeys);
export type OrchestratorConfig = z.infer<typeof orchestratorConfigSchema>;

export const apiConfigSchema = z.object({
  ...temporal,
  ...registry,
  ...secretKey,
  ...logLevel,
  ...nova,
  TROVE_API_HOST: z.string().min(1).default('127.0.0.1'),
  TROVE_API_PORT: port(8779),
  ...metricsHost,
  // GET /metrics: requests by route and status, latency.
  TROVE_API_METRICS_PORT: metricsPort(9466),
  // The port the guests serve their metrics on (as in the guests' config): listed on the API's
  // metrics port at GET /targets/guests for Prometheus's HTTP service discovery.
  TROVE_GUEST_METRICS_PORT: metricsPort(9464),
  ...maxReplicas,
  // token=project pairs: a token authorises exactly one project (Keystone-like scoping).
  TROVE_API_TOKENS: z
    .string()
    .regex(/^[^=,\s]+=[A-Za-z0-9_-]+(,[^=,\s]+=[A-Za-z0-9_-]+)*$/, 'must be token=project[,token=project...]')
    .default('trove-local-token=demo')
    // /v1.0/admin/... is the administrators' path: a project of that name could not reach its own routes there.
    .refine((t) => ![...parseApiTokens(t).values()].includes('admin'), '"admin" cannot be a project (it is the administrators\' path)'),
  // Administrators' tokens (zone profiles): none by default. Never a project's token too.
  TROVE_ADMIN_TOKENS: z.string().regex(/^([^=,\s]+(,[^=,\s]+)*)?$/, 'must be token[,token...]').default(''),
  // The codec server's own tokens (the administrators' work too): decoding shows every payload.
  TROVE_CODEC_TOKENS: z.string().regex(/^([A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*)?$/, 'must be token[,token...] (letters, digits, _ -)').default(''),
  // Origins whose pages may call the codec server (the Web UI's), comma-separated.
  TROVE_CODEC_CORS_ORIGINS: z.string().regex(/^(https?:\/\/[^,\s/]+(,https?:\/\/[^,\s/]+)*)?$/, 'must be origins like http://host:port, comma-separated').default(''),
}).refine((c) => !parseAdminTokens(c.TROVE_ADMIN_TOKENS).some((t) => parseApiTokens(c.TROVE_API_TOKENS).has(t)), {
  message: 'an administrator token must not also be a project token',
  path: ['TROVE_ADMIN_TOKENS'],
}).superRefine(checkPayloadKeys);
export type ApiConfig = z.infer<typeof apiConfigSchema>;

export const guestConfigSchema = z.object({
  ...temporal,
  ...secretKey,
  ...dataDir,
  ...snapshots,
  ...logLevel,
  TROVE_SERVER_ID: z.string().min(1, 'is set by Nova when it boots the server'),
  TROVE_SERVER_ADDRESS: z.ipv4(),
  TROVE_SERVER_DIR: z.string().min(1),
  TROVE_FLAVOR_RAM_MB: z.coerce.number().int().min(64).default(512),
  TROVE_MARIADBD: z.string().default('/usr/sbin/mariadbd'),
  TROVE_MARIADB_INSTALL_DB: z.string().default('/usr/bin/mariadb-install-db'),
  TROVE_MARIADB_BACKUP: z.string().default('/usr/bin/mariadb-backup'),
  TROVE_MBSTREAM: z.string().default('/usr/bin/mbstream'),
  // Runs the helper that feeds a snapshot file to mbstream with splice(2) (needs 3.10+).
  TROVE_PYTHON: z.string().default('/usr/bin/python3'),
  // GET /metrics on the server's own address (each server has one): its activities and the
  // Temporal SDK's metrics, whose exporter listens on the second port, same address.
  TROVE_GUEST_METRICS_PORT: metricsPort(9464),
  TROVE_GUEST_SDK_METRICS_PORT: metricsPort(9465),
}).superRefine(checkPayloadKeys);

export function snapshotDir(c: { TROVE_DATA_DIR: string; TROVE_SNAPSHOT_DIR?: string }): string {
  return c.TROVE_SNAPSHOT_DIR ?? path.join(c.TROVE_DATA_DIR, 'snapshots');
}
export type GuestConfig = z.infer<typeof guestConfigSchema>;

export class ConfigError extends Error {}

export function loadConfig<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv = process.env): T {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`invalid configuration:\n  ${formatIssues(result.error).join('\n  ')}`);
  }
  return result.data;
}

export function parseAdminTokens(text: string): string[] {
  return text.split(',').filter((t) => t !== '');
}

export function parseApiTokens(text: string): Map<string, string> {
  return new Map(text.split(',').map((pair) => pair.split('=') as [string, string]));
}
