// The guest agent's activities on a real mariadbd, outside Temporal: prepare is idempotent
// (a retry neither fails nor duplicates), status tells the truth, restart and stop work.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createConnection } from 'mysql2/promise';
import { createGuestActivities, type PrepareInput } from '../../activities/guest/activities';
import { serverLayout } from '../../activities/guest/layout';
import { runningPid } from '../../activities/guest/mariadb-process';
import { Maintenance, startWatchdog } from '../../activities/guest/watchdog';
import { eventually } from '../helpers/stack';
import { newSecretKey, parseSecretKey, sealSecret } from '../../lib/secrets';
import { installQuietRuntime } from '../helpers/runtime';

const dir = mkdtempSync(path.join(os.tmpdir(), 'trove-guest-'));
const key = parseSecretKey(newSecretKey());
const layout = serverLayout(dir);
const address = '127.0.250.1';
const maintenance = new Maintenance();
let acts: ReturnType<typeof createGuestActivities>;
let env: MockActivityEnvironment;

beforeAll(() => {
  installQuietRuntime();
  env = new MockActivityEnvironment();
  acts = createGuestActivities({
    layout,
    address,
    flavorRamMb: 256,
    secretKey: key,
    binaries: { mariadbd: '/usr/sbin/mariadbd', installDb: '/usr/bin/mariadb-install-db', backup: '/usr/bin/mariadb-backup', mbstream: '/usr/bin/mbstream', python: '/usr/bin/python3' },
    snapshotDir: path.join(dir, 'snapshots'),
    maintenance,
  });
});

afterAll(async () => {
  await env.run(acts.stop).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('prepare, prepare again, status, restart, stop', async () => {
  const input: PrepareInput = { mysqlServerId: 4242, readOnly: false, databases: ['app'], users: [{ name: 'u1', host: '%', sealedPassword: sealSecret(key, 'pw-one'), databases: ['app'] }] };
  const first = await env.run(acts.prepare, input);
  expect(first).toMatchObject({ address, port: 3306, initialized: true, restarted: false });
  const second = await env.run(acts.prepare, input);
  expect(second).toMatchObject({ initialized: false, restarted: false });

  const status = await env.run(acts.status);
  expect(status).toMatchObject({ running: true, prepared: true, readOnly: false, serverId: 4242 });
  const c = await createConnection({ host: address, port: 3306, user: 'u1', password: 'pw-one', database: 'app' });
  const [users] = await c.query("SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES WHERE GRANTEE LIKE '%u1%'");
  expect(users).toEqual([{ n: 1 }]);
  await c.end();

  // A changed setting is applied by a restart; the password of an existing user is updated.
  const ro: { restarted: boolean } = await env.run(acts.prepare, { ...input, readOnly: true, users: [{ ...input.users[0]!, sealedPassword: sealSecret(key, 'pw-two') }] });
  expect(ro.restarted).toBe(true);
  expect(await env.run(acts.status)).toMatchObject({ readOnly: true });
  const c2 = await createConnection({ host: address, port: 3306, user: 'u1', password: 'pw-two', database: 'app' });
  await c2.end();

  const pid = (await runningPid(layout))!;
  const restarted: { pid: number } = await env.run(acts.restart);
  expect(restarted.pid).not.toBe(pid);
  expect(await env.run(acts.stop)).toEqual({ stopped: true });
  expect(await env.run(acts.status)).toMatchObject({ running: false });
  expect(await env.run(acts.stop)).toEqual({ stopped: false });
});

test('the watchdog restarts a mariadbd that died, but not one stopped on purpose', async () => {
  const binaries = { mariadbd: '/usr/sbin/mariadbd', installDb: '/usr/bin/mariadb-install-db' };
  const stop = startWatchdog(layout, binaries, maintenance, () => undefined, 200);
  try {
    await env.run(acts.restart);
    const pid = (await runningPid(layout))!;
    process.kill(pid, 'SIGKILL');
    await eventually('mariadbd back', async () => {
      const now = await runningPid(layout);
      return now !== undefined && now !== pid;
    }, 30_000);
    await env.run(acts.stop);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await runningPid(layout)).toBeUndefined();
  } finally {
    stop();
  }
});
