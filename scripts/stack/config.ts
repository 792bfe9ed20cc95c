// The stack's own settings (ports, data dir), validated like every other process's.
import * as path from 'node:path';
import { z } from 'zod';
import { loadConfig, REPO_ROOT } from '../../lib/config';
import type { StackOptions } from './stack';

const port = (def: number) => z.coerce.number().int().min(1, 'must be a TCP port').max(65535, 'must be a TCP port').default(def);

export const stackConfigSchema = z.object({
  TROVE_DATA_DIR: z.string().min(1).default(path.join(REPO_ROOT, '.data')),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TROVE_REGISTRY_PORT: port(3307),
  NOVA_PORT: port(8774),
  TROVE_API_PORT: port(8779),
  TROVE_ORCHESTRATOR_METRICS_PORT: port(9464),
  TROVE_ORCHESTRATOR_SDK_METRICS_PORT: port(9465),
  TROVE_API_METRICS_PORT: port(9466),
  TROVE_API_TOKENS: z.string().default('trove-local-token=demo'),
  TROVE_ADMIN_TOKENS: z.string().default('trove-local-admin-token'),
  TROVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export function stackOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StackOptions {
  const c = loadConfig(stackConfigSchema, env);
  return {
    dataDir: path.resolve(c.TROVE_DATA_DIR),
    temporalPort: c.TEMPORAL_PORT,
    temporalUiPort: c.TEMPORAL_UI_PORT,
    registryPort: c.TROVE_REGISTRY_PORT,
    novaPort: c.NOVA_PORT,
    apiPort: c.TROVE_API_PORT,
    metricsPorts: { orchestrator: c.TROVE_ORCHESTRATOR_METRICS_PORT, orchestratorSdk: c.TROVE_ORCHESTRATOR_SDK_METRICS_PORT, api: c.TROVE_API_METRICS_PORT },
    apiTokens: c.TROVE_API_TOKENS,
    adminTokens: c.TROVE_ADMIN_TOKENS,
    logLevel: c.TROVE_LOG_LEVEL,
  };
}
