// Servers as docker containers: each is the image trove/db-server (guest agent + mariadbd)
// on a user-defined network, at the address Nova gave it, with its own named volume as its
// disk. A crash is `docker kill`, a frozen VM `docker pause`, a network cut `docker network
// disconnect`: the faults are real to the kernel, not simulated by signals to a group.
//
// Nova's state keeps what the process driver keeps: the pid (host's view) of the container's
// first process and its start time, so isRunning stays a synchronous /proc read, a restarted
// Nova adopts running containers, and pid reuse cannot fool it. Names derive from the server
// id (container and volume trove-srv-<id>), so nothing else needs recording.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serverDir } from '../paths';
import { isAlive, readProcStat, sleep } from '../procfs';
import type { ServerRuntime } from '../state';
import { VOLUME_FILE } from './process';
import { DriverError, type ComputeDriver, type ServerSpec } from './types';

const run = promisify(execFile);

export interface DockerDriverOptions {
  /** Nova's data dir: servers/<id> there links to the server's volume, as the process driver's folder. */
  dataDir: string;
  /** The user-defined network the servers join (it must exist: the stack creates it). */
  network: string;
  image: string;
  /** The server's init and guest argv inside the image. */
  initCommand: string[];
  guestCommand: string[];
  /** What the guest is told (Temporal, secret key, snapshot store): see guestEnvironment(). */
  env: NodeJS.ProcessEnv;
  stopTimeoutMs?: number;
  bootTimeoutMs?: number;
}

/** Where trove/db-server keeps the guest agent (scripts/images/images.ts): its bundles in .build/, its packages in node_modules/. */
export const IMAGE_APP_DIR = '/opt/trove';
export const IMAGE_NODE = '/usr/local/bin/node';
export const IMAGE_INIT_COMMAND = [IMAGE_NODE, `${IMAGE_APP_DIR}/.build/server-init.js`];
export const IMAGE_GUEST_COMMAND = [IMAGE_NODE, `${IMAGE_APP_DIR}/.build/guest-agent.js`];
/** The server's disk inside its container. */
export const CONTAINER_SERVER_DIR = '/var/lib/trove';
/** Label on every container and volume of this driver, valued with the network's name. */
export const DOCKER_LABEL = 'trove.nova.network';
const KILL_WAIT_MS = 10_000;

export function containerName(serverId: string): string {
  return `trove-srv-${serverId}`;
}

/**
 * The part of Nova's environment a guest needs. Allow-listed: Nova's own settings, the
 * registry's password and the API tokens have no business inside a database server.
 */
export function guestEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const wanted = (k: string) =>
    k.startsWith('TEMPORAL_') || k.startsWith('SWIFT_') || ['TROVE_SECRET_KEY', 'TROVE_LOG_LEVEL', 'TROVE_SNAPSHOT_STORE', 'TROVE_PAYLOAD_KEYS', 'TROVE_PAYLOAD_KEY_ID', 'TROVE_GUEST_METRICS_PORT', 'TROVE_GUEST_SDK_METRICS_PORT', 'NODE_EXTRA_CA_CERTS'].includes(k);
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => wanted(e[0]) && e[1] !== undefined));
}

/** Every host address of an IPv4 CIDR but the network's, the broadcast and the gateway's. */
export function* subnetHosts(cidr: string, gateway: string): Generator<string> {
  const [base, bits] = cidr.split('/');
  const toInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const toIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
  const size = 2 ** (32 - Number(bits));
  const first = toInt(base!) - (toInt(base!) % size);
  for (let n = first + 1; n < first + size - 1; n++) {
    const ip = toIp(n);
    if (ip !== gateway) yield ip;
  }
}

export interface DockerNetwork {
  subnet: string;
  gateway: string;
}

