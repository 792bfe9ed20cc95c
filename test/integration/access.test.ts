// Databases and users through the REST API, checked in the instance's real MariaDB: a user
// made through the API logs in with its password and sees what it was granted, a revoked
// grant is gone, a changed password works and the old one does not, deleted users and
// databases are gone; a replica refuses changes and lists what replicated from its source;
// bad input is refused, naming what is wrong, and changes nothing. One stack for the file.
import { createConnection } from 'mysql2/promise';
import { MONITOR_USER } from '../../lib/names';
import { historyText } from '../helpers/histories';
import { adminQuery } from '../helpers/mysql';
import { eventually, startTestStack, type TestStack, waitForStatus as waitForStatusOf } from '../helpers/stack';

let env: TestStack;
let id: string;
let address: string;
let serverId: string;
beforeAll(async () => {
  env = await startTestStack();
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'acl', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: 'app', password: 'app-pass-1', databases: [{ name: 'shop' }] }] },
  });
  id = created.body.instance.id;
  const shown = await waitForStatusOf(env, id, 'ACTIVE', 240_000);
  address = shown.ip[0];
  serverId = (await env.registry!.instances.get(id))!.novaServerId!;
}, 300_000);
afterAll(async () => {
  await env?.stop();
});

const at = (p = '') => `/v1.0/proj-a/instances/${id}${p}`;

/** Databases as `user` sees them over the network, or the error MariaDB answers. */
async function login(user: string, password: string, host = address): Promise<string[] | Error> {
  try {
    const c = await createConnection({ host, port: 3306, user, password });
    try {
      const [rows] = await c.query('SHOW DATABASES');
      return (rows as { Database: string }[]).map((r) => r.Database).filter((db) => db !== 'information_schema');
    } finally {
      await c.end();
    }
  } catch (err) {
    return err as Error;
  }
}

const accounts = async (server = serverId) =>
  (await adminQuery<{ u: string }>(env.dataDir, server, "SELECT CONCAT(User, '@', Host) AS u FROM mysql.user ORDER BY 1")).map((r) => r.u);
const databases = async (server = serverId) => (await adminQuery<{ Database: string }>(env.dataDir, server, 'SHOW DATABASES')).map((r) => r.Database);

test('databases: create (with a character set), list without the system\'s own, delete', async () => {
  expect(await env.api('POST', at('/databases'), { databases: [{ name: 'sales', character_set: 'utf8mb4', collate: 'utf8mb4_unicode_ci' }, { name: 'scratch' }] })).toMatchObject({ status: 202 });
  expect(await env.api('GET', at('/databases'))).toEqual({ status: 200, body: { databases: [{ name: 'sales' }, { name: 'scratch' }, { name: 'shop' }] } });
  const [sales] = await adminQuery(env.dataDir, serverId, "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS col FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'sales'");
  expect(sales).toEqual({ cs: 'utf8mb4', col: 'utf8mb4_unicode_ci' });
  // By the instance's name too, as the client may address it.
  expect((await env.api('GET', '/v1.0/proj-a/instances/acl/databases')).body.databases).toHaveLength(3);

  expect((await env.api('DELETE', at('/databases/scratch'))).status).toBe(202);
  expect(await databases()).not.toContain('scratch');
  expect(await env.api('DELETE', at('/databases/scratch'))).toMatchObject({ status: 404, body: { itemNotFound: { message: 'Database scratch cannot be found on the instance.' } } });
});

