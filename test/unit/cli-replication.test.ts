// The trove CLI's replication commands run in-process against an in-memory stub of the API.
import { json, ref, runTrove, tables } from '../helpers/cli';

interface Call {
  method: string;
  path: string;
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
    links: [],
    replicates_from: [],
    replicates_to: [],
    writable: true,
    ...extra,
  };
}



/** Replicas the way the API names them: <name>-1, <name>-2... or <name> when only one is asked for by name. */
function replicaViews(source: string, name: string | undefined, count: number): View[] {
  const base = name ?? `${source}-replica`;
  return Array.from({ length: count }, (_, i) => {
    const n = count === 1 && name ? base : `${base}-${i + 1}`;
    return view(`rid-${i + 1}`, n, { status: 'BUILD', replica_of: ref('src-id'), replicates_from: ['src-id'], writable: false, operation: { id: 'op-1', type: 'createReplicas' } });
  });
}

/** The replication routes of a tiny Trove API, plus scripted GET answers for --wait. */
class FakeApi {
  calls: Call[] = [];
  instances = new Map<string, View>();
  /** Per id: what successive GETs answer (a view, or a status code for an error); the last one repeats. */
  script = new Map<string, (View | number)[]>();
  detachAnswer?: () => Response;

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const method = init?.method ?? 'GET';
    const path = new URL(url).pathname;
    this.calls.push({ method, path, body });
    const m = /^\/v1\.0\/proj\/instances(?:\/([^/]+))?(\/action|\/topology\/action)?$/.exec(path);
    if (!m) return json(404, { itemNotFound: { code: 404, message: `no route ${path}` } });
    const id = m[1] && decodeURIComponent(m[1]);
    const answer = (replicas: View[]) => json(202, { instance: replicas[replicas.length - 1], replicas, operation: { id: 'op-1', type: 'createReplicas' } });
    if (!id && method === 'POST') return answer(replicaViews('src', body.instance.name, body.instance.replica_count ?? 1));
    if (!id) return json(200, { instances: [...this.instances.values()] });
    if (m[2] === '/action') return answer(replicaViews('src', body.replicate.instance?.name, body.replicate.count));
    if (m[2] === '/topology/action') return this.detachAnswer?.() ?? json(202, { operation: { id: 'op-d', type: 'detachReplica' } });
    const steps = this.script.get(id);
    const step = steps && (steps.length > 1 ? steps.shift() : steps[0]);
    if (typeof step === 'number') return json(step, { itemNotFound: { code: step, message: `instance ${id} not found` } });
    if (step) return json(200, { instance: step });
    const found = this.instances.get(id) ?? [...this.instances.values()].find((v) => v.name === id);
    return found ? json(200, { instance: found }) : json(404, { itemNotFound: { code: 404, message: `instance ${id} not found` } });
  };

  posts = () => this.calls.filter((c) => c.method === 'POST');
}

const trove = (api: FakeApi, ...argv: string[]) => runTrove(api.fetch, argv);

const building = (id: string, name: string, phase: string) => view(id, name, { status: 'BUILD', replica_of: ref('src-id'), operation: { id: `b-${id}`, type: 'buildReplica', phase } });
const attaching = (id: string, name: string) => view(id, name, { replica_of: ref('src-id'), operation: { id: `b-${id}`, type: 'buildReplica', phase: 'attaching' } });
const replica = (id: string, name: string) => view(id, name, { replica_of: ref('src-id'), replicates_from: ['src-id'], writable: false });

