// The orchestrator worker: every workflow plus the control activities (Nova, registry,
// snapshots, and starting a set's monitor through a Temporal client on the worker's connection).
// It applies the registry migrations at start, so a fresh registry is ready to use in a
// deployment without our stack script. (The local stack migrates first as well, because
// the API starts beside this worker and must not answer before the schema exists; the
// second run finds nothing to do.)
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createComputeActivities } from '../activities/compute/activities';
import { createMonitorActivities } from '../activities/control/monitor';
import { createWatchActivities, type WatchDeps } from '../activities/control/watch';
import { createInterimWatches } from '../activities/control/watch-interim';
import { WATCH_LEASE_SECONDS, WATCH_POLL_SECONDS } from '../lib/schemas';
import { registryWatchDeps } from '../activities/control/watch-deps';
import { NovaClient } from '../lib/nova-client';
import { createRegistryActivities } from '../activities/registry/activities';
import { createSnapshotActivities } from '../activities/snapshots/activities';
import { createTlsActivities } from '../activities/tls/activities';
import { snapshotStoreFrom } from '../activities/snapshots/from-config';
import { FolderSnapshotStore } from '../activities/snapshots/store';
import { loadConfig, orchestratorConfigSchema, type OrchestratorConfig } from '../lib/config';
import { payloadDataConverter } from '../lib/payload-codec';
import { parseSecretKey } from '../lib/secrets';
import { ORCHESTRATOR_TASK_QUEUE } from '../lib/names';
import { migrate } from '../registry/migrate';
import { Registry, createRegistryPool, registryConnectionOf } from '../registry';
import { mergeActivityGroups } from '../lib/activity-groups';
import { serveMetrics, type MetricsServer } from '../lib/metrics-server';
import { createLogger } from './logger';
import { cachedWorkflowBundle } from './workflow-bundle';
import { installMetricsRuntime, OrchestratorMetrics } from './metrics';
import { newWorkerId, startWatchHandover, temporalHandoverDeps, temporalIdentityOf } from './watch-handover';
import { startPresence } from './presence';

