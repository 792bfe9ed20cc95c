// Bad input by every path (REST bodies, direct workflow starts through the Temporal
// client, the typed start helper) gets a clear error naming the field, and nothing is
// created: Nova servers, registry rows, server folders and processes are counted.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startManageAccess, startProvisionInstance } from '../../lib/start';
import { ValidationError } from '../../lib/validation';
import { resourceCounts } from '../helpers/leftovers';
import { adminQuery } from '../helpers/mysql';
import { DEFAULT_TEMPORAL_CLI } from '../../scripts/stack/stack';
import { startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack;
let before: Awaited<ReturnType<typeof resourceCounts>>;
beforeAll(async () => {
  // Depth 1: a replica of a replica is past the limit (cascading has its own test).
  env = await startTestStack({ extraEnv: { TROVE_MAX_DEPTH: '1' } });
  before = await resourceCounts(env);
}, 180_000);
afterAll(async () => {
  await env?.stop();
});

const valid = { name: 'db1', flavorRef: '1', volume: { size: 1 } };
const body = (instance: Record<string, unknown>) => ({ instance: { ...valid, ...instance } });

const badBodies: [string, unknown, number, RegExp][] = [
  ['missing name', { instance: { flavorRef: '1', volume: { size: 1 } } }, 400, /instance\.name: /],
  ['name with quotes', body({ name: "a'b" }), 400, /instance\.name: must match/],
  ['name with backticks', body({ name: 'a`b`' }), 400, /instance\.name: must match/],
  ['name with semicolon', body({ name: 'a;DROP TABLE x' }), 400, /instance\.name: must match/],
  ['name with shell metacharacters', body({ name: '$(rm -rf /)' }), 400, /instance\.name: must match/],
  ['name too long', body({ name: 'x'.repeat(65) }), 400, /instance\.name: must match/],
  ['flavor of the wrong type', body({ flavorRef: { id: 1 } }), 400, /instance\.flavorRef/],
  ['unknown flavor', body({ flavorRef: '999' }), 400, /instance\.flavorRef: flavor "999" does not exist/],
  ['missing volume', { instance: { name: 'x', flavorRef: '1' } }, 400, /instance\.volume: /],
  ['zero volume', body({ volume: { size: 0 } }), 400, /instance\.volume\.size: must be at least 1/],
  ['negative volume', body({ volume: { size: -5 } }), 400, /instance\.volume\.size: must be at least 1/],
  ['huge volume', body({ volume: { size: 10_000_000 } }), 400, /instance\.volume\.size: must be at most 1024/],
  ['fractional volume', body({ volume: { size: 1.5 } }), 400, /instance\.volume\.size: must be a whole number/],
  ['volume as a string', body({ volume: { size: '1' } }), 400, /instance\.volume\.size/],
  ['unknown zone', body({ availability_zone: 'nowhere' }), 400, /instance\.availability_zone: zone "nowhere" does not exist/],
  ['database name with backtick', body({ databases: [{ name: 'a`b' }] }), 400, /instance\.databases\[0\]\.name: must match/],
  ['user name with quote', body({ users: [{ name: "x'y", password: 'p' }] }), 400, /instance\.users\[0\]\.name: must match/],
  ['user without password', body({ users: [{ name: 'u' }] }), 400, /instance\.users\[0\]\.password/],
  ['user granted an unknown database', body({ users: [{ name: 'u', password: 'p', databases: [{ name: 'nope' }] }] }), 400, /instance\.users\[0\]\.databases: "nope" is not in instance\.databases/],
  ['unknown field', body({ color: 'blue' }), 400, /Unrecognized key/],
  ['other datastore', body({ datastore: { type: 'postgresql' } }), 400, /instance\.datastore\.type: datastore "postgresql" is not served; use mariadb \(or its alias mysql\)/],
  ['other datastore version', body({ datastore: { type: 'mysql', version: '8.0' } }), 400, /instance\.datastore\.version: mariadb version "8\.0" is not served; use 10\.11/],
  ['other version number', body({ datastore: { version_number: '5.7.29' } }), 400, /instance\.datastore\.version_number: must be 10\.11/],
  // Fields python-troveclient sends that this deployment cannot honour (it always sends access).
  ['public access', body({ access: { is_public: true } }), 400, /instance\.access\.is_public: public access is not served/],
  ['allowed CIDRs', body({ access: { is_public: false, allowed_cidrs: ['10.0.0.0/8'] } }), 400, /instance\.access\.allowed_cidrs: cannot be enforced/],
  ['an unknown access key', body({ access: { is_public: false, floating_ip: true } }), 400, /instance\.access: Unrecognized key: "floating_ip"/],
  ['a network (nics)', body({ nics: [{ network_id: 'net-1' }] }), 400, /instance\.nics: networks cannot be chosen/],
  ['modules', body({ modules: ['mod-1'] }), 400, /instance\.modules: modules are not supported/],
  ['an unknown locality', body({ locality: 'spread' }), 400, /instance\.locality: must be 'affinity' or 'anti-affinity'/],
  ['locality in an unknown zone', body({ locality: 'anti-affinity', availability_zone: 'nowhere' }), 400, /instance\.availability_zone: zone "nowhere" does not exist \(zones: az1, az2, az3\)/],
  ['a configuration group', body({ configuration: 'cfg-1' }), 400, /instance\.configuration: configuration groups are not supported/],
  ['a region', body({ region_name: 'RegionTwo' }), 400, /instance\.region_name: this deployment serves one region/],
  ['a backup reference that is no backup id', body({ restorePoint: { backupRef: 'b-1' } }), 400, /instance\.restorePoint\.backupRef: must be a backup id/],
  ['a backup that does not exist', body({ restorePoint: { backupRef: '0c1e2f3a-0000-4000-8000-000000000001' } }), 400, /instance\.restorePoint\.backupRef: backup 0c1e2f3a-0000-4000-8000-000000000001 not found/],
  ['a volume type', body({ volume: { size: 1, type: 'ssd' } }), 400, /instance\.volume\.type: volume types are not served/],
  ['replica_count without replica_of', body({ replica_count: 2 }), 400, /instance\.replica_count: only with replica_of/],
  ['no instance key', { name: 'x' }, 400, /instance: /],
  ['an array', [], 400, /\(input\)|instance/],
  ['malformed JSON', '{"instance": {', 400, /malformed request/],
  ['oversized body', body({ name: 'x'.repeat(2 * 1024 * 1024) }), 413, /larger than/],
];

test.each(badBodies)('POST /instances with %s: the answer names the field', async (_label, payload, status, message) => {
  const res = await env.api('POST', '/v1.0/proj-a/instances', payload);
  expect(res.status).toBe(status);
  const err = Object.values(res.body as Record<string, { code: number; message: string }>)[0]!;
  expect(err.code).toBe(status);
  expect(err.message).toMatch(message);
});

test.each([
  ['no token', {}, 401],
  ['a wrong token', { 'X-Auth-Token': 'nope' }, 401],
  ["another project's token", { 'X-Auth-Token': 'tok-b' }, 403],
])('POST /instances with %s is refused', async (_label, headers, status) => {
  const res = await fetch(`${env.apiUrl}/v1.0/proj-a/instances`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body({})) });
  expect(res.status).toBe(status);
});

