// The trove CLI's failover commands (promote, eject, replication-settings) and the health
// rows of show, run in-process against an in-memory stub of the API.
import { json, op, ref, runAgainst as trove, StubApi, tables, type InstanceView as View } from '../helpers/cli';


function view(id: string, name: string, extra: Record<string, unknown> = {}): View {
  return { id, name, status: 'ACTIVE', flavor: { id: '1', links: [] }, volume: { size: 1 }, links: [], replicates_from: [], replicates_to: [], writable: true, ...extra };
}



const settings = (extra: Record<string, unknown> = {}) => ({
  replication_set_id: 'set-1',
  auto_failover: false,
  semi_sync: false,
  quiet_period: 300,
  failover_after: 10,
  last_failover: null,
  ...extra,
});

/** The failover routes of a tiny Trove API, plus scripted GET answers for --wait. */
class FakeApi extends StubApi {
  actionAnswer?: () => Response;
  settings: Record<string, unknown> = settings();
  /** The instance is in no replication set. */
  noSet = false;

  protected route(method: string, path: string, body: any): Response | undefined {
    const m = /^\/v1\.0\/proj\/instances\/([^/]+)(\/action|\/replication)$/.exec(path);
    if (!m) return undefined;
    const id = decodeURIComponent(m[1]!);
    if (m[2] === '/action') {
      if (this.actionAnswer) return this.actionAnswer();
      const type = 'promote_to_replica_source' in body ? 'promoteToReplicaSource' : 'rebuild_as_replica' in body ? 'rebuildAsReplica' : 'ejectReplicaSource';
      return json(202, { operation: { id: `op-${type}`, type } });
    }
    if (this.noSet) return json(404, { itemNotFound: { code: 404, message: `instance ${id} is not in a replication set` } });
    if (method === 'PATCH') this.settings = { ...this.settings, ...body.replication };
    return json(200, { replication: this.settings });
  }
}

describe('trove promote-to-replica-source', () => {
  it('posts {"promote_to_replica_source": {}} to the replica and prints the operation', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'promote-to-replica-source', 'r-1');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/r-1/action', body: { promote_to_replica_source: {} } }]);
    expect(r.stdout).toBe('Request to promote instance r-1 to replica source has been accepted (operation op-promoteToReplicaSource).\n');
  });

  it('a 400 "not a replica" prints ERROR and exits 1', async () => {
    const api = new FakeApi();
    api.actionAnswer = () => json(400, { badRequest: { code: 400, message: 'invalid request: instance src is not a replica; only a replica can be promoted to replica source' } });
    const r = await trove(api, 'promote-to-replica-source', 'src');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: invalid request: instance src is not a replica; only a replica can be promoted to replica source\n' });
  });

  it('--wait resolves the name, follows the phases and exits 0 once replica_of is gone, printing the table', async () => {
    const api = new FakeApi();
    api.instances.set('rid-1', view('rid-1', 'r-1', { replica_of: ref('src-id'), writable: false }));
    api.script.set('rid-1', [
      view('rid-1', 'r-1', { replica_of: ref('src-id'), ...op('promoteToReplicaSource', 'pre-flight') }),
      view('rid-1', 'r-1', { replica_of: ref('src-id'), ...op('promoteToReplicaSource', 'candidate catching up') }),
      view('rid-1', 'r-1', op('promoteToReplicaSource', 'moving replicas')),
      view('rid-1', 'r-1', { replicas: [ref('src-id')], replicates_to: ['src-id'] }),
    ]);
    const r = await trove(api, 'promote-to-replica-source', 'r-1', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.requests().slice(0, 3)).toEqual(['GET /v1.0/proj/instances/r-1', 'POST /v1.0/proj/instances/rid-1/action', 'GET /v1.0/proj/instances/rid-1']);
    expect(r.stderr).toBe('ACTIVE: pre-flight\nACTIVE: candidate catching up\nACTIVE: moving replicas\nACTIVE\n');
    expect(r.stdout.split('\n')[0]).toBe('Request to promote instance r-1 to replica source has been accepted (operation op-promoteToReplicaSource).');
    const [shown] = tables(r.stdout);
    expect(shown).toMatchObject({ id: 'rid-1', status: 'ACTIVE', replicas: 'src-id' });
    expect(shown!.replica_of).toBeUndefined();
  });

  it('--wait exits 1 when the replica goes to ERROR', async () => {
    const api = new FakeApi();
    api.instances.set('rid-1', view('rid-1', 'r-1', { replica_of: ref('src-id') }));
    api.script.set('rid-1', [view('rid-1', 'r-1', { status: 'ERROR', replica_of: ref('src-id'), fault: { message: 'promote failed: candidate did not catch up' } })]);
    const r = await trove(api, 'promote-to-replica-source', 'rid-1', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: promote failed: candidate did not catch up\n');
    expect(tables(r.stdout)).toEqual([]);
  });

  it('--wait exits 1 when the operation ends and the instance is still a replica', async () => {
    const api = new FakeApi();
    const stillReplica = view('rid-1', 'r-1', { replica_of: ref('src-id') });
    api.instances.set('rid-1', stillReplica);
    // Idle before the operation shows up does not end the wait; idle after it does.
    api.script.set('rid-1', [stillReplica, view('rid-1', 'r-1', { replica_of: ref('src-id'), ...op('promoteToReplicaSource', 'pre-flight') }), stillReplica]);
    const r = await trove(api, 'promote-to-replica-source', 'rid-1', '--wait', '--json', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('ERROR: the promote did not happen (operation op-promoteToReplicaSource ended; instance rid-1 is still a replica)\n');
  });
});

