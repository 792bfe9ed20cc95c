// Servers as real process groups. Each server is a detached "init"
// (nova/server-init.ts) leading its own process group; the guest agent and
// anything it spawns (mariadbd) join that group, so signalling the group acts
// on the whole "VM" at once: SIGKILL is a power cut, SIGSTOP a frozen VM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT, serverDir } from '../paths';
import { groupMembers, isAlive, readProcStat, signalGroup, signalPid, sleep, waitGroupGone } from '../procfs';
import type { ServerRuntime } from '../state';
import { DriverError, type ComputeDriver, type ServerSpec } from './types';

export interface ProcessDriverOptions {
  dataDir: string;
  guestCommand: string[];
  /** argv of the server's init (nova/config.ts defaultInitCommand, or a bundle of it). */
  initCommand: string[];
  /** How long a graceful stop may take before the group is killed. */
  stopTimeoutMs?: number;
  /** How long the init may take to start the guest before boot fails. */
  bootTimeoutMs?: number;
}

const KILL_WAIT_MS = 5_000;

/** Where a server's guest finds its data volume's size (nova/README.md, Volumes). */
export const VOLUME_FILE = 'volume.json';

export class ProcessDriver implements ComputeDriver {
  readonly name = 'process';
  private readonly stopTimeoutMs: number;
  private readonly bootTimeoutMs: number;

  constructor(private readonly options: ProcessDriverOptions) {
    this.stopTimeoutMs = options.stopTimeoutMs ?? 45_000;
    this.bootTimeoutMs = options.bootTimeoutMs ?? 30_000;
  }

  /** Free when nothing listens on the MySQL port there (e.g. a stray mariadbd). */
  addressAvailable(address: string): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen({ port: 3306, host: address, exclusive: true }, () => probe.close(() => resolve(true)));
    });
  }

  async boot(server: ServerSpec): Promise<ServerRuntime> {
    const dir = serverDir(this.options.dataDir, server.id);
    fs.mkdirSync(dir, { recursive: true });
    const guestPidFile = path.join(dir, 'guest.pid');
    fs.rmSync(guestPidFile, { force: true });
    // A config drive's meta_data.json (OpenStack's layout, one level flatter): what the
    // guest may read at boot before anything talks to it.
    fs.writeFileSync(path.join(dir, 'meta_data.json'), JSON.stringify({ uuid: server.id, name: server.name, meta: server.metadata }));
    await this.setVolumeSize(server);
    const consoleFd = fs.openSync(path.join(dir, 'console.log'), 'a');
    try {
      const [initBin, ...initArgs] = this.options.initCommand;
      const child = spawn(initBin!, initArgs, {
        detached: true, // own process group: pgid = init pid
        stdio: ['ignore', consoleFd, consoleFd],
        cwd: REPO_ROOT, // so `--import tsx` resolves from the repo's node_modules
        env: {
          ...process.env,
          NOVA_INIT_GUEST_COMMAND: JSON.stringify(this.options.guestCommand),
          TROVE_SERVER_ID: server.id,
          TROVE_SERVER_ADDRESS: server.address,
          TROVE_SERVER_DIR: dir,
          TROVE_SERVER_NAME: server.name,
          TROVE_FLAVOR_RAM_MB: String(server.flavorRamMb),
        },
      });
      child.on('error', () => undefined); // reported through the missing pid below
      child.unref(); // Nova may exit while its servers keep running
      const pid = child.pid;
      const stat = pid === undefined ? undefined : readProcStat(pid);
      if (pid === undefined || !isAlive(stat)) throw new DriverError(`server ${server.id}: init failed to start`);
      const runtime = { pid, startTime: stat.startTime };
      await this.waitForGuest(server, runtime, guestPidFile);
      return runtime;
    } finally {
      fs.closeSync(consoleFd);
    }
  }

  /** Boot succeeds once the init has started the guest, like a VM reaching its init system. */
  private async waitForGuest(server: ServerSpec, runtime: ServerRuntime, guestPidFile: string): Promise<void> {
    const deadline = Date.now() + this.bootTimeoutMs;
    while (!fs.existsSync(guestPidFile)) {
      if (!this.isRunning({ ...server, runtime })) {
        throw new DriverError(`server ${server.id}: init exited during boot, see its console.log`);
      }
      if (Date.now() >= deadline) {
        signalGroup(runtime.pid, 'SIGKILL');
        throw new DriverError(`server ${server.id}: guest not started within ${this.bootTimeoutMs} ms`);
      }
      await sleep(50);
    }
  }

  async stop(server: ServerSpec): Promise<void> {
    const pgid = server.runtime?.pid;
    if (pgid === undefined) return;
    // Without its init nobody would stop the rest: treat leftovers as a crashed VM.
    if (!this.isRunning(server)) return this.kill(server);
    signalPid(pgid, 'SIGTERM');
    // A hung (SIGSTOPped) server would never act on SIGTERM.
    signalGroup(pgid, 'SIGCONT');
    if (await waitGroupGone(pgid, this.stopTimeoutMs)) return;
    await this.kill(server);
  }

  async kill(server: ServerSpec): Promise<void> {
    const pgid = server.runtime?.pid;
    if (pgid === undefined) return;
    signalGroup(pgid, 'SIGKILL');
    if (!(await waitGroupGone(pgid, KILL_WAIT_MS))) {
      throw new DriverError(`server ${server.id}: processes of group ${pgid} survived SIGKILL`);
    }
  }

  async hang(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    signalGroup(server.runtime.pid, 'SIGSTOP');
  }

  async resume(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    signalGroup(server.runtime.pid, 'SIGCONT');
  }

  async killGuest(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
    const file = path.join(serverDir(this.options.dataDir, server.id), 'guest.pid');
    const pid = Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : NaN);
    const stat = Number.isInteger(pid) ? readProcStat(pid) : undefined;
    // Checking the group protects against a stale pid file naming a reused pid.
    if (!isAlive(stat) || stat.pgrp !== server.runtime.pid) {
      throw new DriverError(`server ${server.id}: guest agent is not running`);
    }
    signalPid(pid, 'SIGKILL');
  }

  /**
   * The disk folder has no size limit of its own: the volume's size is what Nova records,
   * written where the guest reads it (volume.json), like the size of a block device.
   */
  async setVolumeSize(server: ServerSpec): Promise<void> {
    if (server.volumeGb === null) return;
    const dir = serverDir(this.options.dataDir, server.id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, VOLUME_FILE), JSON.stringify({ size_gb: server.volumeGb }));
  }

  isRunning(server: ServerSpec): server is ServerSpec & { runtime: ServerRuntime } {
    if (server.runtime === null) return false;
    const stat = readProcStat(server.runtime.pid);
    return isAlive(stat) && stat.startTime === server.runtime.startTime && stat.pgrp === server.runtime.pid;
  }

  async destroy(server: ServerSpec): Promise<void> {
    await this.kill(server);
    fs.rmSync(serverDir(this.options.dataDir, server.id), { recursive: true, force: true });
  }

  /** Live processes of the server, for diagnostics and tests. */
  processes(server: ServerSpec): number[] {
    return server.runtime === null ? [] : groupMembers(server.runtime.pid).map((p) => p.pid);
  }

  private requireRunning(server: ServerSpec): asserts server is ServerSpec & { runtime: ServerRuntime } {
    if (!this.isRunning(server)) throw new DriverError(`server ${server.id} is not running`);
  }
}
