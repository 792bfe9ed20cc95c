// A driver without processes, for measuring the orchestrator's own overhead:
// servers become ACTIVE at once and only exist in this object's memory, so a
// restarted Nova "boots" them again.
import type { ServerRuntime } from '../state';
import { DriverError, type ComputeDriver, type ServerSpec } from './types';

export class FakeDriver implements ComputeDriver {
  readonly name = 'fake';
  private readonly running = new Map<string, ServerRuntime>();
  private nextInstance = 1;

  async addressAvailable(): Promise<boolean> {
    return true;
  }

  async boot(server: ServerSpec): Promise<ServerRuntime> {
    // pid 0 never names a real process; startTime tells instances apart.
    const runtime = { pid: 0, startTime: this.nextInstance++ };
    this.running.set(server.id, runtime);
    return runtime;
  }

  async stop(server: ServerSpec): Promise<void> {
    this.running.delete(server.id);
  }

  async kill(server: ServerSpec): Promise<void> {
    this.running.delete(server.id);
  }

  async hang(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
  }

  async resume(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
  }

  async killGuest(server: ServerSpec): Promise<void> {
    this.requireRunning(server);
  }

  async setVolumeSize(): Promise<void> {
    // No disk to show it on: Nova's record is the whole volume here.
  }

  isRunning(server: ServerSpec): boolean {
    const runtime = this.running.get(server.id);
    return runtime !== undefined && runtime.startTime === server.runtime?.startTime;
  }

  async destroy(server: ServerSpec): Promise<void> {
    this.running.delete(server.id);
  }

  private requireRunning(server: ServerSpec): void {
    if (!this.isRunning(server)) throw new DriverError(`server ${server.id} is not running`);
  }
}