test.each([
  ['/flavors/999', /^flavor 999 not found$/],
  ['/flavors/1%3BDROP%20TABLE%20x', /^flavor 1;DROP TABLE x not found$/],
  ['/datastores/postgresql', /^datastore postgresql not found \(served: mariadb\)$/],
  ['/datastores/postgresql/versions', /^datastore postgresql not found/],
  ['/datastores/mysql/versions/8.0', /^mariadb version 8\.0 not found \(served: 10\.11\)$/],
  ['/datastores/versions/00000000-0000-4000-8000-000000000000', /^datastore version 00000000-0000-4000-8000-000000000000 not found$/],
  ['/datastores/mariadb/versions/8.0/flavors', /^mariadb version 8\.0 not found/],
])('GET %s answers 404 naming what is not there', async (p, message) => {
  const res = await env.api('GET', `/v1.0/proj-a${p}`);
  expect(res).toMatchObject({ status: 404, body: { itemNotFound: { code: 404, message: expect.stringMatching(message) } } });
});

test.each([
  ['unknown id', '00000000-0000-4000-8000-000000000000'],
  ['id with SQL in it', "x' OR '1'='1"],
])('show and delete of an %s answer 404, and so do its databases and users', async (_label, id) => {
  expect((await env.api('GET', `/v1.0/proj-a/instances/${encodeURIComponent(id)}`)).status).toBe(404);
  expect((await env.api('DELETE', `/v1.0/proj-a/instances/${encodeURIComponent(id)}`)).status).toBe(404);
  for (const [method, p, payload] of [
    ['GET', '/databases'],
    ['POST', '/databases', { databases: [{ name: 'x' }] }],
    ['GET', '/users'],
    ['POST', '/users', { users: [{ name: 'u', password: 'p' }] }],
    ['DELETE', '/users/u/databases/x'],
  ] as [string, string, unknown?][]) {
    expect({ method, p, status: (await env.api(method, `/v1.0/proj-a/instances/${encodeURIComponent(id)}${p}`, payload)).status }).toEqual({ method, p, status: 404 });
  }
});

