// trove zone-profile-* and create --locality, in-process against a stub of the REST API:
// what each command sends, with which token, and what it prints.
import { json, runTrove, tables } from '../helpers/cli';

interface Call {
  method: string;
  path: string;
  token: string;
  body?: any;
}

const profile = {
  id: 'p-1', name: 'dr-east', description: null, primary_zone: 'az1', dr_zones: ['az2', 'az3'], locality: 'anti-affinity', semi_sync: true, auto_failover: false, created: '2026-12-01T00:00:00.000Z',
};

function stub() {
  const calls: Call[] = [];
  const fetch = async (url: string, init?: RequestInit) => {
    const token = (init?.headers as Record<string, string>)['X-Auth-Token']!;
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const path = new URL(url).pathname;
    const method = init?.method ?? 'GET';
    calls.push({ method, path, token, body });
    if (path.startsWith('/v1.0/admin/') && token !== 'admin-tok') return json(403, { forbidden: { code: 403, message: "this route needs an administrator's token (TROVE_ADMIN_TOKENS); a project's token cannot use it" } });
    if (method === 'POST' && path.endsWith('/zone-profiles')) return json(201, { zone_profile: { ...profile, ...body.zone_profile } });
    if (method === 'POST' && path.endsWith('/instances')) return json(202, { instance: { id: 'i-1', name: body.instance.name, status: 'BUILD', locality: body.instance.locality } });
    if (method === 'GET' && path.endsWith('/zone-profiles')) return json(200, { zone_profiles: [profile] });
    if (method === 'GET') return json(200, { zone_profile: profile });
    return json(202);
  };
  return { calls, fetch };
}

const ADMIN = { TROVE_ADMIN_TOKEN: 'admin-tok' };

test('zone-profile-create sends the profile to the admin route with the administrator\'s token', async () => {
  const { calls, fetch } = stub();
  const r = await runTrove(fetch, ['zone-profile-create', 'dr-east', '--primary-zone', 'az1', '--dr-zone', 'az2', '--dr-zone', 'az3', '--locality', 'anti-affinity', '--semi-sync'], ADMIN);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(calls).toEqual([{
    method: 'POST', path: '/v1.0/admin/zone-profiles', token: 'admin-tok',
    body: { zone_profile: { name: 'dr-east', primary_zone: 'az1', dr_zones: ['az2', 'az3'], locality: 'anti-affinity', semi_sync: true, auto_failover: false, auto_rebuild: false } },
  }]);
  expect(tables(r.stdout)[0]).toMatchObject({ name: 'dr-east', primary_zone: 'az1', dr_zones: 'az2, az3', locality: 'anti-affinity', semi_sync: 'on', auto_failover: 'off' });
});

test('zone-profile-create --auto-rebuild sends auto_rebuild and shows it on', async () => {
  const { calls, fetch } = stub();
  const r = await runTrove(fetch, ['zone-profile-create', 'dr-east', '--primary-zone', 'az1', '--dr-zone', 'az2', '--auto-failover', '--auto-rebuild'], ADMIN);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(calls[0]!.body.zone_profile).toMatchObject({ auto_failover: true, auto_rebuild: true });
  expect(tables(r.stdout)[0]).toMatchObject({ auto_failover: 'on', auto_rebuild: 'on' });
});

test('without an administrator\'s token, create and delete are refused by the API (exit 1, its message)', async () => {
  const { calls, fetch } = stub();
  for (const argv of [['zone-profile-create', 'x', '--primary-zone', 'az1', '--dr-zone', 'az2'], ['zone-profile-delete', 'x']]) {
    const r = await runTrove(fetch, argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: this route needs an administrator's token/);
  }
  expect(calls.map((c) => [c.method, c.path, c.token])).toEqual([['POST', '/v1.0/admin/zone-profiles', 'tok'], ['DELETE', '/v1.0/admin/zone-profiles/x', 'tok']]);
});

test('list and show read the project\'s route with its token, or the admin route with an administrator\'s', async () => {
  const { calls, fetch } = stub();
  const list = await runTrove(fetch, ['zone-profile-list']);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/dr-east .*az1 .*az2,az3 .*anti-affinity .*on .*off/);
  const shown = await runTrove(fetch, ['zone-profile-show', 'dr east']);
  expect(tables(shown.stdout)[0]).toMatchObject({ id: 'p-1', name: 'dr-east' });
  await runTrove(fetch, ['zone-profile-show', 'dr-east'], ADMIN);
  expect(calls.map((c) => [c.method, c.path, c.token])).toEqual([
    ['GET', '/v1.0/proj/zone-profiles', 'tok'],
    ['GET', '/v1.0/proj/zone-profiles/dr%20east', 'tok'],
    ['GET', '/v1.0/admin/zone-profiles/dr-east', 'admin-tok'],
  ]);
});

test('create --locality sends Trove\'s string; with --replica_of it is refused before any request, as troveclient does', async () => {
  const { calls, fetch } = stub();
  const r = await runTrove(fetch, ['create', 'db', '1', '--size', '1', '--locality', 'anti-affinity']);
  expect(r.code).toBe(0);
  expect(calls[0]!.body).toEqual({ instance: { name: 'db', flavorRef: '1', volume: { size: 1 }, locality: 'anti-affinity' } });
  const bad = await runTrove(fetch, ['create', 'db', '1', '--size', '1', '--locality', 'near']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--locality <policy>' argument 'near' is invalid. Allowed choices are affinity, anti-affinity/);
  const replica = await runTrove(fetch, ['create', 'r', '1', '--size', '1', '--replica_of', 'db', '--locality', 'affinity']);
  expect(replica.code).toBe(2);
  expect(replica.stderr).toMatch(/option '--locality <policy>' cannot be used with option '--replica_of/);
  expect(calls).toHaveLength(1);
});
