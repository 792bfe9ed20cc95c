// Restart, rename and resize on the real stack, through the REST API as python-troveclient
// sends them: a restarted source keeps its data and its replica replicates again, a renamed
// instance is found by its new name, a grown volume is bigger as Nova and the guest see it,
// a flavor resize leaves the server ACTIVE with the new flavor's memory and its data; bad
// input is refused at once and changes nothing.
import { createConnection, type Connection } from 'mysql2/promise';
import { adminQuery } from '../helpers/mysql';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack;
const APP = { user: 'app', password: 'app-pass-1' };
let source: { id: string; ip: string; novaServerId: string };
let replica: { id: string; ip: string; novaServerId: string };

const show = async (ref: string) => (await env.api('GET', `/v1.0/proj-a/instances/${ref}`)).body?.instance;
const idle = (i: any) => i?.status === 'ACTIVE' && !i.operation;
const waitIdle = (id: string) => eventually(`${id} idle`, async () => ((i) => (idle(i) ? i : undefined))(await show(id)), 240_000);
const action = (id: string, body: unknown) => env.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
const appConn = (host: string): Promise<Connection> => createConnection({ host, port: 3306, ...APP, database: 'shop' });

/** The operation a 202 names, to its end. */
async function finished(res: { status: number; body: any }): Promise<any> {
  expect(res.status).toBe(202);
  return env.temporal.workflow.getHandle(res.body.operation.id).result();
}

async function rows(host: string): Promise<number[]> {
  const c = await appConn(host);
  try {
    const [r] = await c.query('SELECT id FROM orders ORDER BY id');
    return (r as { id: number }[]).map((x) => x.id);
  } finally {
    await c.end();
  }
}

async function write(id: number): Promise<void> {
  const c = await appConn(source.ip);
  await c.query('INSERT INTO orders VALUES (?, ?)', [id, `item-${id}`]);
  await c.end();
}

const replicaHas = (id: number) => eventually(`row ${id} on the replica`, async () => (await rows(replica.ip)).includes(id), 30_000);

beforeAll(async () => {
  env = await startTestStack();
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'orders', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const s = await waitIdle(created.body.instance.id);
  source = { id: s.id, ip: s.ip[0], novaServerId: (await env.registry!.instances.get(s.id))!.novaServerId! };
  const c = await appConn(source.ip);
  await c.query('CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40))');
  await c.query('INSERT INTO orders VALUES (1, ?), (2, ?)', ['book', 'pen']);
  await c.end();
  const rep = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'orders-replica', replica_of: source.id } });
  if (rep.status !== 202) throw new Error(`replica create answered ${rep.status}: ${JSON.stringify(rep.body)}`);
  const r = await waitIdle(rep.body.instance.id);
  replica = { id: r.id, ip: r.ip[0], novaServerId: (await env.registry!.instances.get(r.id))!.novaServerId! };
}, 600_000);

afterAll(async () => {
  await env?.stop();
});

test('a restarted source keeps its data, and its replica replicates again', async () => {
  const uptimeBefore = Number((await adminQuery<{ Value: string }>(env.dataDir, source.novaServerId, "SHOW GLOBAL STATUS LIKE 'Uptime'"))[0]!.Value);
  const result = await finished(await action(source.id, { restart: {} }));
  expect(result).toMatchObject({ instanceId: source.id, replicasResumed: [replica.id] });
  const uptimeAfter = Number((await adminQuery<{ Value: string }>(env.dataDir, source.novaServerId, "SHOW GLOBAL STATUS LIKE 'Uptime'"))[0]!.Value);
  expect(uptimeAfter).toBeLessThan(uptimeBefore);
  expect(await rows(source.ip)).toEqual([1, 2]);
  await write(3);
  await replicaHas(3);
  expect(await waitIdle(source.id)).not.toHaveProperty('fault');
});

test('a restarted replica catches up with its source', async () => {
  const result = await finished(await action(replica.id, { restart: {} }));
  expect(result).toMatchObject({ instanceId: replica.id, replicasResumed: [replica.id] });
  await write(4);
  await replicaHas(4);
});

test('a renamed instance is found by its new name, and no longer by the old one', async () => {
  const res = await env.api('PATCH', `/v1.0/proj-a/instances/${source.id}`, { instance: { name: 'orders-main' } });
  expect(res.status).toBe(202);
  expect(res.body.instance).toMatchObject({ id: source.id, name: 'orders-main' });
  expect((await show('orders-main')).id).toBe(source.id);
  expect((await env.api('GET', '/v1.0/proj-a/instances/orders')).status).toBe(404);
  // troveclient's update sends PUT.
  expect((await env.api('PUT', `/v1.0/proj-a/instances/${source.id}`, { instance: { name: 'orders' } })).status).toBe(202);
  expect((await show('orders')).id).toBe(source.id);
});

