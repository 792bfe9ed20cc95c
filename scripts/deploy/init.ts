// The compose stack's one-shot init job (docker-compose.yml, service `init`), run after the
// Temporal server answers and before the API and the workers start:
//   1. the namespace (the dev server makes its own; a cluster's is registered once),
//   2. the Trove* search attributes (ensureSearchAttributes, as the local stack does),
//   3. the registry migrations (the workers apply them too; the API must not answer first).
// Every step is idempotent: a second `docker compose up` finds nothing to do.
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { apiConfigSchema, loadConfig } from '../../lib/config';
import { migrate } from '../../registry/migrate';
import { createRegistryPool, registryConnectionOf } from '../../registry';
import { ensureSearchAttributes } from '../stack/stack';

const RETENTION_DAYS = Number(process.env.TEMPORAL_RETENTION_DAYS ?? '3');

function log(line: string): void {
  process.stdout.write(`[init] ${line}\n`);
}

/** Retries fn until it resolves or the deadline passes (the frontend answers before its namespace cache knows a new namespace). */
async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function ensureNamespace(address: string, namespace: string): Promise<void> {
  const c = await retry('connect to Temporal', () => Connection.connect({ address, connectTimeout: 2000 }));
  try {
    await retry('register namespace', async () => {
      try {
        await c.workflowService.describeNamespace({ namespace });
        return;
      } catch {
        // not there yet
      }
      await c.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION_DAYS * 86_400_000) }).catch((err: { code?: number }) => {
        if (err.code !== 6 /* ALREADY_EXISTS */) throw err;
      });
      await c.workflowService.describeNamespace({ namespace });
    });
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfig(apiConfigSchema, process.env);
  await ensureNamespace(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
  log(`namespace ${config.TEMPORAL_NAMESPACE} ready`);
  const added = await retry('search attributes', () => ensureSearchAttributes(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE));
  log(added.length ? `search attributes added: ${added.join(', ')}` : 'search attributes present');
  const pool = createRegistryPool(registryConnectionOf(config));
  try {
    const applied = await retry('registry migrations', () => migrate(pool));
    log(applied.length ? `registry migrations applied: ${applied.join(', ')}` : 'registry schema up to date');
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[init] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
