// Configuration comes only from the environment so the stack script, tests
// and a developer shell all start Nova the same way. Each variable is checked
// on its own so a mistake is reported with the variable's name.
import path from 'node:path';
import { z } from 'zod';
import type { ZoneConfig } from './placement';
import { REPO_ROOT, SERVER_INIT_SCRIPT } from './paths';

export type NovaDriverName = 'process' | 'fake' | 'docker';

export interface NovaConfig {
  port: number;
  host: string;
  dataDir: string;
  token: string;
  zones: ZoneConfig[];
  driver: NovaDriverName;
  guestCommand: string[];
  /** argv of each server's init (nova/server-init.ts, or a bundle of it). */
  initCommand: string[];
  bootDelayMs: number;
  /** docker driver: the user-defined network its containers join, and their image. */
  dockerNetwork: string | null;
  dockerImage: string;
}

export class NovaConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid ${variable}: ${detail}`);
    this.name = 'NovaConfigError';
  }
}

export const DEFAULT_ZONES = 'az1:host1a,host1b;az2:host2a,host2b;az3:host3a,host3b';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const zonesSchema = z.string().transform((raw, ctx): ZoneConfig[] => {
  const issue = (message: string): never => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const zones: ZoneConfig[] = [];
  const seenHosts = new Set<string>();
  for (const part of raw.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const [name, hostList, extra] = part.split(':').map((s) => s.trim());
    if (extra !== undefined || hostList === undefined) return issue(`'${part}' is not of the form zone:host1,host2`);
    if (!NAME.test(name)) return issue(`zone name '${name}' must match ${NAME}`);
    if (zones.some((zone) => zone.name === name)) return issue(`zone '${name}' is listed twice`);
    const hosts = hostList.split(',').map((h) => h.trim()).filter((h) => h !== '');
    if (hosts.length === 0) return issue(`zone '${name}' has no hosts`);
    for (const host of hosts) {
      if (!NAME.test(host)) return issue(`host name '${host}' must match ${NAME}`);
      if (seenHosts.has(host)) return issue(`host '${host}' is listed twice`);
      seenHosts.add(host);
    }
    zones.push({ name, hosts });
  }
  if (zones.length === 0) return issue('at least one zone is required');
  return zones;
});

const argvSchema = z.string().transform((raw, ctx): string[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of strings, e.g. ["node", "guest.js"]' });
    return z.NEVER;
  }
  const argv = z.array(z.string().min(1)).min(1).safeParse(parsed);
  if (!argv.success) {
    ctx.addIssue({ code: 'custom', message: 'must be a non-empty JSON array of non-empty strings' });
    return z.NEVER;
  }
  return argv.data;
});

const intSchema = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

function read<T>(env: NodeJS.ProcessEnv, variable: string, schema: z.ZodType<T, string>, fallback: string): T {
  const raw = env[variable];
  const value = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new NovaConfigError(variable, `${result.error.issues.map((i) => i.message).join('; ')} (got '${value}')`);
  }
  return result.data;
}

export function defaultInitCommand(): string[] {
  return [process.execPath, '--import', 'tsx', SERVER_INIT_SCRIPT];
}

export function defaultGuestCommand(): string[] {
  return [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'workers', 'guest-agent.ts')];
}

export function loadNovaConfig(env: NodeJS.ProcessEnv = process.env): NovaConfig {
  return {
    port: read(env, 'NOVA_PORT', intSchema(0, 65535), '8774'),
    host: read(env, 'NOVA_HOST', z.string().min(1), '127.0.0.1'),
    dataDir: path.resolve(read(env, 'TROVE_DATA_DIR', z.string().min(1), path.join(REPO_ROOT, '.data'))),
    token: read(env, 'NOVA_TOKEN', z.string().min(1), 'nova-local-token'),
    zones: read(env, 'NOVA_ZONES', zonesSchema, DEFAULT_ZONES),
    driver: read(env, 'NOVA_DRIVER', z.enum(['process', 'fake', 'docker']), 'process'),
    guestCommand: read(env, 'NOVA_GUEST_COMMAND', argvSchema, JSON.stringify(defaultGuestCommand())),
    initCommand: read(env, 'NOVA_INIT_COMMAND', argvSchema, JSON.stringify(defaultInitCommand())),
    bootDelayMs: read(env, 'NOVA_BOOT_DELAY_MS', intSchema(0, 600_000), '0'),
    ...dockerSettings(env),
  };
}

/** The docker driver names its network (no default: the stack creates one per run). */
function dockerSettings(env: NodeJS.ProcessEnv): Pick<NovaConfig, 'dockerNetwork' | 'dockerImage'> {
  const network = env.NOVA_DOCKER_NETWORK?.trim() || null;
  if (env.NOVA_DRIVER?.trim() === 'docker' && network === null) throw new NovaConfigError('NOVA_DOCKER_NETWORK', 'is required with NOVA_DRIVER=docker (the docker network the servers join)');
  return { dockerNetwork: network, dockerImage: read(env, 'NOVA_DOCKER_IMAGE', z.string().min(1), 'trove/db-server') };
}