describe('trove create --replica_of', () => {
  it('sends replica_of, replica_count, flavorRef, size and zone; prints the replicas and the operation', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'create', 'r', '2', '--size', '3', '--replica_of', 'src', '--replica_count', '2', '--availability_zone', 'az1');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([
      { method: 'POST', path: '/v1.0/proj/instances', body: { instance: { name: 'r', replica_of: 'src', replica_count: 2, flavorRef: '2', volume: { size: 3 }, availability_zone: 'az1' } } },
    ]);
    expect(r.stdout).toMatch(/ID\s*│ Name\s*│ Status/);
    expect(r.stdout).toMatch(/rid-1\s*│ r-1\s*│ BUILD/);
    expect(r.stdout).toMatch(/rid-2\s*│ r-2\s*│ BUILD/);
    expect(r.stdout).toContain('Operation: op-1 (createReplicas)');
  });

  it('--slave_of is an alias of --replica_of (sent as replica_of) and replica_count defaults to the API', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'create', 'r', '1', '--size', '1', '--slave_of', 'src');
    expect(r.code).toBe(0);
    expect(api.calls[0]!.body).toEqual({ instance: { name: 'r', replica_of: 'src', flavorRef: '1', volume: { size: 1 } } });
  });

  it('--wait --json waits for every replica and prints the array of final views', async () => {
    const api = new FakeApi();
    api.script.set('rid-1', [building('rid-1', 'r-1', 'creating server'), replica('rid-1', 'r-1')]);
    api.script.set('rid-2', [attaching('rid-2', 'r-2'), replica('rid-2', 'r-2')]);
    const r = await trove(api, 'create', 'r', '1', '--size', '1', '--replica_of', 'src', '--replica_count', '2', '--wait', '--json', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((v: View) => [v.id, v.status, v.operation])).toEqual([
      ['rid-1', 'ACTIVE', undefined],
      ['rid-2', 'ACTIVE', undefined],
    ]);
  });
});

describe('trove replicate', () => {
  it('sends the replicate action with read_only true by default and prints the replicas', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replicate', 'src', '2');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/src/action', body: { replicate: { count: 2, instance: {}, topology: { read_only: true } } } }]);
    expect(r.stdout).toMatch(/rid-1\s*│ src-replica-1\s*│ BUILD/);
    expect(r.stdout).toMatch(/rid-2\s*│ src-replica-2\s*│ BUILD/);
    expect(r.stdout).toContain('Operation: op-1 (createReplicas)');
  });

  it.each([[['--read-only=false']], [['--read-only', 'false']], [['--read-only', 'FALSE']]])('%j sends read_only false', async (flag) => {
    const api = new FakeApi();
    const r = await trove(api, 'replicate', 'src', '1', ...flag);
    expect(r.code).toBe(0);
    expect((api.calls[0]!.body as { replicate: { topology: unknown } }).replicate.topology).toEqual({ read_only: false });
  });

  it('puts --name, --flavor, --size and --availability_zone in the instance template', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replicate', 'src', '1', '--name', 'ro', '--flavor', '3', '--size', '4', '--availability_zone', 'az2', '--read-only=true', '--json');
    expect(r.code).toBe(0);
    expect(api.calls[0]!.body).toEqual({ replicate: { count: 1, instance: { name: 'ro', flavorRef: '3', volume: { size: 4 }, availability_zone: 'az2' }, topology: { read_only: true } } });
    expect(JSON.parse(r.stdout)).toMatchObject({ replicas: [{ id: 'rid-1', name: 'ro' }], operation: { id: 'op-1' } });
  });

  it('--tls asks for TLS replication from the first replica on', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replicate', 'src', '1', '--tls');
    expect(r.code).toBe(0);
    expect(api.calls[0]!.body).toEqual({ replicate: { count: 1, instance: {}, topology: { read_only: true }, replication: { tls: true } } });
  });

  it('--wait exits 0 once every replica is ACTIVE with no operation, printing their tables', async () => {
    const api = new FakeApi();
    api.script.set('rid-1', [building('rid-1', 'src-replica-1', 'creating server'), attaching('rid-1', 'src-replica-1'), replica('rid-1', 'src-replica-1')]);
    api.script.set('rid-2', [building('rid-2', 'src-replica-2', 'restoring snapshot'), 503, replica('rid-2', 'src-replica-2')]);
    const r = await trove(api, 'replicate', 'src', '2', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('src-replica-1: '))).toEqual(['src-replica-1: BUILD', 'src-replica-1: BUILD: creating server', 'src-replica-1: ACTIVE: attaching', 'src-replica-1: ACTIVE']);
    expect(lines.filter((l) => l.startsWith('src-replica-2: '))).toEqual([
      'src-replica-2: BUILD',
      'src-replica-2: BUILD: restoring snapshot',
      'src-replica-2: (retrying) instance rid-2 not found',
      'src-replica-2: ACTIVE',
    ]);
    const shown = tables(r.stdout);
    expect(shown.map((t) => [t.id, t.status, t.replica_of, t.writable])).toEqual([
      ['rid-1', 'ACTIVE', 'src-id', 'false'],
      ['rid-2', 'ACTIVE', 'src-id', 'false'],
    ]);
  });

  it('--wait exits 1 naming the replica when one goes to ERROR, and stops polling the others', async () => {
    const api = new FakeApi();
    api.script.set('rid-1', [building('rid-1', 'src-replica-1', 'creating server')]);
    api.script.set('rid-2', [view('rid-2', 'src-replica-2', { status: 'ERROR', fault: { message: 'nova: no host in az1' } })]);
    const r = await trove(api, 'replicate', 'src', '2', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: replica src-replica-2: nova: no host in az1\n');
    expect(r.stdout).toBe('');
    const polls = api.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(api.calls.length).toBe(polls);
  });

  it('--wait exits 1 when a replica disappears', async () => {
    const api = new FakeApi();
    api.script.set('rid-1', [404]);
    const r = await trove(api, 'replicate', 'src', '1', '--name', 'ro', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: replica ro: instance rid-1 no longer exists');
  });
});