test('users: a created user logs in and sees its grants; grant, revoke, passwords, rename and delete take effect in MariaDB', async () => {
  const created = await env.api('POST', at('/users'), {
    users: [
      { name: 'rep', password: 'rep-pass-1', databases: [{ name: 'sales' }] },
      { name: 'ro', password: 'ro-pass-1', host: '10.9.9.%' },
    ],
  });
  expect(created.status).toBe(202);
  const list = await env.api('GET', at('/users'));
  expect(list).toEqual({
    status: 200,
    body: {
      users: [
        { name: 'app', host: '%', databases: [{ name: 'shop' }] },
        { name: 'rep', host: '%', databases: [{ name: 'sales' }] },
        { name: 'ro', host: '10.9.9.%', databases: [] },
      ],
    },
  });
  expect(await accounts()).toEqual(expect.arrayContaining(['rep@%', 'ro@10.9.9.%', 'root@localhost', 'os_admin@localhost']));
  expect(await login('rep', 'rep-pass-1')).toEqual(['sales']);

  // As troveclient quotes user@host: "@" as %40, "%" as %25, "." as %2e.
  expect(await env.api('GET', at('/users/ro%4010%2e9%2e9%2e%25'))).toEqual({ status: 200, body: { user: { name: 'ro', host: '10.9.9.%', databases: [] } } });
  expect(await env.api('GET', at('/users/rep'))).toEqual({ status: 200, body: { user: { name: 'rep', host: '%', databases: [{ name: 'sales' }] } } });

  expect((await env.api('PUT', at('/users/rep/databases'), { databases: [{ name: 'shop' }] })).status).toBe(202);
  expect(await env.api('GET', at('/users/rep%40%25/databases'))).toEqual({ status: 200, body: { databases: [{ name: 'sales' }, { name: 'shop' }] } });
  expect(await login('rep', 'rep-pass-1')).toEqual(['sales', 'shop']);

  expect((await env.api('DELETE', at('/users/rep/databases/sales'))).status).toBe(202);
  expect(await login('rep', 'rep-pass-1')).toEqual(['shop']);
  expect((await env.api('GET', at('/users/rep/databases'))).body).toEqual({ databases: [{ name: 'shop' }] });

  expect((await env.api('PUT', at('/users'), { users: [{ name: 'rep', password: 'rep-pass-2' }] })).status).toBe(202);
  expect(await login('rep', 'rep-pass-2')).toEqual(['shop']);
  expect(await login('rep', 'rep-pass-1')).toMatchObject({ message: expect.stringMatching(/Access denied/) });

  // update-attributes: a new name and password in one; the grants go with the account.
  expect((await env.api('PUT', at('/users/rep'), { user: { name: 'rep2', password: 'rep-pass-3' } })).status).toBe(202);
  expect((await env.api('GET', at('/users/rep'))).status).toBe(404);
  expect((await env.api('GET', at('/users/rep2'))).body).toEqual({ user: { name: 'rep2', host: '%', databases: [{ name: 'shop' }] } });
  expect(await login('rep2', 'rep-pass-3')).toEqual(['shop']);
  expect(await login('rep', 'rep-pass-2')).toBeInstanceOf(Error);

  expect((await env.api('DELETE', at('/users/rep2'))).status).toBe(202);
  expect(await login('rep2', 'rep-pass-3')).toMatchObject({ message: expect.stringMatching(/Access denied/) });
  expect(await accounts()).not.toContain('rep2@%');
  expect((await env.api('GET', at('/users'))).body.users.map((u: { name: string }) => u.name)).toEqual(['app', 'ro']);

  // No password in any of these operations' histories: they entered Temporal sealed.
  const runs: string[] = [];
  for await (const w of env.temporal.workflow.list({ query: "WorkflowType = 'manageAccess'" })) runs.push(w.workflowId);
  expect(runs.length).toBeGreaterThan(5);
  for (const run of runs) {
    const text = await historyText(env.temporal, run);
    for (const secret of ['rep-pass-1', 'rep-pass-2', 'rep-pass-3', 'ro-pass-1']) expect({ run, leaked: text.includes(secret) }).toEqual({ run, leaked: false });
  }
});

