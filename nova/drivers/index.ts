import type { NovaConfig } from '../config';
import { FakeDriver } from './fake';
import { ProcessDriver } from './process';
import type { ComputeDriver } from './types';

export function createDriver(config: NovaConfig): ComputeDriver {
  return config.driver === 'fake'
    ? new FakeDriver()
    : new ProcessDriver({ dataDir: config.dataDir, guestCommand: config.guestCommand, initCommand: config.initCommand });
}