/** The network's IPv4 subnet and gateway; throws when it does not exist. */
export function inspectNetwork(network: string): DockerNetwork {
  let out: string;
  try {
    out = execFileSync('docker', ['network', 'inspect', network, '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}};{{end}}'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    throw new DriverError(`docker network ${network} cannot be inspected: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
  }
  const v4 = out.split(';').map((s) => s.trim().split(' ')).find(([subnet, gateway]) => subnet?.includes('.') && gateway);
  if (!v4) throw new DriverError(`docker network ${network} has no IPv4 subnet with a gateway`);
  return { subnet: v4[0]!, gateway: v4[1]! };
}

async function docker(args: string[], o: { ignore?: RegExp } = {}): Promise<string> {
  try {
    return (await run('docker', args, { maxBuffer: 16 << 20 })).stdout.trim();
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    if (o.ignore?.test(stderr)) return '';
    throw new DriverError(`docker ${args[0]} failed: ${stderr || (err as Error).message}`);
  }
}

function readLink(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

const NO_SUCH = /No such (container|volume)|is not running|is not paused|not connected|is already connected/i;

export class DockerDriver implements ComputeDriver {
  readonly name = 'docker';
  private readonly stopTimeoutMs: number;
  private readonly bootTimeoutMs: number;
  private readonly net: DockerNetwork;
  private readonly mountpoints = new Map<string, string>();

  constructor(private readonly options: DockerDriverOptions) {
    this.stopTimeoutMs = options.stopTimeoutMs ?? 45_000;
    this.bootTimeoutMs = options.bootTimeoutMs ?? 60_000;
    this.net = inspectNetwork(options.network);
  }

  addressCandidates(): Iterable<string> {
    return subnetHosts(this.net.subnet, this.net.gateway);
  }

  /** Free when no container on the network (ours or a stray one) holds it. */
  async addressAvailable(address: string): Promise<boolean> {
    const held = await docker(['network', 'inspect', this.options.network, '--format', '{{range .Containers}}{{.IPv4Address}} {{end}}']);
    return !held.split(' ').some((cidr) => cidr.split('/')[0] === address);
  }

  /** The volume's folder on this host (dockerd runs here, as Nova does: root). */
  private async volumeDir(server: ServerSpec): Promise<string> {
    const known = this.mountpoints.get(server.id);
    if (known) return known;
    const name = containerName(server.id);
    await docker(['volume', 'create', '--label', `${DOCKER_LABEL}=${this.options.network}`, name]);
    const dir = await docker(['volume', 'inspect', name, '--format', '{{.Mountpoint}}']);
    this.mountpoints.set(server.id, dir);
    // The host sees the volume where the process driver keeps a server's folder (console.log,
    // the admin socket), so tools and tests find a server the same way with either driver.
    const link = serverDir(this.options.dataDir, server.id);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (readLink(link) !== dir) {
      fs.rmSync(link, { recursive: true, force: true });
      fs.symlinkSync(dir, link);
    }
    return dir;
  }

  async boot(server: ServerSpec): Promise<ServerRuntime> {
    const name = containerName(server.id);
    // The container of the previous boot (stopped, crashed) goes; the volume stays.
    await docker(['rm', '-f', name], { ignore: NO_SUCH });
    const dir = await this.volumeDir(server);
    const guestPidFile = path.join(dir, 'guest.pid');
    fs.rmSync(guestPidFile, { force: true });
    fs.writeFileSync(path.join(dir, 'meta_data.json'), JSON.stringify({ uuid: server.id, name: server.name, meta: server.metadata }));
    await this.setVolumeSize(server);
    const env = {
      ...guestEnvironment(this.options.env),
      NOVA_INIT_GUEST_COMMAND: JSON.stringify(this.options.guestCommand),
      TROVE_SERVER_ID: server.id,
      TROVE_SERVER_ADDRESS: server.address,
      TROVE_SERVER_DIR: CONTAINER_SERVER_DIR,
      TROVE_SERVER_NAME: server.name,
      TROVE_FLAVOR_RAM_MB: String(server.flavorRamMb),
    };
    // An env file keeps the secret key off docker's command line (ps shows it to anyone).
    const envFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'trove-env-')), 'env');
    fs.writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    const consoleLog = `${CONTAINER_SERVER_DIR}/console.log`;
    try {
      await docker([
        'run', '-d', '--name', name,
        '--label', `${DOCKER_LABEL}=${this.options.network}`,
        '--network', this.options.network, '--ip', server.address,
        '--hostname', `srv-${server.id.slice(0, 8)}`,
        '-v', `${name}:${CONTAINER_SERVER_DIR}`,
        '--env-file', envFile,
        // docker-init (tini) as pid 1 reaps orphans and makes the server's init a group leader
        // of its own, as the process driver's detached spawn does.
        '--init',
        '--stop-timeout', String(Math.ceil(this.stopTimeoutMs / 1000)),
        this.options.image,
        // console.log in the volume, appended across boots, as the process driver keeps it.
        'sh', '-c', 'exec "$@" >>"$0" 2>&1', consoleLog, ...this.options.initCommand,
      ]);
    } finally {
      fs.rmSync(path.dirname(envFile), { recursive: true, force: true });
    }
    const pid = Number(await docker(['inspect', name, '--format', '{{.State.Pid}}']));
    const stat = readProcStat(pid);
    if (!pid || !isAlive(stat)) throw new DriverError(`server ${server.id}: container ${name} exited at once, see console.log in its volume`);
    const runtime = { pid, startTime: stat.startTime };
    await this.waitForGuest(server, runtime, guestPidFile);
    return runtime;
  }

  private async waitForGuest(server: ServerSpec, runtime: ServerRuntime, guestPidFile: string): Promise<void> {
    const deadline = Date.now() + this.bootTimeoutMs;
    while (!fs.existsSync(guestPidFile)) {
      if (!this.isRunning({ ...server, runtime })) throw new DriverError(`server ${server.id}: container exited during boot, see console.log in its volume`);
      if (Date.now() >= deadline) {
        await this.kill({ ...server, runtime });
        throw new DriverError(`server ${server.id}: guest not started within ${this.bootTimeoutMs} ms`);
      }
      await sleep(50);
    }
  }

  async stop(server: ServerSpec): Promise<void> {
    if (server.runtime === null) return;
    if (!this.isRunning(server)) return this.kill(server);
    // A paused container cannot act on SIGTERM.
    await docker(['unpause', containerName(server.id)], { ignore: NO_SUCH });
    await docker(['stop', '-t', String(Math.ceil(this.stopTimeoutMs / 1000)), containerName(server.id)], { ignore: NO_SUCH });
    await this.waitGone(server);
  }

  async kill(server: ServerSpec): Promise<void> {
    await docker(['kill', containerName(server.id)], { ignore: NO_SUCH });
    // A paused container's processes take the SIGKILL when thawed.
    await docker(['unpause', containerName(server.id)], { ignore: NO_SUCH });
    await this.waitGone(server);
  }

  private async waitGone(server: ServerSpec): Promise<void> {
    if (server.runtime === null) return;
    const deadline = Date.now() + KILL_WAIT_MS;
    while (this.isRunning(server)) {
      if (Date.now() >= deadline) throw new DriverError(`server ${server.id}: container ${containerName(server.id)} survived docker kill`);
      await sleep(50);
    }
  }

  async hang(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    await docker(['pause', containerName(server.id)]);
  }

  async resume(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    await docker(['unpause', containerName(server.id)], { ignore: NO_SUCH });
  }

  async killGuest(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    const pidFile = `${CONTAINER_SERVER_DIR}/guest.pid`;
    // kill -0 first: a stale pid file must not make this kill something else.
    await docker(['exec', containerName(server.id), 'sh', '-c', `pid=$(cat ${pidFile}) && kill -0 "$pid" && kill -9 "$pid"`]).catch(() => {
      throw new DriverError(`server ${server.id}: guest agent is not running`);
    });
  }

  /** Takes the server off its network (a cut cable): it keeps running, unreachable. */
  async disconnect(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    await docker(['network', 'disconnect', '-f', this.options.network, containerName(server.id)], { ignore: NO_SUCH });
  }

  /** Plugs the cable back in, at the same address. */
  async reconnect(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    await docker(['network', 'connect', '--ip', server.address, this.options.network, containerName(server.id)], { ignore: NO_SUCH });
  }

  async setVolumeSize(server: ServerSpec): Promise<void> {
    if (server.volumeGb === null) return;
    fs.writeFileSync(path.join(await this.volumeDir(server), VOLUME_FILE), JSON.stringify({ size_gb: server.volumeGb }));
  }

  isRunning(server: ServerSpec): server is ServerSpec & { runtime: ServerRuntime } {
    if (server.runtime === null) return false;
    const stat = readProcStat(server.runtime.pid);
    return isAlive(stat) && stat.startTime === server.runtime.startTime;
  }

  async destroy(server: ServerSpec): Promise<void> {
    const name = containerName(server.id);
    await docker(['rm', '-f', '-v', name], { ignore: NO_SUCH });
    await this.waitGone(server);
    await docker(['volume', 'rm', '-f', name], { ignore: NO_SUCH });
    fs.rmSync(serverDir(this.options.dataDir, server.id), { force: true });
    this.mountpoints.delete(server.id);
  }

  private requireRunning(server: ServerSpec): asserts server is ServerSpec & { runtime: ServerRuntime } {
    if (!this.isRunning(server)) throw new DriverError(`server ${server.id} is not running`);
  }
}