export async function runOrchestrator(config: OrchestratorConfig, taskQueue = ORCHESTRATOR_TASK_QUEUE): Promise<void> {
  const log = createLogger('orchestrator', config.TROVE_LOG_LEVEL);
  const sdkMetricsUrl = config.TROVE_ORCHESTRATOR_METRICS_PORT && config.TROVE_ORCHESTRATOR_SDK_METRICS_PORT ? installMetricsRuntime(Runtime, `127.0.0.1:${config.TROVE_ORCHESTRATOR_SDK_METRICS_PORT}`, log) : undefined;
  const metrics = new OrchestratorMetrics();
  let metricsServer: MetricsServer | undefined;
  if (config.TROVE_ORCHESTRATOR_METRICS_PORT) {
    metricsServer = await serveMetrics({ host: config.TROVE_METRICS_HOST, port: config.TROVE_ORCHESTRATOR_METRICS_PORT, registry: metrics.registry, sdkMetricsUrl });
    log.info({ metrics: `http://${config.TROVE_METRICS_HOST}:${metricsServer.port}/metrics` }, 'metrics served');
  }
  const pool = createRegistryPool(registryConnectionOf(config));
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'registry migrations applied');
  const registry = new Registry(pool);
  // The watch's reads a failover waits on: not queued behind a thousand sets' batches (activities/control/watch-deps.ts).
  const urgentRegistry = new Registry(createRegistryPool(registryConnectionOf(config), { connectionLimit: 4 }));
  const nova = new NovaClient(config.NOVA_URL, config.NOVA_TOKEN);
  const snapshots = snapshotStoreFrom(config);
  // Folder snapshots deleted just before a crash are gone but maybe not yet freed (Swift frees at once).
  if (snapshots instanceof FolderSnapshotStore) snapshots.reclaim().catch((err: Error) => log.warn({ err: err.message }, 'freeing deleted snapshots failed'));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const dataConverter = payloadDataConverter(config);
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const workerId = newWorkerId();
  const presence = startPresence(workerId, registryConnectionOf(config), { log });
  const watchDeps = { ...registryWatchDeps(registry, { workerId, secretKey: parseSecretKey(config.TROVE_SECRET_KEY), probeAddress: config.TROVE_PROBE_ADDRESS, renewBeforeDays: config.TROVE_TLS_RENEW_BEFORE_DAYS }, urgentRegistry), polled: (poll: Parameters<NonNullable<WatchDeps['polled']>>[0]) => metrics.watchPolled(poll) };
  const interim = createInterimWatches(watchDeps, { workerId, claimedBy: (ids) => registry.watchClaims.claimedBy(ids), pollSeconds: WATCH_POLL_SECONDS, leaseSeconds: WATCH_LEASE_SECONDS, log });
  const handover = startWatchHandover(workerId, { claims: registry.watchClaims, presence, ...temporalHandoverDeps(client), log, watchMeanwhile: (ids) => interim.start(ids) });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      dataConverter,
      // The SDK's default form, said explicitly: the hand-over finds a frozen worker's attempts by it.
      identity: temporalIdentityOf(workerId),
      // Bundled once per version of the sources, not at every start: a restarted worker polls in seconds.
      workflowBundle: await cachedWorkflowBundle({
        workflowsPath: require.resolve('../workflows'),
        workflowInterceptorModules: [require.resolve('../workflows/metrics-interceptor')],
        cacheDir: path.join(config.TROVE_DATA_DIR, 'workflow-bundles'),
        log: (msg) => log.info(msg),
      }),
      interceptors: { activity: [metrics.activities.interceptor()] },
      sinks: metrics.sinks(),
      // A workflow task left on a dead worker's sticky queue goes to the shared queue after
      // this (10 s by default), so another worker, or this one restarted, takes it at once.
      stickyQueueScheduleToStartTimeout: '2s',
      // The watch's heartbeats reach the server 120 s apart (80 % of its 150 s timeout; the
      // SDK's default cap is 60 s): 30 requests per watched set-hour. Other activities'
      // timeouts are short enough that 80 % of them is under either cap.
      maxHeartbeatThrottleInterval: '120s',
      maxConcurrentActivityTaskExecutions: config.TROVE_ORCHESTRATOR_MAX_ACTIVITIES,
      // A survivor of a worker's death is handed its watches all at once (workers/watch-handover.ts):
      // with the SDK's 10 polls it took them ~120 a second at 1,000 sets, with 100 ~200.
      maxConcurrentActivityTaskPolls: Math.min(100, config.TROVE_ORCHESTRATOR_MAX_ACTIVITIES),
      maxCachedWorkflows: config.TROVE_ORCHESTRATOR_WORKFLOW_CACHE,
      activities: mergeActivityGroups({
        compute: createComputeActivities(nova, { probeAddress: config.TROVE_PROBE_ADDRESS }),
        registry: createRegistryActivities(registry, { secretKey: parseSecretKey(config.TROVE_SECRET_KEY), maxReplicas: config.TROVE_MAX_REPLICAS, maxDepth: config.TROVE_MAX_DEPTH, placement: nova }),
        snapshots: createSnapshotActivities(snapshots),
        control: createMonitorActivities({ client }),
        watch: createWatchActivities(watchDeps, interim),
        tls: createTlsActivities(registry, { secretKey: parseSecretKey(config.TROVE_SECRET_KEY), serverCertificateDays: config.TROVE_TLS_SERVER_CERT_DAYS }),
      }),
    });
    log.info({ taskQueue, temporal: config.TEMPORAL_ADDRESS, workerId }, 'orchestrator worker polling');
    await worker.run();
  } finally {
    await handover.stop();
    await interim.stop();
    await presence.leave();
    await connection.close();
    await registry.close();
    await urgentRegistry.close();
    await metricsServer?.close();
  }
}

if (require.main === module) {
  runOrchestrator(loadConfig(orchestratorConfigSchema)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