describe('trove detach_replication / detach-replica', () => {
  it.each(['detach_replication', 'detach-replica'])('%s posts {"detach": {}} to /topology/action', async (command) => {
    const api = new FakeApi();
    const r = await trove(api, command, 'r-1');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/r-1/topology/action', body: { detach: {} } }]);
    expect(r.stdout).toBe('Request to detach replica r-1 has been accepted (operation op-d).\n');
  });

  it('a 400 "not a replica" prints ERROR and exits 1', async () => {
    const api = new FakeApi();
    api.detachAnswer = () => json(400, { badRequest: { code: 400, message: 'invalid request: instance solo is not a replica; there is nothing to detach' } });
    const r = await trove(api, 'detach-replica', 'solo');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: invalid request: instance solo is not a replica; there is nothing to detach\n' });
  });

  it('a 409 names the running operation and exits 1', async () => {
    const api = new FakeApi();
    api.detachAnswer = () => json(409, { conflictingRequest: { code: 409, message: 'instance rid-1 is busy with operation b-rid-1 (buildReplica)' } });
    const r = await trove(api, 'detach_replication', 'rid-1');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ERROR: instance rid-1 is busy with operation b-rid-1 (buildReplica)\n');
  });

  it('--wait resolves the name, polls until no replica_of and no operation, then prints the table', async () => {
    const api = new FakeApi();
    const detaching = view('rid-1', 'r-1', { replica_of: ref('src-id'), operation: { id: 'op-d', type: 'detachReplica', phase: 'stopping replication' } });
    const stillOp = view('rid-1', 'r-1', { operation: { id: 'op-d', type: 'detachReplica', phase: 'making writable' } });
    // The name resolves through `instances`; the polls by id follow the script.
    api.instances.set('rid-1', replica('rid-1', 'r-1'));
    api.script.set('rid-1', [detaching, stillOp, view('rid-1', 'r-1')]);
    const r = await trove(api, 'detach_replication', 'r-1', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls.map((c) => `${c.method} ${c.path}`).slice(0, 3)).toEqual([
      'GET /v1.0/proj/instances/r-1',
      'POST /v1.0/proj/instances/rid-1/topology/action',
      'GET /v1.0/proj/instances/rid-1',
    ]);
    expect(r.stderr).toBe('ACTIVE: stopping replication\nACTIVE: making writable\nACTIVE\n');
    const [shown] = tables(r.stdout);
    expect(shown).toMatchObject({ id: 'rid-1', status: 'ACTIVE', writable: 'true' });
    expect(shown!.replica_of).toBeUndefined();
  });

  it('--wait exits 1 when the replica goes to ERROR', async () => {
    const api = new FakeApi();
    api.instances.set('rid-1', replica('rid-1', 'r-1'));
    api.script.set('rid-1', [replica('rid-1', 'r-1'), view('rid-1', 'r-1', { status: 'ERROR', replica_of: ref('src-id'), fault: { message: 'STOP SLAVE failed' } })]);
    const r = await trove(api, 'detach-replica', 'rid-1', '--wait', '--json', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: STOP SLAVE failed\n');
    expect(r.stdout).toBe('');
  });
});

describe('trove show / list with replication fields', () => {
  const topology = {
    members: [
      { id: 'src-id', name: 'src' },
      { id: 'rid-1', name: 'src-replica-1', mysql: { slave_of: [{ id: 'src-id' }], read_only: true } },
      { id: 'rid-2', name: 'src-replica-2', mysql: { slave_of: [{ id: 'src-id' }], read_only: true } },
    ],
  };

  it('show prints replica_of and replicas as ids, the replicates_* lists, writable, and the topology as a table of its own', async () => {
    const api = new FakeApi();
    api.instances.set('src-id', view('src-id', 'src', { replicas: [ref('rid-1'), ref('rid-2')], replicates_to: ['rid-1', 'rid-2'], topology }));
    api.instances.set('rid-1', view('rid-1', 'src-replica-1', { replica_of: ref('src-id'), replicates_from: ['src-id'], writable: false, topology }));
    const shown = (await trove(api, 'show', 'src')).stdout;
    const [properties, topologyTable] = shown.split('\nTopology: 3 members (* this instance)\n');
    const [src] = tables(properties!);
    expect(src).toMatchObject({ replicas: 'rid-1, rid-2', replicates_to: 'rid-1, rid-2', writable: 'true' });
    expect(src!.topology).toBeUndefined();
    expect(src!.replica_of).toBeUndefined();
    // Who replicates from whom, by name; the instance shown is starred.
    expect(topologyTable!.split('\n').filter((l) => l.startsWith('│'))).toEqual([
      expect.stringMatching(/^│ Member\s+│ ID\s+│ Role\s+│ Replicates from │$/),
      expect.stringMatching(/^│ src \*\s+│ src-id\s+│\s+│\s+│$/),
      expect.stringMatching(/^│ src-replica-1\s+│ rid-1\s+│\s+│ src\s+│$/),
      expect.stringMatching(/^│ src-replica-2\s+│ rid-2\s+│\s+│ src\s+│$/),
    ]);
    const r = await trove(api, 'show', 'src-replica-1');
    expect(r.code).toBe(0);
    expect(tables(r.stdout)[0]).toMatchObject({ replica_of: 'src-id', replicates_from: 'src-id', writable: 'false' });
    expect(r.stdout).not.toMatch(/[{"]/);
  });

  it('list gives the Role from replica_of/replicas or from replicates_from/replicates_to alone', async () => {
    const api = new FakeApi();
    api.instances.set('p', view('p', 'primary-db', { replicates_to: ['r'] }));
    api.instances.set('r', view('r', 'replica-db', { replicates_from: ['p'] }));
    api.instances.set('q', view('q', 'other-replica', { replica_of: ref('p') }));
    api.instances.set('s', view('s', 'solo-db'));
    const r = await trove(api, 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/primary-db.*│ primary\s*│/);
    expect(r.stdout).toMatch(/replica-db.*│ replica\s*│/);
    expect(r.stdout).toMatch(/other-replica.*│ replica\s*│/);
    expect(r.stdout).toMatch(/solo-db.*│ 1\s*│\s+│$/m);
  });
});

describe('replication usage errors exit 2 naming the option, with no API call', () => {
  it.each([
    [['create', 'r', '1', '--size', '1', '--replica_of', 'src', '--databases', 'db1'], /option '--databases <name\.\.\.>' cannot be used with option '--replica_of <id\|name>'/],
    [['create', 'r', '1', '--size', '1', '--slave_of', 'src', '--users', 'a:b'], /option '--users <USER:PASS\.\.\.>' cannot be used with option '--slave_of <id\|name>'/],
    [['create', 'r', '1', '--size', '1', '--replica_of', 'a', '--slave_of', 'b'], /option '--replica_of <id\|name>' cannot be used with option '--slave_of <id\|name>'/],
    [['create', 'r', '1', '--size', '1', '--replica_count', '2'], /option '--replica_count <N>' needs --replica_of/],
    [['create', 'r', '1', '--size', '1', '--replica_of', 'src', '--replica_count', '0'], /'--replica_count <N>' argument '0' is invalid/],
    [['replicate', 'src', '1', '--read-only=maybe'], /option '--read-only <bool>' argument 'maybe' is invalid. must be true or false/],
    [['replicate', 'src', '1', '--read-only'], /option '--read-only <bool>' argument missing/],
    [['replicate', 'src', '0'], /value '0' is invalid for argument 'count'. count must be at least 1/],
    [['replicate', 'src'], /missing required argument 'count'/],
    [['detach-replica'], /missing required argument 'replica'/],
  ])('trove %j', async (argv, message) => {
    const api = new FakeApi();
    const r = await trove(api, ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(api.calls).toHaveLength(0);
  });
});