test('lists are paged as Trove pages them: at most limit, and a next link with the marker', async () => {
  expect((await env.api('POST', at('/databases'), { databases: ['p1', 'p2', 'p3'].map((name) => ({ name })) })).status).toBe(202);
  const first = await env.api('GET', at('/databases?limit=2'));
  expect(first.body.databases).toEqual([{ name: 'p1' }, { name: 'p2' }]);
  expect(first.body.links).toEqual([{ rel: 'next', href: expect.stringContaining('marker=p2') }]);
  const next = new URL(first.body.links[0].href);
  const second = await env.api('GET', `${next.pathname}${next.search}`);
  expect(second.body.databases).toEqual([{ name: 'p3' }, { name: 'sales' }]);
  const users = await env.api('GET', at('/users?limit=1'));
  expect(users.body).toEqual({ users: [{ name: 'app', host: '%', databases: [{ name: 'shop' }] }], links: [{ rel: 'next', href: expect.stringContaining('marker=app%40%25') }] });
  expect((await env.api('GET', at('/users?marker=app%40%25'))).body.users.map((u: { name: string }) => u.name)).toEqual(['ro']);
});

test.each<[string, string, string, unknown, number, RegExp]>([
  ['a database name with a backtick', 'POST', '/databases', { databases: [{ name: 'a`b' }] }, 400, /databases\[0\]\.name: must match/],
  ['a reserved database', 'POST', '/databases', { databases: [{ name: 'mysql' }] }, 400, /databases\[0\]\.name: database "mysql" is reserved/],
  ['an unknown character set', 'POST', '/databases', { databases: [{ name: 'x1', character_set: 'klingon' }] }, 400, /databases\[0\]\.character_set: "klingon" is not a character set/],
  ['deleting a reserved database', 'DELETE', '/databases/mysql', undefined, 400, /database "mysql" is reserved/],
  ['deleting a database that is not there', 'DELETE', '/databases/nope', undefined, 404, /Database nope cannot be found/],
  ['a user name with a quote', 'POST', '/users', { users: [{ name: "x'y", password: 'p' }] }, 400, /users\[0\]\.name: must match/],
  ['a user without a password', 'POST', '/users', { users: [{ name: 'x1' }] }, 400, /users\[0\]\.password/],
  ['root', 'POST', '/users', { users: [{ name: 'root', password: 'p' }] }, 400, /users\[0\]\.name: user "root" is reserved/],
  ['the agent\'s admin', 'POST', '/users', { users: [{ name: 'os_admin', password: 'p' }] }, 400, /user "os_admin" is reserved/],
  ['a replication account', 'POST', '/users', { users: [{ name: 'repl_0123', password: 'p' }] }, 400, /user "repl_0123" is reserved/],
  ['a user granted a database that is not there', 'POST', '/users', { users: [{ name: 'x1', password: 'p', databases: [{ name: 'nope' }] }] }, 400, /users\[0\]\.databases: database "nope" does not exist on the instance/],
  ['a user that exists', 'POST', '/users', { users: [{ name: 'app', password: 'p' }] }, 400, /a user with the name "app" and host "%" already exists/],
  ['granting a database that is not there', 'PUT', '/users/app/databases', { databases: [{ name: 'shop' }, { name: 'nope' }] }, 400, /databases: "nope" does not exist on the instance/],
  ['granting to a user that does not exist', 'PUT', '/users/ghost/databases', { databases: [{ name: 'shop' }] }, 404, /User ghost@% cannot be found on the instance/],
  ['revoking what is not granted', 'DELETE', '/users/app/databases/sales', undefined, 404, /Database sales cannot be found in the access of user app@%/],
  ['showing a user that does not exist', 'GET', '/users/ghost', undefined, 404, /User ghost@% cannot be found/],
  ['showing root', 'GET', '/users/root', undefined, 400, /user "root" is reserved/],
  ['showing a user at localhost', 'GET', '/users/app@localhost', undefined, 400, /host "localhost" is reserved/],
  ['deleting a user that does not exist', 'DELETE', '/users/ghost', undefined, 404, /User ghost@%/],
  ['a new password for a user that does not exist', 'PUT', '/users', { users: [{ name: 'ghost', password: 'p' }] }, 404, /User ghost@%/],
  ['renaming onto root', 'PUT', '/users/app', { user: { name: 'root' } }, 400, /user\.name: user "root" is reserved/],
  ['an update that changes nothing', 'PUT', '/users/app', { user: {} }, 400, /give at least one of name, host, password/],
  ['a bad page size', 'GET', '/users?limit=0', undefined, 400, /limit: must be at least 1/],
])('%s is refused (%s %s) and changes nothing', async (_label, method, p, body, status, message) => {
  const before = { accounts: await accounts(), databases: await databases() };
  const res = await env.api(method, at(p), body);
  expect(res.status).toBe(status);
  const error = res.body[status === 404 ? 'itemNotFound' : 'badRequest'];
  expect(error).toMatchObject({ code: status });
  expect(error.message).toMatch(message);
  expect({ accounts: await accounts(), databases: await databases() }).toEqual(before);
  expect(await login('app', 'app-pass-1')).toEqual(['shop']);
});

