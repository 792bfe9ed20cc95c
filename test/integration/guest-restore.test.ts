// A replica's restore on real mariadbd and mariadb-backup, outside Temporal: it keeps
// heartbeating through steps that report nothing of their own (a slow prepare here), so
// its heartbeat timeout never sends a retry to the same server while it runs; and a retry
// that does arrive waits for the attempt still running instead of writing beside it.
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGuestActivities } from '../../activities/guest/activities';
import { serverLayout } from '../../activities/guest/layout';
import { createReplicationActivities } from '../../activities/guest/replication';
import { Maintenance } from '../../activities/guest/watchdog';
import { FolderSnapshotStore } from '../../activities/snapshots/store';
import { newSecretKey, parseSecretKey } from '../../lib/secrets';
import { installQuietRuntime } from '../helpers/runtime';

const dir = mkdtempSync(path.join(os.tmpdir(), 'trove-restore-'));
const key = parseSecretKey(newSecretKey());
const BINS = { mariadbd: '/usr/sbin/mariadbd', installDb: '/usr/bin/mariadb-install-db', backup: '/usr/bin/mariadb-backup', mbstream: '/usr/bin/mbstream', python: '/usr/bin/python3' };
// mariadb-backup whose --prepare takes 2 s longer: a step that reports no progress.
const slowPrepare = path.join(dir, 'slow-prepare-backup');
writeFileSync(slowPrepare, `#!/bin/sh\ncase "$1" in --prepare) sleep 2;; esac\nexec ${BINS.backup} "$@"\n`);
chmodSync(slowPrepare, 0o755);

function guest(name: string, address: string, backup = BINS.backup) {
  const deps = {
    layout: serverLayout(path.join(dir, name)),
    address,
    flavorRamMb: 256,
    secretKey: key,
    binaries: { ...BINS, backup },
    snapshotDir: path.join(dir, 'snapshots'),
    maintenance: new Maintenance(),
  };
  return { ...createGuestActivities(deps), ...createReplicationActivities(deps, new FolderSnapshotStore(deps.snapshotDir)) };
}
const source = guest('source', '127.0.250.11');
const replica = guest('replica', '127.0.250.12', slowPrepare);
const snapshotId = randomUUID();

beforeAll(async () => {
  installQuietRuntime();
  const env = new MockActivityEnvironment();
  await env.run(source.prepare, { mysqlServerId: 11, readOnly: false, databases: ['app'], users: [] });
  await env.run(source.createSnapshot, { snapshotId });
}, 120_000);

afterAll(async () => {
  for (const acts of [source, replica]) await new MockActivityEnvironment().run(acts.stop).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('a restore keeps heartbeating through a slow prepare, and a retry beside it waits for it', async () => {
  // Heartbeat timeout 1.5 s: without its own beats, the 2 s prepare would be silent for longer.
  const envs = [new MockActivityEnvironment({ heartbeatTimeoutMs: 1500 }), new MockActivityEnvironment({ heartbeatTimeoutMs: 1500 })];
  const phases: string[] = [];
  envs[0]!.on('heartbeat', (d: { phase?: string } | undefined) => phases.push(d?.phase ?? ''));
  const input = { snapshotId, mysqlServerId: 12, readOnly: true };
  const [first, retry] = await Promise.all(envs.map((env) => env.run(replica.restoreSnapshot, input)));
  // The prepare announced itself once; every further 'prepare' beat is the keep-alive's.
  expect(phases.filter((p) => p === 'prepare').length).toBeGreaterThanOrEqual(3);
  // The retry ran after the first attempt ended, found its work done, and only started MariaDB.
  expect(first).toMatchObject({ skipped: false });
  expect(retry).toMatchObject({ skipped: true });
  expect(await new MockActivityEnvironment().run(replica.replicationStatus)).toMatchObject({ readOnly: true, serverId: 12 });
}, 120_000);