describe('trove eject-replica-source', () => {
  it.each([
    [[], {}],
    [['--force'], { force: true }],
  ])('%j posts eject_replica_source %j and prints the operation', async (flags, sent) => {
    const api = new FakeApi();
    const r = await trove(api, 'eject-replica-source', 'src', ...flags);
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/src/action', body: { eject_replica_source: sent } }]);
    expect(r.stdout).toBe('Request to eject replica source src has been accepted (operation op-ejectReplicaSource).\n');
  });

  it('--json prints the 202 body only', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'eject-replica-source', 'src', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ operation: { id: 'op-ejectReplicaSource', type: 'ejectReplicaSource' } });
  });

  it('--wait ends when the source is fenced and names the former replica that has no source now', async () => {
    const api = new FakeApi();
    api.instances.set('src-id', view('src-id', 'src', { replicas: [ref('rid-1'), ref('rid-2')], replicates_to: ['rid-1', 'rid-2'] }));
    api.script.set('src-id', [
      view('src-id', 'src', { replicas: [ref('rid-1'), ref('rid-2')], ...op('ejectReplicaSource', 'fencing the old source') }),
      view('src-id', 'src', { status: 'ERROR', writable: false, fault: { message: 'fenced by op-ejectReplicaSource: replaced as replication source by rid-2' } }),
    ]);
    api.instances.set('rid-1', view('rid-1', 'src-replica-1', { replica_of: ref('rid-2') }));
    api.instances.set('rid-2', view('rid-2', 'src-replica-2', { replicas: [ref('rid-1')] }));
    const r = await trove(api, 'eject-replica-source', 'src', '--force', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls[1]).toEqual({ method: 'POST', path: '/v1.0/proj/instances/src-id/action', body: { eject_replica_source: { force: true } } });
    expect(api.requests().slice(-2)).toEqual(['GET /v1.0/proj/instances/rid-1', 'GET /v1.0/proj/instances/rid-2']);
    expect(r.stdout).toBe('Request to eject replica source src has been accepted (operation op-ejectReplicaSource).\ninstance src was fenced; new source: rid-2\n');
    expect(r.stderr).toBe('ACTIVE: fencing the old source\nERROR\n');
  });

  it('--wait --json prints the fenced view and the new source', async () => {
    const api = new FakeApi();
    api.instances.set('src-id', view('src-id', 'src', { replicas: [ref('rid-1')] }));
    api.script.set('src-id', [view('src-id', 'src', { status: 'ERROR', fault: { message: 'fenced by op-x: replaced as replication source by rid-1' } })]);
    api.instances.set('rid-1', view('rid-1', 'src-replica-1'));
    const r = await trove(api, 'eject-replica-source', 'src', '--wait', '--json', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ fenced: { id: 'src-id', status: 'ERROR' }, new_source: { id: 'rid-1' } });
  });

  it('--wait exits 1 when the source is ACTIVE and idle again (refused: healthy)', async () => {
    const api = new FakeApi();
    const healthy = view('src-id', 'src', { replicas: [ref('rid-1')] });
    api.instances.set('src-id', healthy);
    api.script.set('src-id', [view('src-id', 'src', { replicas: [ref('rid-1')], ...op('ejectReplicaSource', 'checking the source') }), healthy]);
    const r = await trove(api, 'eject-replica-source', 'src', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: the eject did not happen (the source may be healthy; use --force)\n');
    expect(r.stdout).not.toContain('fenced');
  });

  it('--wait exits 1 with the fault when the source goes to ERROR for another reason', async () => {
    const api = new FakeApi();
    api.instances.set('src-id', view('src-id', 'src', { replicas: [ref('rid-1')] }));
    api.script.set('src-id', [view('src-id', 'src', { status: 'ERROR', fault: { message: 'nova: server lost' } })]);
    const r = await trove(api, 'eject-replica-source', 'src', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: nova: server lost\n');
  });
});

