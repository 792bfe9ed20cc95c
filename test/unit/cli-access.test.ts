// The trove CLI's database and user commands, in-process against a stub of the API: the
// paths and bodies troveclient would send (user@host quoted as it quotes them), lists
// followed page by page, and the API's refusals printed as errors.
import { json, runTrove, tables } from '../helpers/cli';

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

function stub(answers: Record<string, Response | (() => Response)> = {}) {
  const calls: Call[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url);
    const path = `${u.pathname}${u.search}`;
    const method = init?.method ?? 'GET';
    calls.push({ method, path, ...(init?.body ? { body: JSON.parse(String(init.body)) } : {}) });
    const a = answers[`${method} ${path}`];
    return a ? (typeof a === 'function' ? a() : a) : new Response(null, { status: 202 });
  };
  return { calls, fetch };
}

const base = '/v1.0/proj/instances/db1';

test('database-create, -delete and user-create send what troveclient sends', async () => {
  const s = stub();
  expect((await runTrove(s.fetch, ['database-create', 'db1', 'sales', '--character_set', 'utf8mb4', '--collate', 'utf8mb4_bin'])).code).toBe(0);
  expect((await runTrove(s.fetch, ['database-delete', 'db1', 'sales'])).code).toBe(0);
  const created = await runTrove(s.fetch, ['user-create', 'db1', 'app', 's3cret', '--host', '10.0.0.%', '--databases', 'sales', '--databases', 'shop']);
  expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining('User app created') });
  expect(created.stdout).not.toContain('s3cret');
  expect(s.calls).toEqual([
    { method: 'POST', path: `${base}/databases`, body: { databases: [{ name: 'sales', character_set: 'utf8mb4', collate: 'utf8mb4_bin' }] } },
    { method: 'DELETE', path: `${base}/databases/sales` },
    { method: 'POST', path: `${base}/users`, body: { users: [{ name: 'app', password: 's3cret', databases: [{ name: 'sales' }, { name: 'shop' }], host: '10.0.0.%' }] } },
  ]);
});

test('user commands quote user@host as troveclient does', async () => {
  const s = stub({ [`GET ${base}/users/app%4010%2e0%2e0%2e%25`]: json(200, { user: { name: 'app', host: '10.0.0.%', databases: [{ name: 'shop' }] } }) });
  const shown = await runTrove(s.fetch, ['user-show', 'db1', 'app', '--host', '10.0.0.%']);
  expect(shown.code).toBe(0);
  expect(tables(shown.stdout)[0]).toEqual({ name: 'app', host: '10.0.0.%', databases: 'shop' });
  await runTrove(s.fetch, ['user-grant-access', 'db1', 'app', 'a', 'b']);
  await runTrove(s.fetch, ['user-revoke-access', 'db1', 'app', 'a', '--host', '%']);
  await runTrove(s.fetch, ['user-update-attributes', 'db1', 'app', '--new_name', 'app2', '--new_password', 'p2']);
  await runTrove(s.fetch, ['user-delete', 'db1', 'app']);
  expect(s.calls.slice(1)).toEqual([
    { method: 'PUT', path: `${base}/users/app/databases`, body: { databases: [{ name: 'a' }, { name: 'b' }] } },
    { method: 'DELETE', path: `${base}/users/app%40%25/databases/a` },
    { method: 'PUT', path: `${base}/users/app`, body: { user: { name: 'app2', password: 'p2' } } },
    { method: 'DELETE', path: `${base}/users/app` },
  ]);
});

test('lists follow the next links to the end', async () => {
  const s = stub({
    [`GET ${base}/users`]: json(200, { users: [{ name: 'a', host: '%', databases: [{ name: 'x' }, { name: 'y' }] }], links: [{ rel: 'next', href: `http://api.test:8779${base}/users?marker=a%40%25` }] }),
    [`GET ${base}/users?marker=a%40%25`]: json(200, { users: [{ name: 'b', host: '10.%', databases: [] }] }),
    [`GET ${base}/databases`]: json(200, { databases: [{ name: 'x' }, { name: 'y' }] }),
  });
  const users = await runTrove(s.fetch, ['user-list', 'db1']);
  expect(users.code).toBe(0);
  expect(users.stdout).toMatch(/│ a\s+│ %\s+│ x, y\s+│/);
  expect(users.stdout).toMatch(/│ b\s+│ 10\.%\s+│\s+│/);
  const dbs = await runTrove(s.fetch, ['database-list', 'db1', '--json']);
  expect(JSON.parse(dbs.stdout)).toEqual({ databases: [{ name: 'x' }, { name: 'y' }] });
});

test('a refusal is printed as the API says it, exit 1', async () => {
  const s = stub({ [`GET ${base}/users/ghost`]: json(404, { itemNotFound: { code: 404, message: 'User ghost@% cannot be found on the instance.' } }) });
  const r = await runTrove(s.fetch, ['user-show', 'db1', 'ghost']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/User ghost@% cannot be found on the instance\./);
});
