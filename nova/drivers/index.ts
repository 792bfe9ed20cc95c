import type { NovaConfig } from '../config';
import { DockerDriver, IMAGE_GUEST_COMMAND, IMAGE_INIT_COMMAND } from './docker';
import { FakeDriver } from './fake';
import { ProcessDriver } from './process';
import type { ComputeDriver } from './types';

export function createDriver(config: NovaConfig): ComputeDriver {
  if (config.driver === 'fake') return new FakeDriver();
  if (config.driver === 'docker') {
    // The image's own bundles: the host's paths (NOVA_*_COMMAND) mean nothing inside a container.
    return new DockerDriver({ dataDir: config.dataDir, network: config.dockerNetwork!, image: config.dockerImage, initCommand: IMAGE_INIT_COMMAND, guestCommand: IMAGE_GUEST_COMMAND, env: process.env });
  }
  return new ProcessDriver({ dataDir: config.dataDir, guestCommand: config.guestCommand, initCommand: config.initCommand });
}
