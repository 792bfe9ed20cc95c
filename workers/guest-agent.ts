// The guest agent: Trove's guest agent as a Temporal worker on guest-<novaServerId>. Nova
// starts one per server (and restarts it if it dies); everything that must happen on the
// database host is an activity served here.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createGuestActivities, resumeIfPrepared, type GuestDeps } from '../activities/guest/activities';
import { serverLayout } from '../activities/guest/layout';
import { createReplicationActivities } from '../activities/guest/replication';
import { FolderSnapshotStore } from '../activities/snapshots/store';
import { stopMariadb } from '../activities/guest/mariadb-process';
import { Maintenance, startWatchdog } from '../activities/guest/watchdog';
import { guestConfigSchema, loadConfig, snapshotDir, type GuestConfig } from '../lib/config';
import { guestTaskQueue } from '../lib/names';
import { parseSecretKey } from '../lib/secrets';
import { createLogger } from './logger';

export async function runGuestAgent(config: GuestConfig): Promise<void> {
  const log = createLogger('guest-agent', config.TROVE_LOG_LEVEL);
  const deps: GuestDeps = {
    layout: serverLayout(config.TROVE_SERVER_DIR),
    address: config.TROVE_SERVER_ADDRESS,
    flavorRamMb: config.TROVE_FLAVOR_RAM_MB,
    secretKey: parseSecretKey(config.TROVE_SECRET_KEY),
    binaries: { mariadbd: config.TROVE_MARIADBD, installDb: config.TROVE_MARIADB_INSTALL_DB, backup: config.TROVE_MARIADB_BACKUP, mbstream: config.TROVE_MBSTREAM },
    snapshotDir: snapshotDir(config),
    maintenance: new Maintenance(),
  };
  const resumed = await resumeIfPrepared(deps);
  if (resumed) log.info({ pid: resumed }, 'mariadbd running');

  const stopWatchdog = startWatchdog(deps.layout, deps.binaries, deps.maintenance, (msg, extra) => log.warn(extra ?? {}, msg));
  const taskQueue = guestTaskQueue(config.TROVE_SERVER_ID);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      activities: { ...createGuestActivities(deps), ...createReplicationActivities(deps, new FolderSnapshotStore(deps.snapshotDir)) },
    });
    log.info({ taskQueue, address: deps.address }, 'guest agent polling');
    await worker.run();
  } finally {
    stopWatchdog();
    await connection.close();
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
