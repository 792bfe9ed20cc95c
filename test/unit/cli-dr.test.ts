// trove create --dr-profile, dr-enable and dr-disable, in-process against a stub of the REST
// API: what each command sends and what it prints.
import { drSetReady } from '../../cli/commands/instances';
import { json, runTrove, tables } from '../helpers/cli';

function stub() {
  const calls: { method: string; path: string; body?: any }[] = [];
  const fetch = async (url: string, init?: RequestInit) => {
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const path = new URL(url).pathname;
    const method = init?.method ?? 'GET';
    calls.push({ method, path, ...(body ? { body } : {}) });
    if (method === 'POST' && path.endsWith('/instances')) {
      return json(202, { instance: { id: 'i-1', name: body.instance.name, status: 'BUILD', availability_zone: 'az1', zone_profile: { id: 'p-1', name: body.instance.dr_profile } } });
    }
    if (method === 'POST' && path.endsWith('/dr')) return json(202, { dr: { operation: 'enable-dr-i-1-x', profile: body.dr.profile, primary_zone: 'az1', dr_zone: 'az2', replica_id: 'r-1' } });
    if (method === 'DELETE' && path.endsWith('/dr')) return json(202, { dr: { profile: 'dr-east', removed: ['r-1'], semi_sync_kept: false } });
    return json(404, { itemNotFound: { code: 404, message: 'no' } });
  };
  return { calls, fetch };
}

test('create --dr-profile sends dr_profile; show prints the profile the set follows', async () => {
  const { calls, fetch } = stub();
  const r = await runTrove(fetch, ['create', 'db1', '1', '--size', '1', '--dr-profile', 'dr-east']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances', body: { instance: { name: 'db1', flavorRef: '1', volume: { size: 1 }, dr_profile: 'dr-east' } } }]);
  expect(tables(r.stdout)[0]).toMatchObject({ zone_profile: 'dr-east', availability_zone: 'az1' });
});

test('--dr-profile does not go with --replica_of, --availability_zone or --locality (the profile says where)', async () => {
  for (const extra of [['--replica_of', 'x'], ['--availability_zone', 'az3'], ['--locality', 'anti-affinity']]) {
    const { calls, fetch } = stub();
    const r = await runTrove(fetch, ['create', 'db1', '1', '--size', '1', '--dr-profile', 'dr-east', ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot be used with/);
    expect(calls).toEqual([]);
  }
});

test('dr-enable posts the profile to the instance\'s dr route and prints the answer', async () => {
  const { calls, fetch } = stub();
  const r = await runTrove(fetch, ['dr-enable', 'db1', '--profile', 'dr-east']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/db1/dr', body: { dr: { profile: 'dr-east' } } }]);
  expect(tables(r.stdout)[0]).toMatchObject({ profile: 'dr-east', dr_zone: 'az2', replica_id: 'r-1', operation: 'enable-dr-i-1-x' });
});

test('dr-disable deletes the instance\'s dr route and says what it removed', async () => {
  const { calls, fetch } = stub();
  const r = await runTrove(fetch, ['dr-disable', 'db1', '--json']);
  expect(r.code).toBe(0);
  expect(calls).toEqual([{ method: 'DELETE', path: '/v1.0/proj/instances/db1/dr' }]);
  expect(JSON.parse(r.stdout)).toEqual({ profile: 'dr-east', removed: ['r-1'], semi_sync_kept: false });
});

test('create --dr-profile --wait waits past ACTIVE until the set follows the profile (its DR replica built)', async () => {
  const views = [
    { id: 'i-1', name: 'db1', status: 'ACTIVE', operation: { id: 'create-replicas-x', type: 'createReplicas' } },
    { id: 'i-1', name: 'db1', status: 'ACTIVE' },
    { id: 'i-1', name: 'db1', status: 'ACTIVE', zone_profile: { id: 'p-1', name: 'dr-east' } },
  ];
  let gets = 0;
  const fetch = async (url: string, init?: RequestInit) => {
    if ((init?.method ?? 'GET') === 'POST') return json(202, { instance: { id: 'i-1', name: 'db1', status: 'BUILD' } });
    return json(200, { instance: views[Math.min(gets++, views.length - 1)] });
  };
  const r = await runTrove(fetch, ['create', 'db1', '1', '--size', '1', '--dr-profile', 'dr-east', '--wait']);
  expect(r.code).toBe(0);
  expect(gets).toBe(3);
  expect(tables(r.stdout)[0]).toMatchObject({ zone_profile: 'dr-east' });
});

test('drSetReady: ready only when ACTIVE, following the profile and idle; a fault fails the wait', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ status: 'BUILD' }, 'waiting'],
    [{ status: 'ACTIVE' }, 'waiting'],
    [{ status: 'ACTIVE', zone_profile: { name: 'p' }, operation: { id: 'x' } }, 'waiting'],
    [{ status: 'ACTIVE', zone_profile: { name: 'p' } }, 'ready'],
    [{ status: 'ACTIVE', fault: { message: 'enableDr failed: no host' } }, 'failed'],
  ];
  for (const [v, expected] of cases) expect(drSetReady({ id: 'i', name: 'n', ...v } as never)).toBe(expected);
});