describe('trove replication-settings', () => {
  it('with no option GETs and prints the settings table', async () => {
    const api = new FakeApi();
    api.settings = settings({ auto_failover: true, last_failover: { at: '2026-01-02T03:04:05.000Z', operation: 'op-auto', acknowledged: false } });
    const r = await trove(api, 'replication-settings', 'src');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'GET', path: '/v1.0/proj/instances/src/replication', body: undefined }]);
    expect(tables(r.stdout)).toEqual([
      {
        auto_failover: 'on',
        failover_after: '10',
        last_failover: 'at 2026-01-02T03:04:05.000Z by op-auto (not acknowledged)',
        quiet_period: '300',
        replication_set_id: 'set-1',
        semi_sync: 'off',
        tls: 'off',
      },
    ]);
  });

  it('--tls on asks for TLS replication (there is no off to send)', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replication-settings', 'src', '--tls', 'on');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'PATCH', path: '/v1.0/proj/instances/src/replication', body: { replication: { tls: true } } }]);
  });

  it("--renew-certificates asks for the set's certificates to be renewed", async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replication-settings', 'src', '--renew-certificates');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'PATCH', path: '/v1.0/proj/instances/src/replication', body: { replication: { tls: { renew: true } } } }]);
  });

  it('--rotate-ca asks for a new CA for the set; not with --renew-certificates', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replication-settings', 'src', '--rotate-ca');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'PATCH', path: '/v1.0/proj/instances/src/replication', body: { replication: { tls: { rotate_ca: true } } } }]);
    const both = await trove(new FakeApi(), 'replication-settings', 'src', '--rotate-ca', '--renew-certificates');
    expect(both.code).not.toBe(0);
  });

  it('PATCHes exactly the options given', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replication-settings', 'src', '--auto-failover', 'on', '--quiet-period', '60');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'PATCH', path: '/v1.0/proj/instances/src/replication', body: { replication: { auto_failover: true, quiet_period: 60 } } }]);
    expect(tables(r.stdout)[0]).toMatchObject({ auto_failover: 'on', quiet_period: '60', last_failover: '' });
  });

  it('sends true|false spellings, failover_after and acknowledge_failover; --json prints the settings', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'replication-settings', 'src', '--semi-sync', 'TRUE', '--auto-failover=false', '--failover-after', '5', '--acknowledge-failover', '--json');
    expect(r.code).toBe(0);
    expect(api.calls[0]!.body).toEqual({ replication: { auto_failover: false, semi_sync: true, failover_after: 5, acknowledge_failover: true } });
    expect(JSON.parse(r.stdout)).toMatchObject({ replication_set_id: 'set-1', semi_sync: true, failover_after: 5 });
  });

  it('an instance outside a replication set: 404 prints ERROR and exits 1', async () => {
    const api = new FakeApi();
    api.noSet = true;
    const r = await trove(api, 'replication-settings', 'solo', '--semi-sync', 'on');
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'ERROR: instance solo is not in a replication set\n' });
  });

  it.each([
    [['--semi-sync', 'maybe'], /option '--semi-sync <on\|off>' argument 'maybe' is invalid/],
    [['--auto-failover', 'yes'], /option '--auto-failover <on\|off>' argument 'yes' is invalid/],
    [['--quiet-period', '-1'], /option '--quiet-period <seconds>' argument '-1' is invalid/],
    [['--quiet-period', '1.5'], /option '--quiet-period <seconds>' argument '1.5' is invalid/],
    [['--failover-after', '0'], /option '--failover-after <seconds>' argument '0' is invalid. failover-after must be at least 1/],
  ])('%j exits 2 naming the option, with no API call', async (flags, message) => {
    const api = new FakeApi();
    const r = await trove(api, 'replication-settings', 'src', ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(api.calls).toHaveLength(0);
  });
});

