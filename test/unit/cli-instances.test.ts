// The trove CLI run in-process against an in-memory stub of the REST API.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run, type CliIo } from '../../cli/main';
import { json, runTrove } from '../helpers/cli';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type View = Record<string, unknown> & { id: string; name: string; status: string };

function view(id: string, name: string, extra: Record<string, unknown> = {}): View {
  return {
    id,
    name,
    status: 'ACTIVE',
    flavor: { id: '1', links: [] },
    volume: { size: 1 },
    datastore: { type: 'mariadb', version: '10.11' },
    ip: ['127.0.1.1'],
    port: 3306,
    availability_zone: 'az1',
    created: '2024-01-01T00:00:00.000Z',
    updated: '2024-01-01T00:00:00.000Z',
    links: [{ rel: 'self', href: 'http://x' }],
    ...extra,
  };
}


/** A tiny Trove API: instances by id or name, plus scripted GET answers for --wait. */
class FakeApi {
  calls: Call[] = [];
  instances = new Map<string, View>();
  /** Per id: what successive GETs answer (a view, or a status code for an error). */
  script = new Map<string, (View | number)[]>();
  createAnswer?: (body: { instance: Record<string, unknown> }) => Response;

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const headers = { ...(init?.headers as Record<string, string>) };
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const method = init?.method ?? 'GET';
    this.calls.push({ method, url, headers, body });
    if (headers['X-Auth-Token'] !== 'tok') return json(401, { unauthorized: { code: 401, message: 'a valid X-Auth-Token header is required' } });
    const path = new URL(url).pathname;
    const m = /^\/v1\.0\/proj\/instances(?:\/([^/]+))?$/.exec(path);
    if (!m) return json(404, { itemNotFound: { code: 404, message: `no route ${path}` } });
    const ref = m[1] && decodeURIComponent(m[1]);
    if (!ref && method === 'POST') {
      if (this.createAnswer) return this.createAnswer(body);
      const v = view('new-id', body.instance.name, { status: 'BUILD', operation: { id: 'op', type: 'provisionInstance' } });
      this.instances.set(v.id, v);
      return json(202, { instance: v });
    }
    if (!ref) return json(200, { instances: [...this.instances.values()] });
    const found = this.instances.get(ref) ?? [...this.instances.values()].find((v) => v.name === ref);
    if (method === 'GET') {
      const step = this.script.get(ref)?.shift();
      if (typeof step === 'number') return json(step, { itemNotFound: { code: step, message: `instance ${ref} not found` } });
      if (step) return json(200, { instance: step });
    }
    if (!found) return json(404, { itemNotFound: { code: 404, message: `instance ${ref} not found` } });
    if (method === 'DELETE') return json(202);
    return json(200, { instance: found });
  };
}

// The trailing slash checks that the CLI joins URLs without doubling it.
const trove = (api: FakeApi | CliIo['fetch'], ...argv: string[]) => runTrove(api instanceof FakeApi ? api.fetch : api, argv, { TROVE_URL: 'http://api.test:8779/' });

