// The trove CLI's master-master pair commands (create-pair, switch-active, break-pair), the
// pair's table in show and the pair roles in list, against an in-memory stub of the API.
import { json, runAgainst as trove, StubApi, tables, type InstanceView as View } from '../helpers/cli';

function view(id: string, name: string, extra: Record<string, unknown> = {}): View {
  return { id, name, status: 'ACTIVE', flavor: { id: '1', links: [] }, volume: { size: 1 }, links: [], replicates_from: [], replicates_to: [], writable: true, ...extra };
}

class FakeApi extends StubApi {
  answer?: Response;
  protected route(method: string, path: string, body: any): Response | undefined {
    if (method === 'GET' && path === '/v1.0/proj/instances') return json(200, { instances: [...this.instances.values()] });
    if (method === 'POST' && path === '/v1.0/proj/instances') return json(202, { instance: view('a-id', body.instance.name, { status: 'BUILD', operation: { id: 'op-create-pair', type: 'createPair' } }) });
    const m = /^\/v1\.0\/proj\/instances\/([^/]+)\/action$/.exec(path);
    if (!m) return undefined;
    if (this.answer) return this.answer;
    if ('create_pair' in body) return json(202, { instance: view('b-id', body.create_pair.name ?? 'pa-replica-1', { role: 'passive' }), operation: { id: 'op-pair', type: 'createPair' } });
    const type = 'switch_active' in body ? 'switchPairActive' : 'rejoin_pair' in body ? 'rebuildAsReplica' : 'breakPair';
    return json(202, { operation: { id: `op-${type}`, type } });
  }
}

const pair = {
  active: { id: 'a-id', name: 'pa' },
  passive: { id: 'b-id', name: 'pb' },
  replication: [
    { from: 'a-id', to: 'b-id', io_running: true, sql_running: true, seconds_behind: 0, transactions_behind: 0 },
    { from: 'b-id', to: 'a-id', io_running: true, sql_running: true, seconds_behind: null, transactions_behind: 0 },
  ],
};

describe('trove pair commands', () => {
  it('create-pair sends create_pair with the name and says which instance is the second side', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'create-pair', 'pa', '--name', 'pb');
    expect(r.code).toBe(0);
    expect(api.calls.at(-1)).toEqual({ method: 'POST', path: '/v1.0/proj/instances/pa/action', body: { create_pair: { name: 'pb' } } });
    expect(r.stdout).toMatch(/its second master is pb \(b-id\), operation op-pair/);
  });

  it('switch-active and break-pair send their actions; --wait follows until the side is active', async () => {
    const api = new FakeApi();
    api.instances.set('b-id', view('b-id', 'pb', { role: 'passive' }));
    api.script.set('b-id', [view('b-id', 'pb', { role: 'passive', operation: { id: 'op', type: 'switchPairActive' } }), view('b-id', 'pb', { role: 'active', pair })]);
    const r = await trove(api, 'switch-active', 'pb', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls.find((c) => c.method === 'POST')).toEqual({ method: 'POST', path: '/v1.0/proj/instances/b-id/action', body: { switch_active: {} } });
    expect(r.stdout).toMatch(/Master-master pair: active pa, passive pb/);
    const b = await trove(new FakeApi(), 'break-pair', 'pa');
    expect(b.stdout).toMatch(/break the pair of instance pa has been accepted \(operation op-breakPair\)/);
  });

  it('create --pair asks for a master-master pair at create (with --pair-name its second side’s name); --pair-name alone is a usage error', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'create', 'pa', '1', '--size', '1', '--locality', 'anti-affinity', '--pair', '--pair-name', 'pb');
    expect(r.code).toBe(0);
    expect(api.calls.at(-1)).toMatchObject({ method: 'POST', path: '/v1.0/proj/instances', body: { instance: { name: 'pa', locality: 'anti-affinity', replication: { mode: 'master-master', peer_name: 'pb' } } } });
    const bad = await trove(new FakeApi(), 'create', 'pa', '1', '--size', '1', '--pair-name', 'pb');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--pair-name <name>' needs --pair/);
  });

  it('rejoin-pair sends rejoin_pair; --wait follows until the side is passive again', async () => {
    const api = new FakeApi();
    api.instances.set('b-id', view('b-id', 'pb', { status: 'ERROR', writable: false }));
    api.script.set('b-id', [view('b-id', 'pb', { status: 'BUILD', operation: { id: 'op', type: 'rebuildAsReplica' } }), view('b-id', 'pb', { role: 'passive', writable: false, pair })]);
    const r = await trove(api, 'rejoin-pair', 'pb', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls.find((c) => c.method === 'POST')).toEqual({ method: 'POST', path: '/v1.0/proj/instances/b-id/action', body: { rejoin_pair: {} } });
    expect(r.stdout).toMatch(/Master-master pair: active pa, passive pb/);
  });

  it('a refusal is the API’s message', async () => {
    const api = new FakeApi();
    api.answer = json(400, { badRequest: { code: 400, message: 'invalid request: instance pb is already the active side of its pair; switch to pa' } });
    const r = await trove(api, 'switch-active', 'pb');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already the active side of its pair/);
  });

  it('show prints the pair as a table of its own (both directions, lag each way); list names the sides', async () => {
    const api = new FakeApi();
    api.instances.set('a-id', view('a-id', 'pa', { role: 'active', replicates_from: ['b-id'], replicates_to: ['b-id'], pair }));
    api.instances.set('b-id', view('b-id', 'pb', { role: 'passive', writable: false, replicates_from: ['a-id'], replicates_to: ['a-id'] }));
    const r = await trove(api, 'show', 'pa');
    expect(r.code).toBe(0);
    expect(tables(r.stdout)[0]).toMatchObject({ pair: 'active pa, passive pb', role: 'active' });
    const lines = r.stdout.split('Master-master pair: active pa, passive pb\n')[1]!.split('\n').filter((l) => l.startsWith('│'));
    expect(lines).toEqual([
      expect.stringMatching(/^│ From\s+│ To\s+│ IO\/SQL\s+│ Lag\s+│$/),
      expect.stringMatching(/^│ pa\s+│ pb\s+│ yes\/yes │ 0 trx \/ 0 s\s+│$/),
      expect.stringMatching(/^│ pb\s+│ pa\s+│ yes\/yes │ 0 trx \/ \? s │$/),
    ]);
    const l = await trove(api, 'list');
    expect(l.stdout).toMatch(/pa .*active \(pair\)/);
    expect(l.stdout).toMatch(/pb .*passive \(pair\)/);
  });
});
