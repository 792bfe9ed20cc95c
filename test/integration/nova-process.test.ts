// The process driver end to end: servers are real process groups (init +
// fake guest + a `sleep` standing in for mariadbd). Every process started
// here is stopped here; afterAll deletes whatever is left.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildNovaApp } from '../../nova/app';
import { loadNovaConfig } from '../../nova/config';
import { groupMembers, isAlive, readProcStat, signalGroup } from '../../nova/procfs';

type Json = Record<string, any>;  

jest.setTimeout(30_000);

const FAKE_GUEST = path.resolve(__dirname, '../fixtures/fake-guest.js');
let dataDir: string;
let app: FastifyInstance;
let baseUrl: string;
const seenGroups = new Set<number>(); // for the last-resort cleanup

async function startNova(): Promise<void> {
  const config = loadNovaConfig({ TROVE_DATA_DIR: dataDir, NOVA_GUEST_COMMAND: JSON.stringify([process.execPath, FAKE_GUEST]) });
  app = buildNovaApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function call(method: string, url: string, payload?: unknown, token = 'nova-local-token') {
  const res = await fetch(`${baseUrl}/v2.1${url}`, {
    method,
    headers: { 'x-auth-token': token, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const getServer = async (id: string): Promise<Json> => (await call('GET', `/servers/${id}`)).body.server;
// A transition may take as long as the driver allows: a graceful stop 45 s before the group
// is killed, a boot 30 s (a reboot both). A loaded CI machine took over 15 s for a stop and
// for a reboot, so the test waits for the driver's limits, not for a typical run.
const TRANSITION_MS = 45_000 + 30_000 + 5_000;
const waitStatus = (id: string, status: string) =>
  waitFor(
    `${id} ${status}`,
    async () => {
      const s = await getServer(id);
      return s?.status === status && s['OS-EXT-STS:task_state'] === null ? s : undefined;
    },
    TRANSITION_MS,
  );

async function createServer(server: Json, extra: Json = {}): Promise<string> {
  const res = await call('POST', '/servers', { server: { flavorRef: '2', ...server }, ...extra });
  expect(res.status).toBe(202);
  return res.body.server.id as string;
}

const serverDir = (id: string) => path.join(dataDir, 'servers', id);
const readPid = (id: string, file: string) => Number(fs.readFileSync(path.join(serverDir(id), file), 'utf8'));
const alive = (pid: number) => isAlive(readProcStat(pid));
const state = (pid: number) => readProcStat(pid)?.state;
function pgidOf(id: string): number {
  const pid = app.nova.compute.get(id).runtime?.pid;
  if (pid === undefined) throw new Error(`server ${id} has no runtime`);
  seenGroups.add(pid);
  return pid;
}
/** The database stand-in of the server's current instance, once its guest has started it. */
function waitDatabase(id: string): Promise<number> {
  return waitFor('database', () => {
    if (!fs.existsSync(path.join(serverDir(id), 'mariadbd.pid'))) return undefined;
    const pid = readPid(id, 'mariadbd.pid');
    return alive(pid) && readProcStat(pid)?.pgrp === pgidOf(id) && pid;
  });
}
/** Live init processes of a server, found by the environment Nova gave them. */
function initsOf(id: string): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      return cmd.includes('server-init.ts') && env.includes(`TROVE_SERVER_ID=${id}`) && alive(pid);
    } catch {
      return false;
    }
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-process-'));
  await startNova();
});

afterAll(async () => {
  try {
    for (const s of (await call('GET', '/servers')).body.servers ?? []) await call('DELETE', `/servers/${s.id}`);
    await app.close();
  } finally {
    for (const pgid of seenGroups) signalGroup(pgid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);

describe('Nova with the process driver', () => {
  let id: string; // the long-lived server most tests act on

  test('requests without the token are refused, bad bodies are 400 naming the field', async () => {
    expect(await call('GET', '/servers', undefined, 'bad')).toMatchObject({ status: 401, body: { unauthorized: { code: 401 } } });
    const res = await call('POST', '/servers', { server: { name: '', flavorRef: '2' } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/server\.name/);
    expect((await call('GET', '/servers')).body.servers).toEqual([]);
  });

  test('create boots a server: ACTIVE, own loopback address, disk folder, guest and database running', async () => {
    id = await createServer({ name: 'db-1' });
    const server = await waitStatus(id, 'ACTIVE');
    const address = server.addresses.private[0].addr as string;
    expect(address).toMatch(/^127\.0\.\d+\.\d+$/);
    expect(fs.statSync(serverDir(id)).isDirectory()).toBe(true);
    await waitDatabase(id);
    const guest = readPid(id, 'fake-guest.pid');
    expect(JSON.parse(fs.readFileSync(path.join(serverDir(id), 'fake-guest.env.json'), 'utf8'))).toEqual({
      TROVE_SERVER_ID: id, TROVE_SERVER_ADDRESS: address, TROVE_SERVER_DIR: serverDir(id), TROVE_SERVER_NAME: 'db-1', TROVE_FLAVOR_RAM_MB: '2048',
    });
    const pgid = pgidOf(id);
    expect(readProcStat(guest)?.pgrp).toBe(pgid);
    expect(readProcStat(readPid(id, 'mariadbd.pid'))?.pgrp).toBe(pgid);
    expect(readPid(id, 'guest.pid')).toBe(guest);
  });

  test('kill-guest: the init restarts the guest, the database survives', async () => {
    const oldGuest = readPid(id, 'guest.pid');
    const db = readPid(id, 'mariadbd.pid');
    expect((await call('POST', `/_faults/servers/${id}/kill-guest`)).status).toBe(202);
    const newGuest = await waitFor('restarted guest', () => {
      const pid = readPid(id, 'fake-guest.pid');
      return pid !== oldGuest && alive(pid) && pid;
    });
    expect(alive(oldGuest)).toBe(false);
    expect(readPid(id, 'guest.pid')).toBe(newGuest);
    expect(alive(db)).toBe(true);
    expect(readPid(id, 'mariadbd.pid')).toBe(db); // adopted, not a second database
    expect(fs.readFileSync(path.join(serverDir(id), 'console.log'), 'utf8')).toMatch(/restarting in 1000 ms/);
    expect((await getServer(id)).status).toBe('ACTIVE');
  });

  test('hang stops every process of the server, resume continues them; status stays ACTIVE', async () => {
    const pids = [pgidOf(id), readPid(id, 'guest.pid'), await waitDatabase(id)];
    expect((await call('POST', `/_faults/servers/${id}/hang`)).status).toBe(202);
    await waitFor('stopped processes', () => pids.every((pid) => state(pid) === 'T'));
    await new Promise((r) => setTimeout(r, 1_500)); // a poller round: a frozen VM is not a dead one
    expect((await getServer(id)).status).toBe('ACTIVE');
    expect((await call('POST', `/_faults/servers/${id}/resume`)).status).toBe(202);
    await waitFor('resumed processes', () => pids.every((pid) => state(pid) !== 'T' && alive(pid)));
  });

  test('crash kills the whole group: SHUTOFF until os-start, which boots it again', async () => {
    const pgid = pgidOf(id);
    const address = (await getServer(id)).addresses.private[0].addr;
    expect((await call('POST', `/_faults/servers/${id}/crash`)).status).toBe(202);
    expect((await getServer(id)).status).toBe('SHUTOFF');
    expect(groupMembers(pgid)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await getServer(id)).status).toBe('SHUTOFF'); // stays down
    expect((await call('POST', `/servers/${id}/action`, { 'os-stop': null })).body.conflictingRequest.code).toBe(409);

    expect((await call('POST', `/servers/${id}/action`, { 'os-start': null })).status).toBe(202);
    const server = await waitStatus(id, 'ACTIVE');
    expect(server.addresses.private[0].addr).toBe(address);
    expect(pgidOf(id)).not.toBe(pgid);
    expect((await call('POST', `/servers/${id}/action`, { 'os-start': null })).status).toBe(409);
  });

  test('fencing: x-power-off cuts a hung server at once, and a locked server refuses os-start', async () => {
    const pgid = pgidOf(id);
    expect((await call('POST', `/_faults/servers/${id}/hang`)).status).toBe(202);
    expect((await call('POST', `/servers/${id}/action`, { 'x-power-off': null })).status).toBe(202);
    await waitStatus(id, 'SHUTOFF');
    expect(groupMembers(pgid)).toEqual([]);
    expect((await call('POST', `/servers/${id}/action`, { lock: null })).status).toBe(202);
    expect((await getServer(id)).locked).toBe(true);
    expect((await call('POST', `/servers/${id}/action`, { 'os-start': null })).body.conflictingRequest.message).toMatch(/locked/);
    expect((await call('POST', `/servers/${id}/action`, { unlock: null })).status).toBe(202);
    expect((await call('POST', `/servers/${id}/action`, { 'os-start': null })).status).toBe(202);
    await waitStatus(id, 'ACTIVE');
  });

  test('os-stop is graceful: the guest stops its database; reboot boots a new instance', async () => {
    const db = await waitDatabase(id);
    const pgid = pgidOf(id);
    expect((await call('POST', `/servers/${id}/action`, { 'os-stop': null })).status).toBe(202);
    await waitStatus(id, 'SHUTOFF');
    expect(groupMembers(pgid)).toEqual([]);
    expect(alive(db)).toBe(false);
    expect(fs.readFileSync(path.join(serverDir(id), 'console.log'), 'utf8')).toMatch(`SIGTERM, stopping database ${db}`);
    expect((await call('POST', `/servers/${id}/action`, { 'os-start': null })).status).toBe(202);
    await waitStatus(id, 'ACTIVE');
    const before = pgidOf(id);
    expect((await call('POST', `/servers/${id}/action`, { reboot: { type: 'SOFT' } })).status).toBe(202);
    expect((await getServer(id)).status).toBe('REBOOT');
    await waitStatus(id, 'ACTIVE');
    expect(groupMembers(before)).toEqual([]);
    expect(alive(pgidOf(id))).toBe(true);
  });

  test('injected build faults: error_next_builds -> ERROR without processes, fail_next_builds -> 500, nothing created', async () => {
    await call('PUT', '/_faults', { error_next_builds: 1, fail_next_builds: 1 });
    const failed = await call('POST', '/servers', { server: { name: 'f', flavorRef: '2' } });
    expect(failed).toMatchObject({ status: 500, body: { computeFault: { code: 500 } } });
    expect((await call('GET', '/servers')).body.servers).toHaveLength(1);
    const errored = await createServer({ name: 'e' });
    const server = await waitStatus(errored, 'ERROR');
    expect(server.fault.message).toMatch(/error_next_builds/);
    expect(fs.existsSync(serverDir(errored))).toBe(false);
    expect(initsOf(errored)).toEqual([]);
    expect((await call('DELETE', `/servers/${errored}`)).status).toBe(204);
    expect((await call('GET', '/_faults')).body.faults).toMatchObject({ error_next_builds: 0, fail_next_builds: 0 });
  });

  test('anti-affinity spreads a group over hosts, refuses a 7th member; delete leaves nothing behind', async () => {
    const group = (await call('POST', '/os-server-groups', { server_group: { name: 'cluster', policies: ['anti-affinity'] } })).body.server_group;
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) ids.push(await createServer({ name: `member-${i}` }, { 'os:scheduler_hints': { group: group.id } }));
    const members = await Promise.all(ids.slice(0, 6).map((m) => waitStatus(m, 'ACTIVE')));
    expect(new Set(members.map((m) => m['OS-EXT-SRV-ATTR:host'])).size).toBe(6);
    expect(new Set(members.map((m) => m.addresses.private[0].addr)).size).toBe(6);
    const seventh = await waitStatus(ids[6], 'ERROR');
    expect(seventh.fault).toMatchObject({ code: 500, message: expect.stringMatching(/^No valid host was found\. /) });
    expect((await call('GET', `/os-server-groups/${group.id}`)).body.server_group.members.sort()).toEqual([...ids].sort());

    const groups = ids.slice(0, 6).map(pgidOf);
    for (const m of ids) expect((await call('DELETE', `/servers/${m}`)).status).toBe(204);
    for (const m of ids) {
      expect((await call('GET', `/servers/${m}`)).status).toBe(404);
      expect(fs.existsSync(serverDir(m))).toBe(false);
    }
    for (const pgid of groups) expect(groupMembers(pgid)).toEqual([]);
    expect((await call('DELETE', `/os-server-groups/${group.id}`)).status).toBe(204);
  });

  test('a restarted Nova adopts running servers instead of booting duplicates', async () => {
    await waitDatabase(id);
    const pgid = pgidOf(id);
    const guest = readPid(id, 'guest.pid');
    await app.close(); // no shutdown of servers: Nova "crashes"
    expect(alive(pgid)).toBe(true);
    await startNova();
    await new Promise((r) => setTimeout(r, 1_500)); // let the poller run
    expect((await getServer(id)).status).toBe('ACTIVE');
    expect(pgidOf(id)).toBe(pgid);
    expect(initsOf(id)).toEqual([pgid]);
    expect(readPid(id, 'guest.pid')).toBe(guest);
  });

  test('a graceful Nova shutdown powers servers off; the next start boots them again', async () => {
    const pgid = pgidOf(id);
    await app.close();
    await app.nova.stopAllServers();
    expect(groupMembers(pgid)).toEqual([]);
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'nova', 'state.json'), 'utf8'));
    expect(saved.servers.find((s: Json) => s.id === id).status).toBe('ACTIVE');

    await startNova();
    await waitFor('rebooted server', () => {
      const runtime = app.nova.compute.get(id).runtime;
      return runtime !== null && runtime.pid !== pgid && app.nova.compute.get(id).taskState === null;
    });
    expect((await getServer(id)).status).toBe('ACTIVE');
    expect(initsOf(id)).toEqual([pgidOf(id)]);
    await waitDatabase(id);
  });

  test('delete kills every process and removes the disk', async () => {
    const pgid = pgidOf(id);
    const db = await waitDatabase(id);
    expect((await call('DELETE', `/servers/${id}`)).status).toBe(204);
    expect((await call('GET', `/servers/${id}`)).status).toBe(404);
    expect(groupMembers(pgid)).toEqual([]);
    expect(alive(db)).toBe(false);
    expect(fs.existsSync(serverDir(id))).toBe(false);
  });
});
