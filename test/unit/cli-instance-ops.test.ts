// The trove CLI's maintenance commands (restart, resize-volume, resize-instance, update,
// reset-status), run in-process against an in-memory stub of the API.
import { json, op, ref, runAgainst as trove, StubApi, tables, type InstanceView as View } from '../helpers/cli';


const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:05.000Z';

function view(id: string, name: string, extra: Record<string, unknown> = {}): View {
  return { id, name, status: 'ACTIVE', flavor: { id: '1', links: [] }, volume: { size: 1 }, updated: T0, links: [], ...extra };
}

/** The action and PATCH routes of a tiny Trove API, plus scripted GET answers for --wait. */
class FakeApi extends StubApi {
  /** Replaces the default 202 of the action and PATCH routes. */
  answer?: () => Response;

  protected route(method: string, path: string, body: any): Response | undefined {
    const m = /^\/v1\.0\/proj\/instances\/([^/]+)(\/action)?$/.exec(path);
    if (!m || method === 'GET') return undefined;
    if (this.answer) return this.answer();
    if (m[2]) {
      if ('reset_status' in body) return json(202);
      const type = 'restart' in body ? 'restartInstance' : 'resizeInstance';
      return json(202, { operation: { id: `op-${type}`, type } });
    }
    if (method === 'PATCH') {
      if (body.instance.replica_of === null) return json(202, { operation: { id: 'op-detachReplica', type: 'detachReplica' } });
      return json(202, { instance: view(decodeURIComponent(m[1]!), body.instance.name) });
    }
    return undefined;
  }
}

/** An instance db1 (id id-1) whose GETs after the first answer `steps`. */
function apiWith(steps: View[], extra: Record<string, unknown> = {}): FakeApi {
  const api = new FakeApi();
  api.instances.set('id-1', view('id-1', 'db1', extra));
  api.script.set('id-1', steps);
  return api;
}

const refused = (status: number, message: string) => () => json(status, { [status === 409 ? 'conflictingRequest' : 'badRequest']: { code: status, message } });

describe('trove restart', () => {
  it('posts {"restart": {}} and prints the operation', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'restart', 'db1');
    expect(r).toEqual({ code: 0, stdout: 'Request to restart instance db1 has been accepted (operation op-restartInstance).\n', stderr: '' });
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/db1/action', body: { restart: {} } }]);
  });

  it('--json prints the 202 body only', async () => {
    const r = await trove(new FakeApi(), 'restart', 'db1', '--json');
    expect(JSON.parse(r.stdout)).toEqual({ operation: { id: 'op-restartInstance', type: 'restartInstance' } });
  });

  it('--wait resolves the name, prints the phases and the instance once it is ACTIVE and idle again', async () => {
    const api = apiWith([
      // Idle before the operation shows up does not end the wait.
      view('id-1', 'db1'),
      view('id-1', 'db1', { ...op('restartInstance', 'restarting database'), updated: T1 }),
      view('id-1', 'db1', op('restartInstance', 'catching up: db1-replica-1')),
      view('id-1', 'db1', { updated: T1 }),
    ]);
    const r = await trove(api, 'restart', 'db1', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.requests().slice(0, 3)).toEqual(['GET /v1.0/proj/instances/db1', 'POST /v1.0/proj/instances/id-1/action', 'GET /v1.0/proj/instances/id-1']);
    expect(r.stderr).toBe('ACTIVE\nACTIVE: restarting database\nACTIVE: catching up: db1-replica-1\nACTIVE\n');
    expect(r.stdout.split('\n')[0]).toBe('Request to restart instance db1 has been accepted (operation op-restartInstance).');
    expect(tables(r.stdout)).toEqual([expect.objectContaining({ id: 'id-1', name: 'db1', status: 'ACTIVE' })]);
  });

  it('--wait ends on an operation quicker than a poll: the instance was touched since the request', async () => {
    const api = apiWith([view('id-1', 'db1', { updated: T1 })]);
    const r = await trove(api, 'restart', 'db1', '--wait', '--json', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'id-1', status: 'ACTIVE', updated: T1 });
    expect(r.stderr).toBe('Request to restart instance db1 has been accepted (operation op-restartInstance).\nACTIVE\n');
  });

  it('--wait exits 1 with the fault when the database does not come back (ERROR)', async () => {
    const api = apiWith([view('id-1', 'db1', op('restartInstance', 'restarting database')), view('id-1', 'db1', { status: 'ERROR', fault: { message: 'restart failed: mariadbd did not start', created: T1 } })]);
    const r = await trove(api, 'restart', 'db1', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ACTIVE: restarting database\nERROR\nERROR: restart failed: mariadbd did not start\n');
    expect(tables(r.stdout)).toEqual([]);
  });

  it('--wait exits 1 with the fault an ACTIVE instance is left with (replicas did not resume)', async () => {
    const api = apiWith([view('id-1', 'db1', op('restartInstance', 'restarting database')), view('id-1', 'db1', { updated: T1, fault: { message: 'restart failed: db1-replica-1 did not resume', created: T1 } })]);
    const r = await trove(api, 'restart', 'db1', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: restart failed: db1-replica-1 did not resume\n');
  });

  it('a 409 prints the API message and exits 1', async () => {
    const api = new FakeApi();
    api.answer = refused(409, 'instance id-1 is busy with operation op-x (resizeInstance)');
    const r = await trove(api, 'restart', 'db1');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: instance id-1 is busy with operation op-x (resizeInstance)\n' });
  });
});