describe('trove show with replication_health', () => {
  const health = [
    { id: 'src-id', name: 'primary', role: 'source', reachable: true, agent_answered: true, io_running: null, sql_running: null, seconds_behind: null, transactions_behind: null, last_io_error: null, last_sql_error: null },
    { id: 'rid-1', name: 'primary-replica-1', role: 'replica', reachable: true, agent_answered: true, io_running: true, sql_running: true, seconds_behind: 0, transactions_behind: 0, last_io_error: null, last_sql_error: null },
    { id: 'rid-2', name: 'primary-replica-2', role: 'replica', reachable: true, agent_answered: true, io_running: false, sql_running: true, seconds_behind: null, transactions_behind: 12, last_io_error: 'error connecting to master', last_sql_error: '' },
    { id: 'rid-3', name: 'primary-replica-3', role: 'replica', reachable: false, agent_answered: false, io_running: null, sql_running: null, seconds_behind: null, transactions_behind: null, last_io_error: null, last_sql_error: null },
  ];

  it('prints a health table of its own after the properties, one row per member; --json is unchanged', async () => {
    const api = new FakeApi();
    api.instances.set('src-id', view('src-id', 'primary', { replicas: [ref('rid-1'), ref('rid-2'), ref('rid-3')], replication_health: health }));
    const r = await trove(api, 'show', 'primary');
    expect(r.code).toBe(0);
    const [properties, healthTable] = r.stdout.split('\nReplication health\n');
    expect(Object.keys(tables(properties!)[0]!).filter((k) => /health/.test(k))).toEqual([]);
    expect(healthTable!.split('\n').filter((l) => l.startsWith('│'))).toEqual([
      expect.stringMatching(/^│ Member\s+│ Role\s+│ Reachable │ IO\/SQL\s+│ Lag\s+│ Last error\s+│$/),
      expect.stringMatching(/^│ primary\s+│ source\s+│ yes\s+│ -\s+│ -\s+│\s+│$/),
      expect.stringMatching(/^│ primary-replica-1 │ replica │ yes\s+│ yes\/yes │ 0 trx \/ 0 s\s+│\s+│$/),
      expect.stringMatching(/^│ primary-replica-2 │ replica │ yes\s+│ no\/yes\s+│ 12 trx \/ \? s │ error connecting to master\s+│$/),
      expect.stringMatching(/^│ primary-replica-3 │ replica │ no\s+│ -\s+│ -\s+│ \(agent silent\)\s+│$/),
    ]);
    expect(r.stdout).not.toMatch(/[{"]/);
    const j = await trove(api, 'show', 'primary', '--json');
    expect(JSON.parse(j.stdout).replication_health).toEqual(health);
  });
});

describe('trove rebuild-as-replica', () => {
  it('posts {"rebuild_as_replica": {}} to the former source and prints the operation', async () => {
    const api = new FakeApi();
    const r = await trove(api, 'rebuild-as-replica', 'old-db');
    expect(r.code).toBe(0);
    expect(api.calls).toEqual([{ method: 'POST', path: '/v1.0/proj/instances/old-db/action', body: { rebuild_as_replica: {} } }]);
    expect(r.stdout).toBe('Request to rebuild instance old-db as a replica has been accepted (operation op-rebuildAsReplica).\n');
  });

  it('a 400 naming the rule prints ERROR and exits 1', async () => {
    const api = new FakeApi();
    const message = 'instance src is the source of replication set s; only a former source that a failover replaced can be rebuilt as a replica';
    api.actionAnswer = () => json(400, { badRequest: { code: 400, message } });
    const r = await trove(api, 'rebuild-as-replica', 'src');
    expect(r).toEqual({ code: 1, stdout: '', stderr: `ERROR: ${message}\n` });
  });

  it('--wait follows the phases until it replicates again and shows the errant GTIDs it discarded', async () => {
    const api = new FakeApi();
    const fenced = { status: 'ERROR', writable: false, replaced_by: ref('new-src'), fault: { message: 'fenced by eject-1: replaced as replication source by new-src', created: 'x' } };
    api.instances.set('old-id', view('old-id', 'old-db', fenced));
    const errant = { gtids: ['0-101-43'], former_state: '0-101-43', source_state: '0-101-42,0-102-60', source_id: 'new-src', operation: 'op-rebuildAsReplica', recorded: 'x' };
    // ERROR until the operation begins, then BUILD (its task) while it runs.
    api.script.set('old-id', [
      view('old-id', 'old-db', fenced),
      view('old-id', 'old-db', { status: 'BUILD', writable: false, ...op('rebuildAsReplica', 'comparing GTIDs') }),
      view('old-id', 'old-db', { status: 'BUILD', writable: false, errant_gtids: errant, ...op('rebuildAsReplica', 'restoring') }),
      view('old-id', 'old-db', { replica_of: ref('new-src'), writable: false, errant_gtids: errant }),
    ]);
    const r = await trove(api, 'rebuild-as-replica', 'old-db', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('BUILD: restoring');
    const [shown] = tables(r.stdout);
    expect(shown).toMatchObject({ id: 'old-id', status: 'ACTIVE', replica_of: 'new-src', errant_gtids: '0-101-43' });
  });

  it('--wait exits 1 with the fault when the rebuild fails', async () => {
    const api = new FakeApi();
    api.instances.set('old-id', view('old-id', 'old-db', { status: 'ERROR' }));
    api.script.set('old-id', [
      view('old-id', 'old-db', { status: 'BUILD', ...op('rebuildAsReplica', 'restoring') }),
      view('old-id', 'old-db', { status: 'ERROR', fault: { message: 'rebuild as replica failed: snapshot is corrupt', created: 'x' } }),
    ]);
    const r = await trove(api, 'rebuild-as-replica', 'old-db', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/snapshot is corrupt/);
  });
});

test("trove show: a link that should be TLS and is not is shown where an error would be; a real error comes first", async () => {
  const { healthTable } = await import('../../cli/format');
  const member = { name: 'r1', role: 'replica', reachable: true, agent_answered: true, io_running: true, sql_running: true, seconds_behind: 0, transactions_behind: 0, link_tls: 'plain', tls_problem: 'the set replicates over TLS but this link does not' };
  expect(healthTable({ replication_health: [member] }, 160)).toMatch(/│ plain link in a TLS set/);
  expect(healthTable({ replication_health: [{ ...member, last_io_error: 'error connecting to master' }] }, 160)).toMatch(/│ error connecting to master/);
});
