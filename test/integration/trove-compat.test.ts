// The API as python-troveclient speaks it, on the real stack: flavors come from Nova,
// the datastore is the MariaDB that runs, with stable ids; the create bodies the client
// sends (recorded from `openstack database instance create`: access, volume.type null,
// datastore mysql) build real instances and replicas; `addresses` is where MariaDB
// answers; a build that fails after its 202 shows Trove's fault {message, created}.
import { createConnection } from 'mysql2/promise';
import { DATASTORES } from '../../api/catalog';
import { waitForStatus as waitForStatusOf, errorNextBuilds, useTestStack } from '../helpers/stack';

const env = useTestStack();

const DS = DATASTORES[0]!;
const VERSION = DS.versions[0]!;

const waitForStatus = (id: string, wanted: string) => waitForStatusOf(env, id, wanted, 240_000);

test('flavors are Nova\'s, in Trove\'s shape; the client\'s lookup of flavor 1 finds it', async () => {
  const nova = await env.nova.listFlavors();
  const list = await env.api('GET', '/v1.0/proj-a/flavors');
  expect(list.status).toBe(200);
  expect(list.body.flavors.map((f: { str_id: string }) => f.str_id)).toEqual(nova.map((f) => f.id));
  for (const [i, f] of nova.entries()) {
    expect(list.body.flavors[i]).toMatchObject({ id: Number(f.id), str_id: f.id, name: f.name, ram: f.ram, vcpus: f.vcpus, disk: f.disk, ephemeral: 0 });
  }
  const one = await env.api('GET', '/v1.0/proj-a/flavors/1');
  expect(one).toMatchObject({ status: 200, body: { flavor: { id: 1, name: nova[0]!.name, links: [{ rel: 'self', href: `${env.apiUrl}/v1.0/proj-a/flavors/1` }, expect.anything()] } } });
});

test('datastores: mariadb 10.11, also as mysql, by the same ids on every call', async () => {
  const first = await env.api('GET', '/v1.0/proj-a/datastores');
  expect(first).toMatchObject({ status: 200, body: { datastores: [{ id: DS.id, name: 'mariadb', default_version: VERSION.id, versions: [{ id: VERSION.id, name: '10.11', active: true }] }] } });
  expect((await env.api('GET', '/v1.0/proj-a/datastores')).body).toEqual(first.body);
  for (const ref of ['mariadb', 'mysql', DS.id]) {
    expect(await env.api('GET', `/v1.0/proj-a/datastores/${ref}`)).toMatchObject({ status: 200, body: { datastore: { id: DS.id, name: 'mariadb' } } });
    expect(await env.api('GET', `/v1.0/proj-a/datastores/${ref}/versions`)).toMatchObject({ status: 200, body: { versions: [{ id: VERSION.id, name: '10.11', datastore: DS.id }] } });
    expect(await env.api('GET', `/v1.0/proj-a/datastores/${ref}/versions/10.11`)).toMatchObject({ status: 200, body: { version: { id: VERSION.id } } });
  }
  expect(await env.api('GET', `/v1.0/proj-a/datastores/versions/${VERSION.id}`)).toMatchObject({ status: 200, body: { version: { id: VERSION.id, name: '10.11', datastore: DS.id } } });
  expect(await env.api('GET', `/v1.0/proj-a/datastores/mysql/versions/${VERSION.id}/flavors`)).toMatchObject({ status: 200, body: { flavors: expect.arrayContaining([expect.objectContaining({ id: 1 })]) } });
});

test('the client\'s create body builds an instance: addresses is where MariaDB answers the user it made; a replica from the client\'s body too', async () => {
  // Exactly what `openstack database instance create db1 --flavor 1 --size 1 --datastore mysql
  // --datastore-version 10.11 --databases shop --users app:app-pass-1` sends.
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: {
      name: 'compat', flavorRef: 1, volume: { size: 1, type: null }, datastore: { type: 'mysql', version: '10.11' },
      databases: [{ name: 'shop' }], users: [{ name: 'app', password: 'app-pass-1', databases: [{ name: 'shop' }] }], access: { is_public: false },
    },
  });
  expect(created).toMatchObject({ status: 202, body: { instance: { status: 'BUILD', datastore: { type: 'mariadb', version: '10.11', version_number: '10.11' }, addresses: [], access: { is_public: false } } } });
  const id = created.body.instance.id as string;
  const shown = await waitForStatus(id, 'ACTIVE');
  expect(shown.addresses).toEqual([{ address: shown.ip[0], type: 'private' }]);
  expect(shown).not.toHaveProperty('fault');
  const listed = (await env.api('GET', '/v1.0/proj-a/instances')).body.instances.find((i: { id: string }) => i.id === id);
  expect(listed.addresses).toEqual(shown.addresses);

  const conn = await createConnection({ host: shown.addresses[0].address, port: shown.port, user: 'app', password: 'app-pass-1', database: 'shop' });
  try {
    const [rows] = await conn.query('SELECT DATABASE() AS db, @@version AS version');
    expect(rows).toEqual([{ db: 'shop', version: expect.stringMatching(/^10\.11\./) }]);
  } finally {
    await conn.end();
  }

  // `openstack database instance create r --replica-of <id>` (replica_count 1, access always).
  const rep = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'compat-r', replica_of: id, replica_count: 1, access: { is_public: false } } });
  expect(rep).toMatchObject({ status: 202, body: { instance: { name: 'compat-r', replica_of: { id } } } });
  await env.temporal.workflow.getHandle(rep.body.operation.id).result();
  const replica = await waitForStatus(rep.body.instance.id, 'ACTIVE');
  expect(replica.addresses).toEqual([{ address: replica.ip[0], type: 'private' }]);
  expect(replica.addresses[0].address).not.toBe(shown.addresses[0].address);
});

test('a build that fails after its 202 shows Trove\'s fault: the message and when it was recorded', async () => {
  await errorNextBuilds(env);
  const asked = Date.now();
  const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'compat-doomed', flavorRef: 1, volume: { size: 1, type: null }, access: { is_public: false } } });
  expect(created.status).toBe(202);
  expect(created.body.instance).not.toHaveProperty('fault');
  const failed = await waitForStatus(created.body.instance.id, 'ERROR');
  expect(failed.fault).toEqual({ message: expect.stringMatching(/ERROR/), created: expect.any(String) });
  const at = Date.parse(failed.fault.created);
  expect(at).toBeGreaterThanOrEqual(asked - 2000);
  expect(at).toBeLessThanOrEqual(Date.now() + 2000);
  expect(failed.addresses).toEqual([]);
  // The list shows it too, and the registry kept the time.
  const listed = (await env.api('GET', '/v1.0/proj-a/instances')).body.instances.find((i: { id: string }) => i.id === created.body.instance.id);
  expect(listed.fault).toEqual(failed.fault);
  expect((await env.registry!.instances.get(created.body.instance.id))!.faultAt!.toISOString()).toBe(failed.fault.created);
});
