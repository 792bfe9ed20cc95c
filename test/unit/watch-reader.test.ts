// The watch's status reader (activities/control/watch-deps.ts) against the MySQL-protocol
// stand-in of the scale bench: both reads in one round trip on a kept connection, a member
// that dies wakes the watch (its connection closed or reset), and a dead member refuses.
import { registryWatchDeps } from '../../activities/control/watch-deps';
import type { Registry } from '../../registry';
import { sealSecret } from '../../lib/secrets';
import { StandIns } from '../../bench/lib/mysql-standin';

const KEY = Buffer.alloc(32, 7);

test('reads a replica and a source on kept connections; a source that dies wakes the reader and then refuses', async () => {
  const standIns = new StandIns();
  const source = { instanceId: 'src', address: '127.0.0.1', port: await standIns.add({ id: 'src', port: 0, serverId: 11 }) };
  const replica = { instanceId: 'rep', address: '127.0.0.1', port: await standIns.add({ id: 'rep', port: 0, serverId: 12, sourceId: 'src' }) };
  const lost: string[] = [];
  const reader = registryWatchDeps({} as Registry, { secretKey: KEY, probeAddress: '127.0.0.1' }).statusReader((id) => lost.push(id));
  const pw = sealSecret(KEY, 'any');
  try {
    expect(await reader.read(replica, pw)).toMatchObject({ configured: true, ioRunning: true, sqlRunning: true, readOnly: true, serverId: 12, secondsBehind: 0 });
    expect(await reader.read(source, pw)).toMatchObject({ configured: false, readOnly: false, serverId: 11, semiSyncSource: false });
    const before = standIns.queries;
    await reader.read(replica, pw);
    // One round trip, two statements, on the connection already open.
    expect(standIns.queries - before).toBe(2);
    // A set's source (its own replication is not part of its health): the variables alone.
    const alone = standIns.queries;
    expect(await reader.read({ ...source, link: false }, pw)).toMatchObject({ configured: false, readOnly: false, serverId: 11, semiSyncSource: false });
    expect(standIns.queries - alone).toBe(1);

    await standIns.set('src', 'dead');
    await new Promise((r) => setTimeout(r, 200));
    expect(lost).toEqual(['src']);
    expect(await reader.read(replica, pw)).toMatchObject({ ioRunning: false, secondsBehind: null });
    await expect(reader.read(source, pw)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  } finally {
    await reader.close();
    await standIns.close();
  }
});

test('a member whose connection is reset (RST, not FIN) wakes the reader too; a read that fails on our side does not', async () => {
  const standIns = new StandIns();
  const source = { instanceId: 'src', address: '127.0.0.1', port: await standIns.add({ id: 'src', port: 0, serverId: 11 }) };
  const lost: string[] = [];
  const reader = registryWatchDeps({} as Registry, { secretKey: KEY, probeAddress: '127.0.0.1' }).statusReader((id) => lost.push(id));
  const pw = sealSecret(KEY, 'any');
  try {
    await reader.read(source, pw);
    await standIns.set('src', 'dead', { reset: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(lost).toEqual(['src']);
    await expect(reader.read(source, pw)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await new Promise((r) => setTimeout(r, 100));
    expect(lost).toEqual(['src']);
  } finally {
    await reader.close();
    await standIns.close();
  }
});

test('the reads a failover waits on go to the urgent registry at once, alone; the others wait to be batched', async () => {
  const asked = (name: string, calls: string[][]) =>
    ({ monitorAccounts: { credentials: async (ids: string[]) => (calls.push([name, ...ids]), Object.fromEntries(ids.map((id) => [id, { sealedPassword: 'x', ready: true }]))) } }) as unknown as Registry;
  const calls: string[][] = [];
  const deps = registryWatchDeps(asked('shared', calls), { secretKey: KEY, batchWindowMs: 50 }, asked('urgent', calls));
  const batched = Promise.all([deps.monitorCredentials(['a']), deps.monitorCredentials(['b'])]);
  expect(await deps.monitorCredentials(['c'], true)).toEqual({ c: { sealedPassword: 'x', ready: true } });
  expect(calls).toEqual([['urgent', 'c']]);
  await batched;
  expect(calls).toEqual([['urgent', 'c'], ['shared', 'a', 'b']]);
});