test('an instance that does not exist is a 404', async () => {
  expect((await env.api('GET', '/v1.0/proj-a/instances/00000000-0000-4000-8000-000000000000/users')).status).toBe(404);
  expect((await env.api('POST', '/v1.0/proj-a/instances/nope/databases', { databases: [{ name: 'x' }] })).status).toBe(404);
});

test('a replica refuses changes (they replicate from its source) and lists what replicated', async () => {
  const rep = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'acl-r', replica_of: id } });
  expect(rep.status).toBe(202);
  const replicaId = rep.body.instance.id as string;
  const replica = await waitForStatusOf(env, replicaId, 'ACTIVE', 240_000);
  const replicaServer = (await env.registry!.instances.get(replicaId))!.novaServerId!;
  const onReplica = (p = '') => `/v1.0/proj-a/instances/${replicaId}${p}`;

  // Made on the source after the replica was built: it comes by replication.
  expect((await env.api('POST', at('/databases'), { databases: [{ name: 'late' }] })).status).toBe(202);
  expect((await env.api('POST', at('/users'), { users: [{ name: 'late', password: 'late-pass-1', databases: [{ name: 'late' }] }] })).status).toBe(202);
  const sourceDbs = (await env.api('GET', at('/databases'))).body.databases;
  const sourceUsers = (await env.api('GET', at('/users'))).body.users;
  await eventually('the replica lists what its source has', async () => {
    const [dbs, users] = await Promise.all([env.api('GET', onReplica('/databases')), env.api('GET', onReplica('/users'))]);
    return JSON.stringify(dbs.body.databases) === JSON.stringify(sourceDbs) && JSON.stringify(users.body.users) === JSON.stringify(sourceUsers);
  }, 60_000);
  expect(await login('late', 'late-pass-1', replica.ip[0])).toEqual(['late']);

  // The watch makes the replica's own monitoring account a moment after the build (not through the API): in place before the snapshot.
  await eventually("the replica's monitoring account made", async () => (await accounts(replicaServer)).includes(`${MONITOR_USER}@%`), 60_000);
  const before = { accounts: await accounts(replicaServer), databases: await databases(replicaServer) };
  for (const [method, p, body] of [
    ['POST', '/databases', { databases: [{ name: 'x' }] }],
    ['DELETE', '/databases/late', undefined],
    ['POST', '/users', { users: [{ name: 'x', password: 'p' }] }],
    ['PUT', '/users', { users: [{ name: 'late', password: 'p' }] }],
    ['PUT', '/users/late', { user: { password: 'p' } }],
    ['DELETE', '/users/late', undefined],
    ['PUT', '/users/late/databases', { databases: [{ name: 'shop' }] }],
    ['DELETE', '/users/late/databases/late', undefined],
  ] as [string, string, unknown][]) {
    const res = await env.api(method, onReplica(p), body);
    expect({ method, p, status: res.status }).toEqual({ method, p, status: 400 });
    expect(res.body.badRequest.message).toContain(`is a read replica of ${id}: its users and databases replicate from its source; make the change on ${id}`);
  }
  expect({ accounts: await accounts(replicaServer), databases: await databases(replicaServer) }).toEqual(before);
});