describe('trove resize-volume', () => {
  it('posts {"resize": {"volume": {"size": N}}} and prints the operation', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'resize-volume', 'db1', '5');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/db1/action', body: { resize: { volume: { size: 5 } } } }]);
    expect(r.stdout).toBe('Request to resize the volume of instance db1 to 5 GB has been accepted (operation op-resizeInstance).\n');
  });

  it('--wait follows the phases until the new size is shown', async () => {
    const api = apiWith([
      view('id-1', 'db1', op('resizeInstance', 'growing the volume of db1')),
      view('id-1', 'db1', { volume: { size: 5 }, ...op('resizeInstance', 'checking the volume from the guest') }),
      view('id-1', 'db1', { volume: { size: 5 }, updated: T1 }),
    ]);
    const r = await trove(api, 'resize-volume', 'db1', '5', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('ACTIVE: growing the volume of db1\nACTIVE: checking the volume from the guest\nACTIVE\n');
    expect(tables(r.stdout)[0]).toMatchObject({ id: 'id-1', volume: '5' });
  });

  it('--wait exits 1 when the operation ends and the volume kept its size', async () => {
    const api = apiWith([view('id-1', 'db1', op('resizeInstance', 'locking')), view('id-1', 'db1', { updated: T1 })]);
    const r = await trove(api, 'resize-volume', 'db1', '5', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: the resize did not happen (operation op-resizeInstance ended; instance db1 still has a 1 GB volume)\n');
  });

  it('a 400 prints the API message and exits 1', async () => {
    const api = new FakeApi();
    api.answer = refused(400, 'invalid request: resize.volume.size: must be larger than the current 5 GB');
    const r = await trove(api, 'resize-volume', 'db1', '3');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: invalid request: resize.volume.size: must be larger than the current 5 GB\n' });
  });

  it('a size that is not a whole number is a usage error (2) with no API call', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'resize-volume', 'db1', '2.5');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("value '2.5' is invalid for argument 'size'. size must be a whole number.");
    expect(api.calls).toHaveLength(0);
  });
});

