// Every API route needs a valid token, and a token serves only its own project: another
// project's instances answer 404 (not 403), so their ids do not leak.
import { DATASTORES } from '../../api/catalog';
import { startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack;
let id: string;
beforeAll(async () => {
  env = await startTestStack({ parts: ['temporal', 'registry', 'nova', 'api'] });
  const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'guarded', flavorRef: '1', volume: { size: 1 } } });
  id = created.body.instance.id;
}, 180_000);
afterAll(async () => {
  await env?.stop();
});

/** The deployment's flavors and datastores (the same for every project). */
const catalogRoutes: [string, string][] = [
  ['GET', '/flavors'],
  ['GET', '/flavors/1'],
  ['GET', '/datastores'],
  ['GET', '/datastores/mariadb'],
  ['GET', '/datastores/mysql/versions'],
  ['GET', '/datastores/mysql/versions/10.11'],
  ['GET', `/datastores/versions/${DATASTORES[0]!.versions[0]!.id}`],
  ['GET', '/datastores/mariadb/versions/10.11/flavors'],
];

const routes = (i: string): [string, string, unknown?][] => [
  ['GET', '/v1.0/proj-a/instances'],
  ['POST', '/v1.0/proj-a/instances', { instance: { name: 'x', flavorRef: '1', volume: { size: 1 } } }],
  ['GET', `/v1.0/proj-a/instances/${i}`],
  ['DELETE', `/v1.0/proj-a/instances/${i}`],
  ['PATCH', `/v1.0/proj-a/instances/${i}`, { instance: { replica_of: null } }],
  ['PUT', `/v1.0/proj-a/instances/${i}`, { instance: { replica_of: null } }],
  ['POST', `/v1.0/proj-a/instances/${i}/action`, { replicate: { count: 1 } }],
  ['POST', `/v1.0/proj-a/instances/${i}/topology/action`, { detach: {} }],
  ['POST', `/v1.0/proj-a/instances/${i}/action`, { restart: {} }],
  ['POST', `/v1.0/proj-a/instances/${i}/action`, { resize: { volume: { size: 2 } } }],
  ['POST', `/v1.0/proj-a/instances/${i}/action`, { resize: { flavorRef: '2' } }],
  ['POST', `/v1.0/proj-a/instances/${i}/action`, { reset_status: {} }],
  ['PATCH', `/v1.0/proj-a/instances/${i}`, { instance: { name: 'renamed' } }],
  ['GET', `/v1.0/proj-a/instances/${i}/replication`],
  ['PATCH', `/v1.0/proj-a/instances/${i}/replication`, { replication: { auto_failover: true } }],
  ['GET', `/v1.0/proj-a/instances/${i}/databases`],
  ['POST', `/v1.0/proj-a/instances/${i}/databases`, { databases: [{ name: 'x' }] }],
  ['DELETE', `/v1.0/proj-a/instances/${i}/databases/x`],
  ['GET', `/v1.0/proj-a/instances/${i}/users`],
  ['POST', `/v1.0/proj-a/instances/${i}/users`, { users: [{ name: 'u', password: 'p' }] }],
  ['PUT', `/v1.0/proj-a/instances/${i}/users`, { users: [{ name: 'u', password: 'p' }] }],
  ['GET', `/v1.0/proj-a/instances/${i}/users/u%40%25`],
  ['PUT', `/v1.0/proj-a/instances/${i}/users/u`, { user: { password: 'p' } }],
  ['DELETE', `/v1.0/proj-a/instances/${i}/users/u`],
  ['GET', `/v1.0/proj-a/instances/${i}/users/u/databases`],
  ['PUT', `/v1.0/proj-a/instances/${i}/users/u/databases`, { databases: [{ name: 'x' }] }],
  ['DELETE', `/v1.0/proj-a/instances/${i}/users/u/databases/x`],
  ...catalogRoutes.map(([method, p]): [string, string] => [method, `/v1.0/proj-a${p}`]),
  ['GET', '/v1.0/proj-a/zone-profiles'],
  ['GET', '/v1.0/proj-a/zone-profiles/any'],
];