describe('trove create', () => {
  it('sends databases, users with access to them, size and zone, with auth headers', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'create', 'db-one', '1', '--size', '2', '--databases', 'db1', 'db2', '--users', 'alice:pa:ss', 'bob:pw', '--availability_zone', 'az1');
    expect(r.code).toBe(0);
    expect(api.calls).toHaveLength(1);
    const [call] = api.calls;
    expect(call.method).toBe('POST');
    expect(call.url).toBe('http://api.test:8779/v1.0/proj/instances');
    expect(call.headers['X-Auth-Token']).toBe('tok');
    expect(call.headers['Content-Type']).toBe('application/json');
    const dbs = [{ name: 'db1' }, { name: 'db2' }];
    expect(call.body).toEqual({
      instance: {
        name: 'db-one',
        flavorRef: '1',
        volume: { size: 2 },
        availability_zone: 'az1',
        databases: dbs,
        users: [
          { name: 'alice', password: 'pa:ss', databases: dbs },
          { name: 'bob', password: 'pw', databases: dbs },
        ],
      },
    });
    expect(r.stdout).toMatch(/Property\s*│\s*Value/);
    expect(r.stdout).toMatch(/status\s*│\s*BUILD/);
    expect(r.stdout).toMatch(/operation\s*│\s*provisionInstance/);
  });

  it('--json prints only the instance JSON', async () => {
    const r = await trove(new FakeApi(), 'create', 'db-one', '1', '--size', '1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'new-id', name: 'db-one', status: 'BUILD' });
  });

  it('an API 400 prints ERROR: <message> and exits 1', async () => {
    const api = new FakeApi();
    api.createAnswer = () => json(400, { badRequest: { code: 400, message: 'invalid request: instance.name: must match ^[a-z]+$' } });
    const r = await trove(api, 'create', 'BAD', '1', '--size', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ERROR: invalid request: instance.name: must match ^[a-z]+$\n');
    expect(r.stdout).toBe('');
  });

  it('--wait prints status/phase changes and exits 0 on ACTIVE with the final table', async () => {
    const api = new FakeApi();
    const build = (phase: string) => view('new-id', 'db-one', { status: 'BUILD', operation: { id: 'op', type: 'provisionInstance', phase } });
    api.script.set('new-id', [build('creating server'), build('creating server'), 503, build('preparing datastore'), view('new-id', 'db-one')]);
    const r = await trove(api, 'create', 'db-one', '1', '--size', '1', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual(['BUILD', 'BUILD: creating server', '(retrying) instance new-id not found', 'BUILD: preparing datastore', 'ACTIVE']);
    expect(r.stdout).toMatch(/status\s*│\s*ACTIVE/);
  });

  it('--wait exits 1 with the fault message on ERROR', async () => {
    const api = new FakeApi();
    api.script.set('new-id', [view('new-id', 'db-one', { status: 'ERROR', fault: { message: 'nova: no host in az1' } })]);
    const r = await trove(api, 'create', 'db-one', '1', '--size', '1', '--wait', '--json', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: nova: no host in az1');
    expect(r.stdout).toBe('');
  });

  it('--wait gives up after --timeout', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'create', 'db-one', '1', '--size', '1', '--wait', '--timeout', '0.05');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERROR: timed out after 0.05s waiting for instance new-id \(last seen BUILD\)/);
  });
});

describe('trove show / list / delete', () => {
  it('show prints a Property/Value table, sorted, with compact nested fields and extra fields', async () => {
    const api = new FakeApi();
    api.instances.set('i-1', view('i-1', 'alpha', { replica_of: { id: 'i-0', links: [] }, operation: { id: 'op', type: 'attachReplica', phase: 'syncing' } }));
    const r = await trove(api, 'show', 'alpha');
    expect(r.code).toBe(0);
    expect(api.calls[0].url).toBe('http://api.test:8779/v1.0/proj/instances/alpha');
    const props = r.stdout
      .split('\n')
      .map((l) => /^│ (\S+)\s*│ (.*?)\s*│$/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => [m[1], m[2]]);
    expect(props[0]).toEqual(['Property', 'Value']);
    const rows = Object.fromEntries(props.slice(1));
    expect(rows).toMatchObject({ id: 'i-1', status: 'ACTIVE', flavor: '1', volume: '1', datastore: 'mariadb', datastore_version: '10.11', ip: '127.0.1.1', replica_of: 'i-0', operation: 'attachReplica (syncing)' });
    expect(rows.links).toBeUndefined();
    const keys = props.slice(1).map((p) => p[0]);
    expect(keys).toEqual([...keys].sort());
  });

  it('show of an unknown instance prints the 404 message and exits 1', async () => {
    const r = await trove(new FakeApi(), 'show', 'nope');
    expect(r).toMatchObject({ code: 1, stderr: 'ERROR: instance nope not found\n' });
  });

  it('list prints the columns including Role', async () => {
    const api = new FakeApi();
    api.instances.set('p', view('p', 'primary-db', { replicas: [{ id: 'r', links: [] }] }));
    api.instances.set('r', view('r', 'replica-db', { replica_of: { id: 'p', links: [] } }));
    api.instances.set('s', view('s', 'solo-db', { status: 'BUILD' }));
    const r = await trove(api, 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ID\s*│ Name\s*│ Datastore\s*│ Datastore Version │ Status\s*│ Flavor ID │ Size │ Role/);
    expect(r.stdout).toMatch(/p\s*│ primary-db\s*│ mariadb\s*│ 10.11\s*│ ACTIVE\s*│ 1\s*│ 1\s*│ primary/);
    expect(r.stdout).toMatch(/r\s*│ replica-db.*│ replica/);
    expect(r.stdout).toMatch(/s\s*│ solo-db.*│ BUILD\s*│ 1\s*│ 1\s*│\s+│/);
    const j = await trove(api, 'list', '--json');
    expect(JSON.parse(j.stdout).map((v: View) => v.id)).toEqual(['p', 'r', 's']);
  });

  it('delete --wait resolves the name, follows until 404 and exits 0', async () => {
    const api = new FakeApi();
    api.instances.set('i-1', view('i-1', 'alpha'));
    const shut = view('i-1', 'alpha', { status: 'SHUTDOWN', operation: { id: 'd', type: 'deleteInstance', phase: 'deleting server' } });
    api.script.set('i-1', [shut, 404]);
    const r = await trove(api, 'delete', 'alpha', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'GET /v1.0/proj/instances/alpha',
      'DELETE /v1.0/proj/instances/i-1',
      'GET /v1.0/proj/instances/i-1',
      'GET /v1.0/proj/instances/i-1',
    ]);
    expect(api.calls[1].headers['Content-Type']).toBeUndefined();
    expect(r.stdout).toContain('Request to delete instance alpha has been accepted.');
    expect(r.stderr).toBe('SHUTDOWN: deleting server\ninstance alpha deleted\n');
  });

  it('delete --wait exits 1 when the instance goes to ERROR', async () => {
    const api = new FakeApi();
    api.instances.set('i-1', view('i-1', 'alpha'));
    // The first GET resolves the reference; the wait's poll then sees the failure.
    api.script.set('i-1', [view('i-1', 'alpha'), view('i-1', 'alpha', { status: 'ERROR', fault: { message: 'volume detach failed' } })]);
    const r = await trove(api, 'delete', 'i-1', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: volume detach failed');
  });
});

