// What Nova's compute manager needs from a hypervisor. Drivers are stateless
// about servers: everything needed to find a server's processes again lives
// in the ServerRuntime recorded in Nova's state, which is what lets a
// restarted Nova adopt servers that kept running.
import type { ServerRuntime } from '../state';

export interface ServerSpec {
  id: string;
  name: string;
  address: string;
  flavorRamMb: number;
  /** The data volume's size as Nova records it (null: none declared), shown to the guest. */
  volumeGb: number | null;
  /** The server's metadata (key/value), offered to the guest like a config drive. */
  metadata: Record<string, string>;
  /** The running instance, when there is one. */
  runtime: ServerRuntime | null;
}

export interface ComputeDriver {
  readonly name: string;
  /** Whether a loopback address may be given to a new server. */
  addressAvailable(address: string): Promise<boolean>;
  boot(server: ServerSpec): Promise<ServerRuntime>;
  /** Graceful power-off; escalates to kill when the server does not stop in time. */
  stop(server: ServerSpec): Promise<void>;
  /** Immediate power-off of every process of the server. */
  kill(server: ServerSpec): Promise<void>;
  hang(server: ServerSpec): Promise<void>;
  resume(server: ServerSpec): Promise<void>;
  /** Kills only the guest agent, leaving the rest of the server running. */
  killGuest(server: ServerSpec): Promise<void>;
  isRunning(server: ServerSpec): boolean;
  /** Shows the guest its data volume's new size, online (as an extended block device would). */
  setVolumeSize(server: ServerSpec): Promise<void>;
  /** kill + remove the server's disk. */
  destroy(server: ServerSpec): Promise<void>;
  /** Addresses a new server may get, in order (default: loopback 127.0.x.y). */
  addressCandidates?(): Iterable<string>;
  /** A network cut: the server keeps running, unreachable (only drivers with a real network). */
  disconnect?(server: ServerSpec): Promise<void>;
  reconnect?(server: ServerSpec): Promise<void>;
}

export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverError';
  }
}