test('a direct manageAccess start with a plaintext password fails at once, non-retryable, naming the field', async () => {
  const input = { instanceId: randomUUID(), projectId: 'proj-a', novaServerId: 'srv-x', action: { kind: 'createUsers', users: [{ name: 'u', sealedPassword: 'secret' }] } };
  await expect(startManageAccess(env.temporal, input as never)).rejects.toThrow(ValidationError);
  const err = await env.temporal.workflow
    .execute('manageAccess', { taskQueue: 'trove-orchestrator', workflowId: `bad-${randomUUID()}`, args: [input] })
    .then(() => undefined, (e: unknown) => e);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  expect(cause.message).toMatch(/action\.users\[0\]\.sealedPassword: must be a sealed secret/);
});

const goodSpec = () => ({ instanceId: randomUUID(), projectId: 'proj-a', name: 'direct', flavorId: '1', volumeSizeGb: 1, databases: [], users: [] });

test.each([
  ['a plaintext password', { users: [{ name: 'u', password: 'secret', databases: [] }] }, /users\[0\]\.password: plaintext passwords may not enter a workflow/],
  ['a non-UUID instance id', { instanceId: 'abc' }, /instanceId: must be a lowercase UUID/],
  ['a string volume', { volumeSizeGb: '1' }, /volumeSizeGb: /],
  ['a name with a semicolon', { name: 'a;b' }, /name: must match/],
  ['an unknown locality', { locality: 'nearby' }, /locality: must be 'affinity' or 'anti-affinity'/],
])('a direct workflow start with %s fails at once, non-retryable, naming the field', async (_label, overrides, message) => {
  const spec = { ...goodSpec(), ...overrides };
  // The typed helper refuses before anything starts...
  await expect(startProvisionInstance(env.temporal, spec as never)).rejects.toThrow(ValidationError);
  // ...and a raw start by a service that skips it fails in the workflow's first step.
  const err = await env.temporal.workflow
    .execute('provisionInstance', { taskQueue: 'trove-orchestrator', workflowId: `bad-${randomUUID()}`, args: [spec] })
    .then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toMatch(message);
});

test('an unknown flavor in a direct start fails non-retryable and leaves only an ERROR record, no server', async () => {
  const spec = { ...goodSpec(), flavorId: '999' };
  const err = await env.temporal.workflow
    .execute('provisionInstance', { taskQueue: 'trove-orchestrator', workflowId: `bad-${randomUUID()}`, args: [spec] })
    .then(() => undefined, (e: unknown) => e);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toMatch(/flavorRef: flavor "999" does not exist/);
  const rec = await env.registry!.instances.get(spec.instanceId);
  expect(rec).toMatchObject({ status: 'ERROR', operationId: null });
  expect(await env.nova.listServers()).toEqual([]);
  await env.registry!.instances.remove(spec.instanceId);
});