test.each([
  ['no token', undefined, 401],
  ['an unknown token', 'forged', 401],
  ["another project's token", 'tok-b', 403],
])('every route with %s answers %i and changes nothing', async (_label, token, status) => {
  const before = await env.registry!.instances.count();
  for (const [method, p, body] of routes(id)) {
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (token) headers['X-Auth-Token'] = token;
    const res = await fetch(`${env.apiUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    expect({ method, p, status: res.status }).toEqual({ method, p, status });
  }
  expect(await env.registry!.instances.count()).toBe(before);
});

test("an administrator's token serves no project route (403), and changes nothing", async () => {
  const before = await env.registry!.instances.count();
  for (const [method, p, body] of [...routes(id), ['GET', '/v1.0/proj-a/zone-profiles'], ['GET', '/v1.0/proj-a/zone-profiles/any']] as [string, string, unknown?][]) {
    const res = await env.api(method, p, body, { 'X-Auth-Token': 'tok-admin' });
    expect({ method, p, status: res.status }).toEqual({ method, p, status: 403 });
  }
  expect(await env.registry!.instances.count()).toBe(before);
});

const adminRoutes: [string, string, unknown?][] = [
  ['GET', '/v1.0/admin/zone-profiles'],
  ['GET', '/v1.0/admin/zone-profiles/any'],
  ['POST', '/v1.0/admin/zone-profiles', { zone_profile: { name: 'guarded', primary_zone: 'az1', dr_zones: ['az2'] } }],
  ['DELETE', '/v1.0/admin/zone-profiles/any'],
];

test.each([
  ['no token', undefined, 401],
  ['an unknown token', 'forged', 401],
  ["a project's token", 'tok-a', 403],
  ["another project's token", 'tok-b', 403],
])('every admin route with %s answers %i and stores nothing', async (_label, token, status) => {
  for (const [method, p, body] of adminRoutes) {
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (token) headers['X-Auth-Token'] = token;
    const res = await fetch(`${env.apiUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    expect({ method, p, status: res.status }).toEqual({ method, p, status });
  }
  expect(await env.registry!.profiles.list()).toEqual([]);
});

test("projects read zone profiles with their own token; the administrator's token reaches the admin routes", async () => {
  for (const [token, project] of [['tok-a', 'proj-a'], ['tok-b', 'proj-b']]) {
    expect((await env.api('GET', `/v1.0/${project}/zone-profiles`, undefined, { 'X-Auth-Token': token! })).status).toBe(200);
    expect((await env.api('GET', `/v1.0/${project}/zone-profiles/none`, undefined, { 'X-Auth-Token': token! })).status).toBe(404);
  }
  expect((await env.api('GET', '/v1.0/admin/zone-profiles', undefined, { 'X-Auth-Token': 'tok-admin' })).status).toBe(200);
  expect((await env.api('GET', '/v1.0/admin/zone-profiles/none', undefined, { 'X-Auth-Token': 'tok-admin' })).status).toBe(404);
});

test("project B, with its own token, cannot tell project A's instance exists", async () => {
  for (const [method, p, body] of routes(id).filter(([, p]) => p.includes(id))) {
    const res = await env.api(method, p.replace('/proj-a/', '/proj-b/'), body, { 'X-Auth-Token': 'tok-b' });
    expect({ method, p, status: res.status }).toEqual({ method, p, status: 404 });
  }
});

test('flavors and datastores are the deployment\'s: each project reads the same with its own token, and what is not there is 404 for all', async () => {
  for (const [method, p] of catalogRoutes) {
    const a = await env.api(method, `/v1.0/proj-a${p}`);
    const b = await env.api(method, `/v1.0/proj-b${p}`, undefined, { 'X-Auth-Token': 'tok-b' });
    expect({ p, a: a.status, b: b.status }).toEqual({ p, a: 200, b: 200 });
    // Only the links differ: each names the project it was asked in.
    expect(JSON.stringify(b.body).split('/proj-b/').join('/proj-a/')).toEqual(JSON.stringify(a.body));
  }
  for (const p of ['/flavors/999', '/datastores/postgresql', '/datastores/mariadb/versions/8.0', '/datastores/versions/00000000-0000-4000-8000-000000000000']) {
    const res = await env.api('GET', `/v1.0/proj-b${p}`, undefined, { 'X-Auth-Token': 'tok-b' });
    expect({ p, status: res.status }).toEqual({ p, status: 404 });
  }
});