test('a grown volume is bigger as Nova and the guest see it; the replica grows with its source', async () => {
  const result = await finished(await action(source.id, { resize: { volume: { size: 2 } } }));
  expect(result).toMatchObject({ volumeSizeGb: 2, volumesGrown: [source.id, replica.id], guestVolume: { sizeGb: 2 } });
  expect(result.guestVolume.usedBytes).toBeGreaterThan(1_000_000);
  expect((await env.nova.getServer(source.novaServerId))!['x-volume-size-gb']).toBe(2);
  expect((await env.nova.getServer(replica.novaServerId))!['x-volume-size-gb']).toBe(2);
  expect((await waitIdle(source.id)).volume).toEqual({ size: 2 });
  expect((await show(replica.id)).volume).toEqual({ size: 2 });
  // A replica may grow past its source (Trove allows it).
  await finished(await action(replica.id, { resize: { volume: { size: 3 } } }));
  expect((await waitIdle(replica.id)).volume).toEqual({ size: 3 });
  expect((await show(source.id)).volume).toEqual({ size: 2 });
});

test('a flavor resize leaves the server ACTIVE with the new flavor, its memory and its data', async () => {
  const pool = async () => Number((await adminQuery<{ b: string }>(env.dataDir, source.novaServerId, 'SELECT @@innodb_buffer_pool_size AS b'))[0]!.b);
  expect(await pool()).toBe(256 * 1024 * 1024);
  const result = await finished(await action(source.id, { resize: { flavorRef: '7' } }));
  expect(result).toMatchObject({ instanceId: source.id, flavorId: '7' });
  const shown = await waitIdle(source.id);
  expect(shown.flavor.id).toBe('7');
  expect(shown).not.toHaveProperty('fault');
  const server = (await env.nova.getServer(source.novaServerId))!;
  expect(server).toMatchObject({ status: 'ACTIVE', flavor: { id: '7' } });
  // Half the new flavor's 1024 MB, as at create.
  expect(await pool()).toBe(512 * 1024 * 1024);
  expect(await rows(source.ip)).toEqual([1, 2, 3, 4]);
  await write(5);
  await replicaHas(5);
});

test('reset_status of an idle instance changes nothing (no lock outlives its operation)', async () => {
  const before = await show(source.id);
  expect((await action(source.id, { reset_status: {} })).status).toBe(202);
  expect(await show(source.id)).toMatchObject({ status: 'ACTIVE', name: before.name, flavor: before.flavor });
});

test.each([
  ['the same flavor', { resize: { flavorRef: '7' } }, /resize\.flavorRef: must differ from the instance's current flavor "7"/],
  ['an unknown flavor', { resize: { flavorRef: '99' } }, /resize\.flavorRef: flavor "99" does not exist/],
  ['an equal volume', { resize: { volume: { size: 2 } } }, /resize\.volume\.size: must be larger than the current volume size of 2 GB/],
  ['a smaller volume', { resize: { volume: { size: 1 } } }, /resize\.volume\.size: must be larger/],
  ['a volume too large', { resize: { volume: { size: 5000 } } }, /resize\.volume\.size: must be at most 1024/],
  ['both at once', { resize: { flavorRef: '8', volume: { size: 4 } } }, /resize: give exactly one of volume and flavorRef/],
  ['a resize of nothing', { resize: {} }, /give exactly one of volume and flavorRef/],
  ['an unknown resize field', { resize: { disk: 3 } }, /resize: Unrecognized key: "disk"/],
  ['a restart with arguments', { restart: { hard: true } }, /restart: Unrecognized key: "hard"/],
])('%s is refused with a 400 naming the field, and nothing changes', async (_, body, message) => {
  const before = await show(source.id);
  const res = await action(source.id, body);
  expect(res.status).toBe(400);
  expect(res.body.badRequest.message).toMatch(message);
  const after = await show(source.id);
  expect({ flavor: after.flavor, volume: after.volume, name: after.name, operation: after.operation }).toEqual({ flavor: before.flavor, volume: before.volume, name: before.name, operation: before.operation });
});

test.each([
  ['a bad name', { instance: { name: 'no spaces allowed' } }, /instance\.name: must match/],
  ['an unknown field', { instance: { name: 'x1', flavor: '2' } }, /instance: Unrecognized key: "flavor"/],
  ['a configuration group', { instance: { configuration: 'cfg-1' } }, /instance\.configuration: configuration groups are not supported/],
  ['public access', { instance: { access: { is_public: true } } }, /instance\.access\.is_public: public access is not served/],
  ['nothing', { instance: {} }, /nothing to change/],
  ['a rename with a detach of a source', { instance: { name: 'renamed', replica_of: null } }, /not a replica; there is nothing to detach/],
])('PATCH with %s is refused with a 400, and the name stays', async (_, body, message) => {
  const res = await env.api('PATCH', `/v1.0/proj-a/instances/${source.id}`, body);
  expect(res.status).toBe(400);
  expect(res.body.badRequest.message).toMatch(message);
  expect((await show(source.id)).name).toBe('orders');
});
