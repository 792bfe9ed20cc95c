// The whole stack for real: the API creates an instance through Temporal, Nova boots a
// server whose guest agent runs MariaDB, an application connects with what `show`
// reports, and delete leaves nothing behind.
import { createConnection } from 'mysql2/promise';
import { SA_INSTANCE, SA_INSTANCE_NAME, SA_OPERATION, SA_PROJECT } from '../../lib/names';
import { resourceCounts, serverFolders, serverProcesses } from '../helpers/leftovers';
import { eventually, waitForStatus as waitForStatusOf, errorNextBuilds, useTestStack } from '../helpers/stack';

const env = useTestStack();

const waitForStatus = (id: string, wanted: string) => waitForStatusOf(env, id, wanted, 180_000);

test('create an instance with a database and a user, use it, delete it: nothing remains', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: {
      name: 'orders',
      flavorRef: '1',
      volume: { size: 1 },
      availability_zone: 'az2',
      databases: [{ name: 'shop' }],
      users: [{ name: 'app', password: 'app-pass-1', databases: [{ name: 'shop' }] }],
    },
  });
  expect(created.status).toBe(202);
  expect(created.body.instance).toMatchObject({ name: 'orders', status: 'BUILD', volume: { size: 1 }, datastore: { type: 'mariadb', version: '10.11' } });
  const id = created.body.instance.id as string;

  const shown = await waitForStatus(id, 'ACTIVE');
  expect(shown.ip).toHaveLength(1);
  expect(shown.port).toBe(3306);
  expect(shown.availability_zone).toBe('az2');

  const conn = await createConnection({ host: shown.ip[0], port: shown.port, user: 'app', password: 'app-pass-1', database: 'shop' });
  await conn.query('CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20))');
  await conn.query("INSERT INTO orders VALUES (1, 'book')");
  const [rows] = await conn.query('SELECT item FROM orders WHERE id = 1');
  expect(rows).toEqual([{ item: 'book' }]);
  // The user's grants are on its database only.
  await expect(conn.query('CREATE DATABASE other')).rejects.toThrow(/denied/);
  await conn.end();

  // The operation is findable in the Web UI by its search attributes.
  const desc = await env.temporal.workflow.getHandle(`provision-instance-${id}`).describe();
  expect(desc.typedSearchAttributes.get(SA_PROJECT)).toBe('proj-a');
  expect(desc.typedSearchAttributes.get(SA_INSTANCE)).toBe(id);
  expect(desc.typedSearchAttributes.get(SA_OPERATION)).toBe('provisionInstance');
  expect(desc.typedSearchAttributes.get(SA_INSTANCE_NAME)).toBe('orders');

  const list = await env.api('GET', '/v1.0/proj-a/instances');
  expect(list.body.instances.map((i: { id: string }) => i.id)).toContain(id);
  // Another project neither lists nor sees it.
  const other = await env.api('GET', '/v1.0/proj-b/instances/' + id, undefined, { 'X-Auth-Token': 'tok-b' });
  expect(other.status).toBe(404);
  expect((await env.api('GET', '/v1.0/proj-b/instances', undefined, { 'X-Auth-Token': 'tok-b' })).body.instances).toEqual([]);
  expect((await env.api('DELETE', '/v1.0/proj-b/instances/' + id, undefined, { 'X-Auth-Token': 'tok-b' })).status).toBe(404);

  expect(serverProcesses(env.dataDir).length).toBeGreaterThanOrEqual(3);
  const del = await env.api('DELETE', `/v1.0/proj-a/instances/${id}`);
  expect(del.status).toBe(202);
  await eventually('instance gone', async () => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).status === 404, 120_000);
  const deletion = env.temporal.workflow.getHandle(`delete-instance-${id}`);
  await deletion.result();
  // The API names the instance it deletes (the input holds only its id).
  expect((await deletion.describe()).typedSearchAttributes.get(SA_INSTANCE_NAME)).toBe('orders');

  expect(await env.nova.listServers()).toEqual([]);
  expect(serverFolders(env.dataDir)).toEqual([]);
  expect(serverProcesses(env.dataDir)).toEqual([]);
  expect(await env.registry!.instances.count()).toBe(0);
});

test('a repeated create with the same X-Request-Id returns the same instance', async () => {
  const body = { instance: { name: 'idem', flavorRef: '1', volume: { size: 1 } } };
  const a = await env.api('POST', '/v1.0/proj-a/instances', body, { 'X-Request-Id': 'req-123' });
  const b = await env.api('POST', '/v1.0/proj-a/instances', body, { 'X-Request-Id': 'req-123' });
  expect(a.status).toBe(202);
  expect(b.status).toBe(202);
  expect(b.body.instance.id).toBe(a.body.instance.id);
  await waitForStatus(a.body.instance.id, 'ACTIVE');
  expect(await env.nova.listServers()).toHaveLength(1);
  // Deleting while the provisioning still holds the lock would be refused with 409;
  // it is released now, so the delete is accepted.
  expect((await env.api('DELETE', `/v1.0/proj-a/instances/${a.body.instance.id}`)).status).toBe(202);
  await eventually('instance gone', async () => (await env.api('GET', `/v1.0/proj-a/instances/${a.body.instance.id}`)).status === 404, 120_000);
  expect(await resourceCounts(env)).toEqual({ novaServers: 0, registryRows: 0, folders: 0, processes: 0 });
});

test('a build that Nova puts in ERROR leaves the instance in ERROR with the reason and no server', async () => {
  await errorNextBuilds(env);
  const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'doomed', flavorRef: '1', volume: { size: 1 } } });
  const failed = await waitForStatus(created.body.instance.id, 'ERROR');
  expect(failed.fault.message).toMatch(/ERROR/);
  expect(await env.nova.listServers()).toEqual([]);
  expect(serverProcesses(env.dataDir)).toEqual([]);
  // An instance in ERROR can be deleted.
  expect((await env.api('DELETE', `/v1.0/proj-a/instances/${created.body.instance.id}`)).status).toBe(202);
  await eventually('instance gone', async () => (await env.api('GET', `/v1.0/proj-a/instances/${created.body.instance.id}`)).status === 404, 60_000);
});
