// The guest agent: Trove's guest agent as a Temporal worker on guest-<novaServerId>. Nova
// starts one per server (and restarts it if it dies); everything that must happen on the
// database host is an activity served here.
import { mergeActivityGroups } from '../lib/activity-groups';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createAccessActivities } from '../activities/guest/access';
import { createCertificateActivities } from '../activities/guest/certificates';
import { createMonitorAccountActivities } from '../activities/guest/monitor-account';
import { createGuestActivities, resumeIfPrepared, type GuestDeps } from '../activities/guest/activities';
import { serverLayout } from '../activities/guest/layout';
import { createReplicationActivities } from '../activities/guest/replication';
import { snapshotStoreFrom } from '../activities/snapshots/from-config';
import { stopMariadb } from '../activities/guest/mariadb-process';
import { BootExtraction } from '../activities/guest/snapshot-extract';
import { Maintenance, startWatchdog } from '../activities/guest/watchdog';
import { guestConfigSchema, loadConfig, snapshotDir, type GuestConfig } from '../lib/config';
import { FENCED_AT_METADATA } from '../lib/nova-client';
import { guestTaskQueue } from '../lib/names';
import { payloadDataConverter } from '../lib/payload-codec';
import { parseSecretKey } from '../lib/secrets';
import { serveMetrics, type MetricsServer } from '../lib/metrics-server';
import { createLogger } from './logger';
import { ActivityMetrics, installMetricsRuntime } from './metrics';

/** Nova's metadata for this server (its config drive), or none. */
function serverMetadata(serverDir: string): Record<string, string> {
  try {
    return (JSON.parse(readFileSync(path.join(serverDir, 'meta_data.json'), 'utf8')) as { meta?: Record<string, string> }).meta ?? {};
  } catch {
    return {};
  }
}

export async function runGuestAgent(config: GuestConfig): Promise<void> {
  const log = createLogger('guest-agent', config.TROVE_LOG_LEVEL);
  const store = snapshotStoreFrom(config);
  const deps: GuestDeps = {
    layout: serverLayout(config.TROVE_SERVER_DIR),
    address: config.TROVE_SERVER_ADDRESS,
    flavorRamMb: config.TROVE_FLAVOR_RAM_MB,
    secretKey: parseSecretKey(config.TROVE_SECRET_KEY),
    binaries: { mariadbd: config.TROVE_MARIADBD, installDb: config.TROVE_MARIADB_INSTALL_DB, backup: config.TROVE_MARIADB_BACKUP, mbstream: config.TROVE_MBSTREAM, python: config.TROVE_PYTHON },
    snapshotDir: snapshotDir(config),
    maintenance: new Maintenance(),
  };
  // A replica's server names the snapshot it is built from: extract it now, while the
  // Temporal worker (a third of a second to load) is still starting.
  const meta = serverMetadata(config.TROVE_SERVER_DIR);
  const restoreFrom = meta.trove_restore_snapshot;
  if (restoreFrom) {
    const extraction = new BootExtraction(restoreFrom);
    if (extraction.start(deps.layout, deps.binaries, store)) {
      deps.bootExtraction = extraction;
      log.info({ snapshotId: restoreFrom }, 'extracting the snapshot named by the server metadata');
    }
  }
  const { NativeConnection, Runtime, Worker } = await import('@temporalio/worker');
  const { Registry } = await import('prom-client');
  const registry = new Registry();
  const activityMetrics = new ActivityMetrics(registry);
  let metricsServer: MetricsServer | undefined;
  if (config.TROVE_GUEST_METRICS_PORT) {
    const sdkMetricsUrl = config.TROVE_GUEST_SDK_METRICS_PORT ? installMetricsRuntime(Runtime, `${config.TROVE_SERVER_ADDRESS}:${config.TROVE_GUEST_SDK_METRICS_PORT}`, log) : undefined;
    // A port taken on this address must not keep the database's agent from running.
    metricsServer = await serveMetrics({ host: config.TROVE_SERVER_ADDRESS, port: config.TROVE_GUEST_METRICS_PORT, registry, sdkMetricsUrl }).catch((err: Error) => {
      log.warn({ err: err.message }, 'metrics not served');
      return undefined;
    });
  }
  // A fenced server's database comes up read-only (lib/nova-client.ts FENCED_AT_METADATA).
  const fencedAt = meta[FENCED_AT_METADATA];
  const resumed = await resumeIfPrepared(deps, fencedAt ? { fencedAt } : {});
  if (resumed) log.info({ pid: resumed }, 'mariadbd running');

  const stopWatchdog = startWatchdog(deps.layout, deps.binaries, deps.maintenance, (msg, extra) => log.warn(extra ?? {}, msg));
  const taskQueue = guestTaskQueue(config.TROVE_SERVER_ID);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      dataConverter: payloadDataConverter(config),
      interceptors: { activity: [activityMetrics.interceptor()] },
      activities: mergeActivityGroups({ guest: createGuestActivities(deps), replication: createReplicationActivities(deps, store), access: createAccessActivities(deps), certificates: createCertificateActivities(deps), monitorAccount: createMonitorAccountActivities(deps) }),
    });
    log.info({ taskQueue, address: deps.address }, 'guest agent polling');
    await worker.run();
  } finally {
    stopWatchdog();
    await connection.close();
    await metricsServer?.close();
  }
  // The worker returns after SIGTERM: this server is being stopped, so its database goes too.
  if (await stopMariadb(deps.layout)) log.info('mariadbd stopped');
}

if (require.main === module) {
  runGuestAgent(loadConfig(guestConfigSchema)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
