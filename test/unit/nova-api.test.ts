// API shapes and rules, exercised with the fake driver (no processes) so they
// run in milliseconds; the process driver has its own integration test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildNovaApp } from '../../nova/app';
import { loadNovaConfig } from '../../nova/config';
import { FakeDriver } from '../../nova/drivers/fake';

type Json = Record<string, any>;  

let dataDir: string;
let app: FastifyInstance;
let baseUrl: string;
let random = 1;

// Real HTTP rather than app.inject(): light-my-request needs an ESM-only
// dependency that jest cannot load on Node 20.
async function start(env: Record<string, string> = {}): Promise<void> {
  app = buildNovaApp(loadNovaConfig({ TROVE_DATA_DIR: dataDir, NOVA_DRIVER: 'fake', ...env }), new FakeDriver(), { random: () => random });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function raw(method: string, url: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}${url}`, { method, body, headers: { 'x-auth-token': 'nova-local-token', ...headers } });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
}

function call(method: string, url: string, payload?: unknown, token = 'nova-local-token') {
  const json = payload === undefined ? undefined : JSON.stringify(payload);
  return raw(method, url, json, { 'x-auth-token': token, ...(json === undefined ? {} : { 'content-type': 'application/json' }) });
}

async function waitStatus(id: string, status: string): Promise<Json> {
  for (let i = 0; i < 200; i++) {
    const { body } = await call('GET', `/v2.1/servers/${id}`);
    if (body.server.status === status) return body.server;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`server ${id} never reached ${status}`);
}

async function create(server: Json, extra: Json = {}): Promise<string> {
  const res = await call('POST', '/v2.1/servers', { server: { flavorRef: '1', ...server }, ...extra });
  expect(res.status).toBe(202);
  return res.body.server.id as string;
}

beforeEach(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-api-'));
  random = 1;
  await start();
});
afterEach(async () => {
  await app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('every route needs the token', async () => {
  for (const url of ['/v2.1/flavors', '/v2.1/servers', '/v2.1/_faults', '/v2.1/nope']) {
    const res = await call('GET', url, undefined, 'wrong');
    expect(res).toEqual({ status: 401, body: { unauthorized: { code: 401, message: expect.any(String) } } });
  }
  const res = await fetch(`${baseUrl}/v2.1/flavors`);
  expect(res.status).toBe(401);
});

test('flavors and availability zones', async () => {
  const list = await call('GET', '/v2.1/flavors/detail');
  expect(list.body.flavors).toHaveLength(10);
  expect((await call('GET', '/v2.1/flavors')).body.flavors[0]).toMatchObject({ id: '1', name: 'm1.tiny', links: expect.any(Array) });
  expect((await call('GET', '/v2.1/flavors/7')).body.flavor).toMatchObject({ id: '7', name: 'ds1G', ram: 1024, vcpus: 1, disk: 10 });
  expect(await call('GET', '/v2.1/flavors/99')).toMatchObject({ status: 404, body: { itemNotFound: { code: 404 } } });

  const zones = (await call('GET', '/v2.1/os-availability-zone')).body.availabilityZoneInfo;
  expect(zones).toEqual(['az1', 'az2', 'az3'].map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null })));
  const detail = (await call('GET', '/v2.1/os-availability-zone/detail')).body.availabilityZoneInfo;
  expect(Object.keys(detail[1].hosts)).toEqual(['host2a', 'host2b']);
  expect(detail[1].hosts.host2a['nova-compute']).toMatchObject({ available: true, active: true });
});

test('create, show, list, filter, delete', async () => {
  const a = await create({ name: 'a', flavorRef: 'http://nova/flavors/2', metadata: { role: 'primary' } });
  const b = await create({ name: 'b', availability_zone: 'az3' });
  const shownA = await waitStatus(a, 'ACTIVE');
  expect(shownA).toMatchObject({
    id: a, name: 'a', flavor: { id: '2' }, metadata: { role: 'primary' },
    'OS-EXT-AZ:availability_zone': 'az1', 'OS-EXT-SRV-ATTR:host': 'host1a',
    addresses: { private: [{ addr: expect.stringMatching(/^127\.0\.\d+\.1$/), version: 4 }] },
  });
  // Each Nova hands out addresses from a block of its own (nova/addresses.ts), lowest first.
  const first = shownA.addresses.private[0].addr as string;
  const block = first.slice(0, first.lastIndexOf('.'));
  expect(shownA.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(await waitStatus(b, 'ACTIVE')).toMatchObject({ 'OS-EXT-AZ:availability_zone': 'az3', addresses: { private: [{ addr: `${block}.2` }] } });

  expect((await call('GET', '/v2.1/servers')).body.servers.map((s: Json) => s.id)).toEqual([b, a]);
  expect((await call('GET', '/v2.1/servers/detail?name=a')).body.servers).toEqual([expect.objectContaining({ id: a, status: 'ACTIVE' })]);
  expect((await call('GET', '/v2.1/servers/detail?status=shutoff')).body.servers).toEqual([]);

  // Bodiless DELETE with a JSON content type, as some clients send it.
  expect((await raw('DELETE', `/v2.1/servers/${a}`, undefined, { 'content-type': 'application/json' })).status).toBe(204);
  expect(await call('GET', `/v2.1/servers/${a}`)).toMatchObject({ status: 404, body: { itemNotFound: { code: 404 } } });
  // The freed address is given out again.
  expect(await waitStatus(await create({ name: 'c' }), 'ACTIVE')).toMatchObject({ addresses: { private: [{ addr: first }] } });
});

test.each([
  [{ server: { name: '', flavorRef: '1' } }, /server\.name.*1-255/],
  [{ server: { name: 'x'.repeat(256), flavorRef: '1' } }, /server\.name/],
  [{ server: { flavorRef: '1' } }, /server\.name/],
  [{ server: { name: 'a' } }, /server\.flavorRef/],
  [{ server: { name: 'a', flavorRef: '42' } }, /flavorRef.*42/],
  [{ server: { name: 'a', flavorRef: '1', availability_zone: 'az9' } }, /availability_zone.*az9/],
  [{ server: { name: 'a', flavorRef: '1', metadata: { k: 1 } } }, /server\.metadata\.k/],
  [{ server: { name: 'a', flavorRef: '1' }, 'os:scheduler_hints': { group: 'nope' } }, /os:scheduler_hints\.group.*nope/],
  [{ servers: {} }, /server/],
])('bad create body %j -> 400 naming the field, nothing created', async (payload, message) => {
  const res = await call('POST', '/v2.1/servers', payload);
  expect(res.status).toBe(400);
  expect(res.body.badRequest.code).toBe(400);
  expect(res.body.badRequest.message).toMatch(message);
  expect((await call('GET', '/v2.1/servers')).body.servers).toEqual([]);
});

test('malformed JSON is a badRequest', async () => {
  const res = await raw('POST', '/v2.1/servers', '{nope', { 'content-type': 'application/json' });
  expect(res.status).toBe(400);
  expect(res.body.badRequest.message).toMatch(/JSON/);
});

test('actions follow the state machine', async () => {
  const id = await create({ name: 'a' });
  await waitStatus(id, 'ACTIVE');
  const action = (body: unknown) => call('POST', `/v2.1/servers/${id}/action`, body);
  expect(await action({ 'os-start': null })).toMatchObject({ status: 409, body: { conflictingRequest: { code: 409 } } });
  expect(await action({ resize: {} })).toMatchObject({ status: 400 });
  expect(await action({ reboot: { type: 'WARM' } })).toMatchObject({ status: 400, body: { badRequest: { message: expect.stringMatching(/reboot\.type/) } } });
  expect((await action({ 'os-stop': null })).status).toBe(202);
  expect(await waitStatus(id, 'SHUTOFF')).toMatchObject({ 'OS-EXT-STS:power_state': 4 });
  expect((await action({ 'os-stop': null })).status).toBe(409);
  expect((await action({ reboot: { type: 'SOFT' } })).status).toBe(409);
  expect((await action({ 'os-start': null })).status).toBe(202);
  await waitStatus(id, 'ACTIVE');
  expect((await action({ reboot: { type: 'HARD' } })).status).toBe(202);
  await waitStatus(id, 'ACTIVE');
  expect((await call('POST', '/v2.1/servers/nope/action', { 'os-stop': null })).status).toBe(404);
});

test('resize: RESIZE, then VERIFY_RESIZE with the new flavor until confirmed or reverted', async () => {
  const id = await create({ name: 'r' });
  await waitStatus(id, 'ACTIVE');
  const action = (body: unknown) => call('POST', `/v2.1/servers/${id}/action`, body);
  expect(await action({ resize: { flavorRef: '1' } })).toMatchObject({ status: 400, body: { badRequest: { message: 'When resizing, instances must change flavor!' } } });
  expect(await action({ resize: { flavorRef: '99' } })).toMatchObject({ status: 400, body: { badRequest: { message: expect.stringMatching(/Flavor 99 could not be found/) } } });
  expect((await action({ confirmResize: null })).status).toBe(409);

  expect((await action({ resize: { flavorRef: 'http://nova/flavors/7' } })).status).toBe(202);
  const resized = await waitStatus(id, 'VERIFY_RESIZE');
  expect(resized).toMatchObject({ flavor: { id: '7' }, 'OS-EXT-STS:vm_state': 'resized', 'OS-EXT-STS:power_state': 1 });
  expect((await action({ 'os-stop': null })).status).toBe(409);
  expect((await action({ confirmResize: null })).status).toBe(202);
  expect(await waitStatus(id, 'ACTIVE')).toMatchObject({ flavor: { id: '7' } });

  expect((await action({ resize: { flavorRef: '8' } })).status).toBe(202);
  await waitStatus(id, 'VERIFY_RESIZE');
  expect((await action({ revertResize: null })).status).toBe(202);
  expect(await waitStatus(id, 'ACTIVE')).toMatchObject({ flavor: { id: '7' } });

  // A stopped server is resized without being started.
  await action({ 'os-stop': null });
  await waitStatus(id, 'SHUTOFF');
  expect((await action({ resize: { flavorRef: '1' } })).status).toBe(202);
  expect(await waitStatus(id, 'VERIFY_RESIZE')).toMatchObject({ flavor: { id: '1' }, 'OS-EXT-STS:power_state': 4 });
  await action({ confirmResize: null });
  await waitStatus(id, 'SHUTOFF');
});

test('x-extend-volume: the data volume only grows', async () => {
  const id = await create({ name: 'v' });
  expect(await waitStatus(id, 'ACTIVE')).toMatchObject({ 'x-volume-size-gb': null });
  const extend = (size: unknown) => call('POST', `/v2.1/servers/${id}/action`, { 'x-extend-volume': { new_size: size } });
  expect(await extend(0)).toMatchObject({ status: 400, body: { badRequest: { message: expect.stringMatching(/new_size/) } } });
  expect((await extend(3)).status).toBe(202);
  expect((await call('GET', `/v2.1/servers/${id}`)).body.server['x-volume-size-gb']).toBe(3);
  expect(await extend(3)).toMatchObject({ status: 400, body: { badRequest: { message: expect.stringMatching(/greater than current size \(3 GB\)/) } } });
  expect((await extend(5)).status).toBe(202);
  expect((await call('GET', `/v2.1/servers/${id}`)).body.server['x-volume-size-gb']).toBe(5);
});

test('server groups: both policy styles, members, hint aliases, affinity', async () => {
  const aff = await call('POST', '/v2.1/os-server-groups', { server_group: { name: 'g1', policies: ['affinity'] } });
  expect(aff.body.server_group).toMatchObject({ name: 'g1', policies: ['affinity'], policy: 'affinity', members: [] });
  const anti = await call('POST', '/v2.1/os-server-groups', { server_group: { name: 'g2', policy: 'anti-affinity' } });
  expect(anti.body.server_group.policies).toEqual(['anti-affinity']);
  expect((await call('POST', '/v2.1/os-server-groups', { server_group: { name: 'g3', policy: 'soft-affinity' } })).body.badRequest.message).toMatch(/server_group\.policy/);
  expect((await call('POST', '/v2.1/os-server-groups', { server_group: { name: 'g4' } })).status).toBe(400);

  const g = aff.body.server_group.id as string;
  await create({ name: 'x' }); // load host1a so affinity has to override least-loaded
  const a = await create({ name: 'a', scheduler_hints: { group: g } });
  const b = await create({ name: 'b' }, { scheduler_hints: { group: g } });
  const c = await create({ name: 'c' }, { 'os:scheduler_hints': { group: g } });
  const hosts = await Promise.all([a, b, c].map(async (id) => (await waitStatus(id, 'ACTIVE'))['OS-EXT-SRV-ATTR:host']));
  expect(new Set(hosts).size).toBe(1);
  expect((await call('GET', `/v2.1/os-server-groups/${g}`)).body.server_group.members.sort()).toEqual([a, b, c].sort());
  expect((await call('GET', '/v2.1/os-server-groups')).body.server_groups).toHaveLength(2);
  expect((await call('DELETE', `/v2.1/os-server-groups/${g}`)).status).toBe(204);
  expect((await call('GET', `/v2.1/os-server-groups/${g}`)).status).toBe(404);
});

test('fault injection: builds, API errors, latency', async () => {
  expect((await call('PUT', '/v2.1/_faults', { fail_next_builds: 1, error_next_builds: 1 })).body.faults)
    .toEqual({ fail_next_builds: 1, error_next_builds: 1, api_error_rate: 0, latency_ms: 0 });
  expect(await call('POST', '/v2.1/servers', { server: { name: 'f', flavorRef: '1' } })).toMatchObject({ status: 500, body: { computeFault: { code: 500 } } });
  expect((await call('GET', '/v2.1/servers')).body.servers).toEqual([]);
  const errored = await waitStatus(await create({ name: 'e' }), 'ERROR');
  expect(errored.fault).toMatchObject({ code: 500, message: expect.stringMatching(/error_next_builds/) });
  expect(errored.addresses).toEqual({});
  await waitStatus(await create({ name: 'ok' }), 'ACTIVE');

  expect((await call('PUT', '/v2.1/_faults', { api_error_rate: 2 })).body.badRequest.message).toMatch(/api_error_rate/);
  expect((await call('PUT', '/v2.1/_faults', { bogus: 1 })).status).toBe(400);
  await call('PUT', '/v2.1/_faults', { api_error_rate: 0.5 });
  random = 0.4;
  expect(await call('GET', '/v2.1/flavors')).toMatchObject({ status: 500, body: { computeFault: { code: 500 } } });
  random = 0.6;
  expect((await call('GET', '/v2.1/flavors')).status).toBe(200);
  random = 0;
  expect((await call('GET', '/v2.1/_faults')).status).toBe(200); // fault routes are exempt
  expect((await call('DELETE', '/v2.1/_faults')).status).toBe(204);
  expect((await call('GET', '/v2.1/flavors')).status).toBe(200);

  await call('PUT', '/v2.1/_faults', { latency_ms: 150 });
  const t0 = Date.now();
  await call('GET', '/v2.1/flavors');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
});

test('boot delay keeps servers in BUILD; deleting during BUILD cancels the boot', async () => {
  await app.close();
  await start({ NOVA_BOOT_DELAY_MS: '200' });
  const a = await create({ name: 'a' });
  const b = await create({ name: 'b' });
  expect((await call('GET', `/v2.1/servers/${a}`)).body.server).toMatchObject({ status: 'BUILD', 'OS-EXT-STS:task_state': 'spawning' });
  expect((await call('DELETE', `/v2.1/servers/${b}`)).status).toBe(204);
  await waitStatus(a, 'ACTIVE');
  expect((await call('GET', '/v2.1/servers')).body.servers.map((s: Json) => s.id)).toEqual([a]);
});

test('state survives a restart; servers that were ACTIVE are booted again', async () => {
  const a = await create({ name: 'a' });
  const addressOfA = (await waitStatus(a, 'ACTIVE')).addresses.private[0].addr as string;
  const stopped = await create({ name: 's' });
  await waitStatus(stopped, 'ACTIVE');
  await call('POST', `/v2.1/servers/${stopped}/action`, { 'os-stop': null });
  await waitStatus(stopped, 'SHUTOFF');
  await app.close();
  await start(); // a new FakeDriver knows no running servers
  expect(await waitStatus(a, 'ACTIVE')).toMatchObject({ addresses: { private: [{ addr: addressOfA }] } });
  expect((await call('GET', `/v2.1/servers/${stopped}`)).body.server.status).toBe('SHUTOFF');
  expect(app.nova.compute.driver.isRunning(app.nova.compute.spec(app.nova.compute.get(a)))).toBe(true);
});
