// Keeps recorded state and real processes consistent across time: at start
// (adopt what still runs, boot what should run), while running (notice
// crashed servers) and at Nova shutdown (power servers off but remember they
// should run, so the next start boots them again).
import type { ComputeService } from './compute';

const POLL_INTERVAL_MS = 1_000;

export class Supervisor {
  private poller?: NodeJS.Timeout;

  constructor(private readonly compute: ComputeService) {}

  /** Reconciles the store with reality, then starts watching for crashes. */
  start(): void {
    const { store, driver, logger, ops } = this.compute;
    for (const server of [...store.servers.values()]) {
      const spec = this.compute.spec(server);
      if (server.taskState === 'deleting') {
        // Nova died mid-delete: finish the job.
        this.compute.inBackground(server.id, this.compute.delete(server.id));
      } else if (server.status === 'BUILD') {
        this.compute.scheduleBuild(server.id, 0);
      } else if (['ACTIVE', 'REBOOT', 'HARD_REBOOT'].includes(server.status) || (server.status === 'VERIFY_RESIZE' && server.runtime !== null)) {
        // A resized server waiting for its confirmation keeps waiting, running.
        if (driver.isRunning(spec)) {
          this.compute.setState(server, server.status === 'VERIFY_RESIZE' ? 'VERIFY_RESIZE' : 'ACTIVE', null);
          logger.info({ serverId: server.id, pid: server.runtime?.pid }, 'adopted running server');
        } else {
          this.compute.setState(server, 'ACTIVE', 'powering-on');
          logger.info({ serverId: server.id }, 'booting server that should be running');
          this.compute.inBackground(server.id, ops.exclusive(server.id, () => this.compute.boot(server.id)));
        }
      } else if (server.runtime !== null) {
        // Nova died while powering it off: finish, harshly.
        this.compute.inBackground(server.id, driver.kill(spec).then(() => this.compute.setPoweredOff(server)));
      } else if (server.taskState !== null) {
        this.compute.setState(server, server.status, null);
      }
    }
    this.poller = setInterval(() => this.poll(), POLL_INTERVAL_MS);
    this.poller.unref();
  }

  /** A server meant to run whose init is gone crashed: it powers off, like a dead VM. */
  private poll(): void {
    const { store, driver, logger, ops } = this.compute;
    for (const server of store.servers.values()) {
      if (server.status !== 'ACTIVE' || server.taskState !== null || ops.busy(server.id)) continue;
      const spec = this.compute.spec(server);
      if (driver.isRunning(spec)) continue;
      logger.warn({ serverId: server.id, pid: server.runtime?.pid }, 'server crashed: init process is gone');
      this.compute.setPoweredOff(server);
      // Leftover guest or database processes must not outlive the "VM".
      this.compute.inBackground(server.id, driver.kill(spec));
    }
  }

  /** Stops watching and waits for operations in flight; servers keep running. */
  async close(): Promise<void> {
    clearInterval(this.poller);
    this.poller = undefined;
    await this.compute.ops.drain();
  }

  /** Powers every server off but keeps it recorded ACTIVE, so the next Nova start boots it again. */
  async stopAllServers(): Promise<void> {
    await this.close();
    const { store, driver, logger } = this.compute;
    const running = [...store.servers.values()].filter((s) => driver.isRunning(this.compute.spec(s)));
    logger.info({ count: running.length }, 'stopping all servers');
    await Promise.all(running.map((s) => driver.stop(this.compute.spec(s)).catch((err: unknown) => {
      logger.error({ serverId: s.id, err }, 'failed to stop server');
    })));
    for (const s of running) s.hung = false;
    store.save();
  }
}