describe('usage errors exit 2 naming the argument', () => {
  it.each([
    [['create', 'x', '1'], /required option '--size <GB>' not specified/],
    [['create', 'x', '1', '--size', 'abc'], /option '--size <GB>' argument 'abc' is invalid/],
    [['create', 'x', '1', '--size', '0'], /'--size <GB>' argument '0' is invalid. size must be at least 1/],
    [['create', 'x', '1', '--size', '1', '--users', 'nopassword'], /option '--users <USER:PASS\.\.\.>' argument 'nopassword' is invalid/],
    [['create', 'x', '1', '--size', '1', '--users', ':pw'], /argument ':pw' is invalid/],
    [['create', 'x', '--size', '1'], /missing required argument 'flavor'/],
    [['create', 'x', '1', '--size', '1', '--timeout', 'soon'], /'--timeout <seconds>' argument 'soon' is invalid/],
    [['bogus'], /unknown command 'bogus'/],
    [['list', '--bogus'], /unknown option '--bogus'/],
    [[], /Usage: trove/],
  ])('trove %j', async (argv, message) => {
    const api = new FakeApi();
    const r = await trove(api, ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(api.calls).toHaveLength(0);
  });

  it('help and --help exit 0', async () => {
    for (const argv of [['help'], ['--help'], ['help', 'create'], ['create', '--help']]) {
      const r = await trove(new FakeApi(), ...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: trove/);
    }
  });
});

describe('connection problems', () => {
  it('connection refused names the URL and suggests npm start (real fetch, closed port)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    let stderr = '';
    const code = await run(['list'], {
      env: { TROVE_URL: `http://127.0.0.1:${port}` },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      fetch: (url, init) => fetch(url, init),
    });
    expect(code).toBe(1);
    expect(stderr).toBe(`ERROR: cannot reach the Trove API at http://127.0.0.1:${port} (is npm start running?)\n`);
  });

  it('uses the default URL, token and project', async () => {
    const seen: { url: string; token?: string }[] = [];
    const code = await run(['list', '--json'], {
      env: {},
      stdout: () => {},
      stderr: () => {},
      fetch: async (url, init) => {
        seen.push({ url, token: (init?.headers as Record<string, string>)['X-Auth-Token'] });
        return json(200, { instances: [] });
      },
    });
    expect(code).toBe(0);
    expect(seen).toEqual([{ url: 'http://127.0.0.1:8779/v1.0/demo/instances', token: 'trove-local-token' }]);
  });
});