describe('trove resize-instance', () => {
  it.each([['resize-instance'], ['resize-flavor']])('%s posts {"resize": {"flavorRef": id}}', async (command) => {
    const api = new FakeApi();
    const r = await trove(api, command, 'db1', '2');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/db1/action', body: { resize: { flavorRef: '2' } } }]);
    expect(r.stdout).toBe('Request to resize instance db1 to flavor 2 has been accepted (operation op-resizeInstance).\n');
  });

  it('--wait follows the phases until the new flavor is shown', async () => {
    const api = apiWith([
      view('id-1', 'db1', op('resizeInstance', 'resizing server')),
      view('id-1', 'db1', op('resizeInstance', 'confirming resize')),
      view('id-1', 'db1', { flavor: { id: '2', links: [] }, updated: T1 }),
    ]);
    const r = await trove(api, 'resize-instance', 'db1', '2', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('ACTIVE: resizing server\nACTIVE: confirming resize\nACTIVE\n');
    expect(tables(r.stdout)[0]).toMatchObject({ id: 'id-1', flavor: '2' });
  });

  it('--wait exits 1 with the fault of a reverted resize', async () => {
    const fault = { message: 'resize to flavor 2 failed, reverted to flavor 1: the database did not start with flavor 2', created: T1 };
    const api = apiWith([view('id-1', 'db1', op('resizeInstance', 'reverting resize')), view('id-1', 'db1', { updated: T1, fault })]);
    const r = await trove(api, 'resize-instance', 'db1', '2', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ACTIVE: reverting resize\nACTIVE\nERROR: ${fault.message}\n`);
  });

  it('--wait without a fault but the old flavor says the resize did not happen', async () => {
    const api = apiWith([view('id-1', 'db1', { updated: T1 })]);
    const r = await trove(api, 'resize-instance', 'db1', '2', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: the resize did not happen (operation op-resizeInstance ended; instance db1 still has flavor 1)\n');
  });

  it('a 400 prints the API message and exits 1', async () => {
    const api = new FakeApi();
    api.answer = refused(400, 'invalid request: resize.flavorRef: instance db1 already has flavor 1');
    const r = await trove(api, 'resize-instance', 'db1', '1');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: invalid request: resize.flavorRef: instance db1 already has flavor 1\n' });
  });
});

describe('trove update', () => {
  it('--name PATCHes the new name and prints the renamed instance', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'update', 'db1', '--name', 'shop');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'PATCH', path: '/v1.0/proj/instances/db1', body: { instance: { name: 'shop' } } }]);
    expect(tables(r.stdout)[0]).toMatchObject({ id: 'db1', name: 'shop' });
  });

  it.each([['--detach-replica-source'], ['--detach_replica_source']])('%s sends replica_of: null and prints the operation', async (flag) => {
    const api = new FakeApi();
    const r = await trove(api, 'update', 'r-1', flag);
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'PATCH', path: '/v1.0/proj/instances/r-1', body: { instance: { replica_of: null } } }]);
    expect(r.stdout).toBe('Request to detach replica r-1 has been accepted (operation op-detachReplica).\n');
  });

  it('--name with --detach-replica-source --wait resolves the id first and follows the detach', async () => {
    const api = new FakeApi();
    api.instances.set('rid-1', view('rid-1', 'r-1', { replica_of: ref('src-id') }));
    api.script.set('rid-1', [view('rid-1', 'shop', { replica_of: ref('src-id'), ...op('detachReplica', 'stopping replication') }), view('rid-1', 'shop')]);
    const r = await trove(api, 'update', 'r-1', '--name', 'shop', '--detach-replica-source', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls[1]).toEqual({ method: 'PATCH', path: '/v1.0/proj/instances/rid-1', body: { instance: { name: 'shop', replica_of: null } } });
    expect(r.stdout.split('\n')[0]).toBe('Request to rename instance r-1 to shop and detach it from its source has been accepted (operation op-detachReplica).');
    expect(r.stderr).toBe('ACTIVE: stopping replication\nACTIVE\n');
    const [shown] = tables(r.stdout);
    expect(shown).toMatchObject({ id: 'rid-1', name: 'shop' });
    expect(shown!.replica_of).toBeUndefined();
  });

  it('nothing to update is a usage error (2) with no API call', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'update', 'db1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: nothing to update: give --name <name>, --detach-replica-source, or both');
    expect(api.calls).toHaveLength(0);
  });

  it('a 400 prints the API message and exits 1', async () => {
    const api = new FakeApi();
    api.answer = refused(400, 'invalid request: instance.name: must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
    const r = await trove(api, 'update', 'db1', '--name', 'bad name');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: invalid request: instance.name: must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$\n' });
  });
});

describe('trove reset-status', () => {
  it('posts {"reset_status": {}} and says there was nothing to reset', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'reset-status', 'db1');
    expect(r).toEqual({ code: 0, stdout: 'Request to reset the status of instance db1 has been accepted (no operation holds it: nothing to reset).\n', stderr: '' });
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/db1/action', body: { reset_status: {} } }]);
  });

  it('a 409 prints the operation that runs and exits 1', async () => {
    const api = new FakeApi();
    const message = 'instance id-1 is busy with operation op-x (restartInstance); its locks go when it ends (wait for it, or cancel it): there is no stale status to reset';
    api.answer = refused(409, message);
    const r = await trove(api, 'reset-status', 'db1');
    expect(r).toEqual({ code: 1, stdout: '', stderr: `ERROR: ${message}\n` });
  });
});