test('a createReplicas started with the plain temporal CLI and a zero count fails naming the field', async () => {
  const workflowId = `create-replicas-cli-${randomUUID()}`;
  execFileSync(DEFAULT_TEMPORAL_CLI, [
    'workflow', 'start', '--address', env.stack.env.TEMPORAL_ADDRESS!, '--task-queue', 'trove-orchestrator',
    '--type', 'createReplicas', '--workflow-id', workflowId,
    '--input', JSON.stringify({ sourceInstanceId: randomUUID(), projectId: 'proj-a', count: 0 }),
  ]);
  const err = await env.temporal.workflow.getHandle(workflowId).result().then(() => undefined, (e: unknown) => e);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toMatch(/count: must be at least 1/);
});

test('after all of that, nothing was created', async () => {
  expect(await resourceCounts(env)).toEqual(before);
});

describe('bad replication requests change nothing', () => {
  let master: string;
  let replica: string;
  let counts: () => Promise<Record<string, unknown>>;

  beforeAll(async () => {
    const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'bad-src', flavorRef: '1', volume: { size: 1 } } });
    master = created.body.instance.id;
    const active = async (id: string) => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
    for (let i = 0; i < 240 && (await active(master))?.status !== 'ACTIVE'; i++) await new Promise((r) => setTimeout(r, 500));
    const rep = await env.api('POST', `/v1.0/proj-a/instances/${master}/action`, { replicate: { count: 1 } });
    await env.temporal.workflow.getHandle(rep.body.operation.id).result();
    replica = rep.body.replicas[0].id;
    const novaId = (await env.registry!.instances.get(master))!.novaServerId!;
    counts = async () => ({
      ...(await resourceCounts(env)),
      credentials: await env.registry!.accounts.count(),
      accountsOnSource: (await adminQuery<{ n: number }>(env.dataDir, novaId, "SELECT COUNT(*) AS n FROM mysql.user WHERE User LIKE 'repl\\_%'"))[0]!.n,
      replicas: (await env.registry!.instances.get(master))!.replicas.length,
    });
  }, 300_000);

  test('each is refused naming the rule, and nothing changes', async () => {
    const before = await counts();
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', `/instances/${master}/action`, { replicate: { count: 0 } }, 400, /replicate\.count: must be at least 1/],
      ['POST', `/instances/${master}/action`, { replicate: { count: 11 } }, 400, /replicate\.count: must be at most 10/],
      ['POST', `/instances/${master}/action`, { replicate: { count: 'two' } }, 400, /replicate\.count/],
      ['POST', `/instances/${master}/action`, { replicate: { count: 1, instance: { flavorRef: '999' } } }, 400, /flavorRef: flavor "999" does not exist/],
      ['POST', `/instances/${master}/action`, { replicate: { count: 1 }, detach: {} }, 400, /exactly one action/],
      ['POST', `/instances/${master}/action`, { reboot_everything: {} }, 400, /unknown action/],
      ['POST', `/instances/${replica}/action`, { replicate: { count: 1 } }, 400, /deeper than the 1 allowed \(TROVE_MAX_DEPTH\)/],
      ['POST', '/instances/00000000-0000-4000-8000-000000000000/action', { replicate: { count: 1 } }, 404, /not found/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, users: [{ name: 'u', password: 'p' }] } }, 400, /instance\.users: not allowed for a replica/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, slave_of: master } }, 400, /exactly one of replica_of and slave_of/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: replica } }, 400, /deeper than the 1 allowed \(TROVE_MAX_DEPTH\)/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, locality: 'anti-affinity' } }, 400, /instance\.locality: replicas join their source's server group/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, availability_zone: 'nowhere' } }, 400, /availability_zone: zone "nowhere" does not exist \(zones: az1, az2, az3\)/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, access: { is_public: true } } }, 400, /instance\.access\.is_public: public access is not served/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, datastore: { type: 'redis' } } }, 400, /instance\.datastore\.type: datastore "redis" is not served/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, nics: [{ network_id: 'n' }] } }, 400, /instance\.nics: networks cannot be chosen/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, modules: ['m'] } }, 400, /instance\.modules: modules are not supported/],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, region_name: 'RegionTwo' } }, 400, /instance\.region_name: /],
      ['POST', '/instances', { instance: { name: 'r', replica_of: master, volume: { size: 1, type: 'ssd' } } }, 400, /instance\.volume\.type: /],
      ['POST', `/instances/${master}/topology/action`, { detach: {} }, 400, /not a replica/],
      ['PATCH', `/instances/${master}`, { instance: { replica_of: null } }, 400, /not a replica/],
      ['POST', `/instances/${master}/action`, { promote_to_replica_source: {} }, 400, /not a replica/],
      ['DELETE', `/instances/${master}`, undefined, 400, /source of 1 replica\(s\); detach or delete them first/],
      ['POST', `/instances/${replica}/action`, { eject_replica_source: {} }, 400, /is a replica; eject the source it replicates from/],
      ['POST', `/instances/${master}/action`, { eject_replica_source: { force: 'yes' } }, 400, /eject_replica_source\.force/],
      ['PATCH', `/instances/${master}/replication`, { replication: { quiet_period: -1 } }, 400, /quiet_period: must be at least 0/],
      ['PATCH', `/instances/${master}/replication`, { replication: { failover_after: 0 } }, 400, /failover_after: must be at least 1/],
      ['PATCH', `/instances/${master}/replication`, { replication: { auto_failover: 'on' } }, 400, /auto_failover/],
      ['PATCH', `/instances/${master}/replication`, { replication: {} }, 400, /at least one setting/],
      ['POST', `/instances/${master}/action`, { resize: { flavorRef: '1' } }, 400, /resize\.flavorRef: must differ from the instance's current flavor "1"/],
      ['POST', `/instances/${master}/action`, { resize: { flavorRef: '999' } }, 400, /resize\.flavorRef: flavor "999" does not exist/],
      ['POST', `/instances/${master}/action`, { resize: { volume: { size: 1 } } }, 400, /resize\.volume\.size: must be larger than the current volume size of 1 GB/],
      ['POST', `/instances/${master}/action`, { resize: { volume: { size: 2 }, flavorRef: '2' } }, 400, /resize: give exactly one of volume and flavorRef/],
      ['POST', `/instances/${master}/action`, { restart: { now: true } }, 400, /restart: Unrecognized key: "now"/],
      ['PATCH', `/instances/${master}`, { instance: { name: 'bad name!' } }, 400, /instance\.name: must match/],
      ['PUT', `/instances/${master}`, { instance: { name: 'renamed', replica_of: null } }, 400, /not a replica/],
    ];
    for (const [method, p, body, status, message] of cases) {
      const res = await env.api(method, `/v1.0/proj-a${p}`, body);
      expect({ p, body, status: res.status }).toEqual({ p, body, status });
      expect((Object.values(res.body as Record<string, { message: string }>)[0] ?? { message: '' }).message).toMatch(message);
    }
    // A refused request starts nothing (a sent reply once slipped through as "not refused").
    const started: string[] = [];
    for await (const wf of env.temporal.workflow.list({ query: `WorkflowType="createReplicas" AND TroveInstance="${master}"` })) started.push(wf.workflowId);
    expect(started).toHaveLength(1);
    // Another project cannot see or act on these instances.
    expect((await env.api('POST', `/v1.0/proj-b/instances/${master}/action`, { replicate: { count: 1 } }, { 'X-Auth-Token': 'tok-b' })).status).toBe(404);
    // Eject of a source the set's monitor has just seen healthy is refused at once (409),
    // by the rulebook: nothing starts, nothing is fenced.
    for (let i = 0; i < 100; i++) {
      const health = ((await env.api('GET', `/v1.0/proj-a/instances/${master}`)).body.instance.replication_health ?? []) as { observed: string }[];
      if (health.length > 0 && health.every((h) => Date.now() - Date.parse(h.observed) < 5000)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const eject = await env.api('POST', `/v1.0/proj-a/instances/${master}/action`, { eject_replica_source: {} });
    expect(eject).toMatchObject({ status: 409, body: { conflictingRequest: { message: expect.stringMatching(/source is healthy .*eject it only with force/) } } });
    const ejects: string[] = [];
    for await (const wf of env.temporal.workflow.list({ query: `WorkflowType="ejectReplicaSource"` })) ejects.push(wf.workflowId);
    expect(ejects).toEqual([]);
    expect(await counts()).toEqual(before);
    expect((await env.nova.listServers()).every((s) => s.status === 'ACTIVE')).toBe(true);
  });
});
