// An all-in-one OpenStack Swift from Debian's packages, run as processes under one folder:
// rings with one replica, an account, a container and an object server, a proxy with
// tempauth, and the memcached tempauth keeps its tokens in. For tests and for `npm start`
// with TROVE_SNAPSHOT_STORE=swift and no SWIFT_AUTH_URL; a real deployment points the
// SWIFT_* settings at its own Swift instead. stop() ends every process it started.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './stack';
import { SupervisedPart, waitFor, type LogSink, type PartSpec } from './supervisor';

const run = promisify(execFile);

/** What a Swift client needs: tempauth's v1.0 endpoint and one account's credentials. */
export interface SwiftSettings {
  SWIFT_AUTH_URL: string;
  SWIFT_USER: string;
  SWIFT_KEY: string;
}

export interface LocalSwift {
  dir: string;
  settings: SwiftSettings;
  proxyPort: number;
  parts: Map<string, SupervisedPart>;
  stop(): Promise<void>;
}

export const SWIFT_BIN = '/usr/bin';
const RINGS = { account: 'account', container: 'container', object: 'object' } as const;
type Server = keyof typeof RINGS;

/** Swift's binaries are there (scripts/setup.sh installs them). */
export function swiftInstalled(): boolean {
  try {
    for (const bin of ['swift-proxy-server', 'swift-account-server', 'swift-container-server', 'swift-object-server', 'swift-ring-builder']) accessSync(path.join(SWIFT_BIN, bin), constants.X_OK);
    accessSync('/usr/bin/memcached', constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The [DEFAULT] section every Swift server of this folder shares. */
function defaults(o: { dir: string; bindAddress: string; port: number; user: string }): string[] {
  return [
    '[DEFAULT]',
    `swift_dir = ${path.join(o.dir, 'etc')}`,
    `bind_ip = ${o.bindAddress}`,
    `bind_port = ${o.port}`,
    // One process, no fork: stop() ends it with one signal.
    'workers = 0',
    `user = ${o.user}`,
    `log_address = ${path.join(o.dir, 'no-syslog')}`,
  ];
}

function serverConf(kind: Server, o: { dir: string; port: number; user: string }): string {
  return [
    ...defaults({ ...o, bindAddress: '127.0.0.1' }),
    `devices = ${path.join(o.dir, 'srv')}`,
    'mount_check = false',
    '',
    '[pipeline:main]',
    `pipeline = ${kind}-server`,
    '',
    `[app:${kind}-server]`,
    `use = egg:swift#${kind}`,
    '',
  ].join('\n');
}

function proxyConf(o: { dir: string; bindAddress: string; port: number; user: string; memcachePort: number; account: string; userName: string; key: string }): string {
  return [
    ...defaults(o),
    '',
    '[pipeline:main]',
    'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth copy slo dlo versioned_writes proxy-logging proxy-server',
    '',
    '[app:proxy-server]',
    'use = egg:swift#proxy',
    'account_autocreate = true',
    '',
    '[filter:tempauth]',
    'use = egg:swift#tempauth',
    // The key is this run's alone (random, in this folder's config): never a fixed one.
    `user_${o.account}_${o.userName} = ${o.key} .admin`,
    '',
    '[filter:cache]',
    'use = egg:swift#memcache',
    `memcache_servers = 127.0.0.1:${o.memcachePort}`,
    '',
    '[filter:proxy-logging]',
    'use = egg:swift#proxy_logging',
    // Swift logs the first 16 characters of each token by default: none here.
    'reveal_sensitive_prefix = 0',
    '',
    ...['catch_errors', 'gatekeeper', 'healthcheck', 'listing_formats', 'copy', 'slo', 'dlo', 'versioned_writes'].flatMap((f) => [`[filter:${f}]`, `use = egg:swift#${f}`, '']),
  ].join('\n');
}

async function buildRing(etc: string, kind: Server, port: number): Promise<void> {
  const builder = path.join(etc, `${RINGS[kind]}.builder`);
  // part power 6 (64 partitions), 1 replica, min_part_hours 1: one device holds everything.
  await run(path.join(SWIFT_BIN, 'swift-ring-builder'), [builder, 'create', '6', '1', '1']);
  await run(path.join(SWIFT_BIN, 'swift-ring-builder'), [builder, 'add', `r1z1-127.0.0.1:${port}/d1`, '100']);
  // rebalance exits 1 with a warning on a one-device ring; the ring is written all the same.
  await run(path.join(SWIFT_BIN, 'swift-ring-builder'), [builder, 'rebalance']).catch((err: { code?: number }) => {
    if (err.code !== 1) throw err;
  });
}

/** The proxy answers as a Swift: its /info names the swift section. */
async function proxyAnswers(address: string, port: number): Promise<boolean> {
  const res = await fetch(`http://${address}:${port}/info`, { signal: AbortSignal.timeout(2000) });
  return res.ok && 'swift' in ((await res.json()) as object);
}

/** A server answers its healthcheck. */
async function serverAnswers(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/healthcheck`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  // account/container/object servers have no healthcheck filter; any HTTP answer means it listens.
  return res !== undefined;
}

/** bindAddress: where the proxy listens (127.0.0.1 by default; a docker network's gateway for containers). */
export async function startLocalSwift(o: { dir: string; log?: LogSink; bindAddress?: string }): Promise<LocalSwift> {
  const bindAddress = o.bindAddress ?? '127.0.0.1';
  const log: LogSink = o.log ?? ((part, line) => process.stdout.write(`[${part}] ${line}\n`));
  const etc = path.join(o.dir, 'etc');
  mkdirSync(etc, { recursive: true });
  mkdirSync(path.join(o.dir, 'srv', 'd1'), { recursive: true });
  const user = os.userInfo().username;
  const [account, container, object, proxy, memcache] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const ports: Record<Server, number> = { account: account!, container: container!, object: object! };
  const credentials = { account: 'trove', userName: 'snapshots', key: randomBytes(16).toString('hex') };

  writeFileSync(
    path.join(etc, 'swift.conf'),
    ['[swift-hash]', `swift_hash_path_suffix = ${randomBytes(8).toString('hex')}`, 'swift_hash_path_prefix = trove', '', '[storage-policy:0]', 'name = Policy-0', 'default = yes', ''].join('\n'),
  );
  for (const kind of Object.keys(RINGS) as Server[]) {
    writeFileSync(path.join(etc, `${kind}-server.conf`), serverConf(kind, { dir: o.dir, port: ports[kind], user }));
    await buildRing(etc, kind, ports[kind]);
  }
  writeFileSync(path.join(etc, 'proxy-server.conf'), proxyConf({ dir: o.dir, bindAddress, port: proxy!, user, memcachePort: memcache!, ...credentials }), { mode: 0o600 });

  const specs: PartSpec[] = [
    {
      name: 'swift-memcached',
      command: '/usr/bin/memcached',
      args: ['-l', '127.0.0.1', '-p', String(memcache), '-U', '0', '-m', '16', '-u', user],
      ready: ({ signal }) => waitFor('memcached', () => tcpAnswers(memcache!), 30_000, signal),
    },
    ...(Object.keys(RINGS) as Server[]).map((kind) => ({
      name: `swift-${kind}`,
      command: path.join(SWIFT_BIN, `swift-${kind}-server`),
      args: [path.join(etc, `${kind}-server.conf`), '--verbose'],
      ready: ({ signal }: { signal: AbortSignal }) => waitFor(`swift ${kind} server`, () => serverAnswers(ports[kind]), 60_000, signal),
    })),
    {
      name: 'swift-proxy',
      command: path.join(SWIFT_BIN, 'swift-proxy-server'),
      args: [path.join(etc, 'proxy-server.conf'), '--verbose'],
      ready: ({ signal }) => waitFor('swift proxy', () => proxyAnswers(bindAddress, proxy!), 60_000, signal),
    },
  ];
  const parts = new Map<string, SupervisedPart>();
  const swift: LocalSwift = {
    dir: o.dir,
    proxyPort: proxy!,
    settings: {
      SWIFT_AUTH_URL: `http://${bindAddress}:${proxy}/auth/v1.0`,
      SWIFT_USER: `${credentials.account}:${credentials.userName}`,
      SWIFT_KEY: credentials.key,
    },
    parts,
    async stop() {
      for (const part of parts.values()) part.markStopping();
      await Promise.all([...parts.values()].map((p) => p.stop()));
    },
  };
  try {
    // Python starts slowly (~1 s each): all at once.
    await Promise.all(
      specs.map((spec) => {
        const part = new SupervisedPart({ stopTimeoutMs: 10_000, ...spec }, log);
        parts.set(spec.name, part);
        return part.start();
      }),
    );
  } catch (err) {
    await swift.stop();
    throw err;
  }
  return swift;
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
