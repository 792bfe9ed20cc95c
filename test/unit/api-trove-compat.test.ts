// The API as python-troveclient / python-openstackclient speak it: the create bodies they
// send (recorded from `openstack database instance create` 10.5.0 / troveclient 8.11.0),
// the fields this deployment refuses naming them, the catalog (flavors, datastores, stable
// ids), and the instance view's addresses, access and fault.
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApiApp } from '../../api/app';
import { flattenView } from '../../cli/format';
import { DATASTORES, findDatastore, findVersion, findVersionById, uuidV5 } from '../../api/catalog';
import { createInstanceBody, createReplicaBody } from '../../api/schemas';
import { instanceView } from '../../api/views';
import { NovaError, type NovaClient, type NovaFlavor } from '../../lib/nova-client';
import { formatIssues } from '../../lib/validation';
import type { InstanceRecord, Registry } from '../../registry';

// Bodies exactly as the client sent them (captured on the wire).
const OSC = {
  create: { instance: { name: 'db1', flavorRef: 1, volume: { size: 1, type: null }, databases: [{ name: 'd1' }], users: [{ name: 'u', password: 'p', databases: [{ name: 'd1' }] }], access: { is_public: false } } },
  createMysql: { instance: { name: 'db1', flavorRef: 1, volume: { size: 1, type: null }, availability_zone: 'az1', datastore: { type: 'mysql', version: '10.11' }, access: { is_public: false } } },
  replicas: { instance: { name: 'r1', replica_of: '11111111-1111-4111-8111-111111111111', replica_count: 2, access: { is_public: false } } },
  everything: {
    instance: {
      name: 'db2', flavorRef: 1, volume: { size: 2, type: 'ssd' }, datastore: { version_number: '10.11' }, nics: [{ network_id: 'abc' }], configuration: 'cfg1',
      locality: 'affinity', region_name: 'RegionOne', access: { is_public: true, allowed_cidrs: ['10.0.0.0/8'] },
    },
  },
};

/** uuidV5('datastore:mariadb') and uuidV5('datastore-version:mariadb:10.11') in the catalog's namespace. */
const FIXED = { datastore: 'ea37c051-12b1-5e6c-9a04-5ea79e13de4f', version: '42814f7d-3e10-5683-afda-434b0ffd83a1' };

const issuesOf = (schema: typeof createInstanceBody | typeof createReplicaBody, body: unknown) => {
  const r = schema.safeParse(body);
  return r.success ? [] : formatIssues(r.error);
};
const withInstance = (base: { instance: Record<string, unknown> }, extra: Record<string, unknown>) => ({ instance: { ...base.instance, ...extra } });

describe('create bodies the client sends', () => {
  test('a plain create, with databases and users, is accepted as sent', () => {
    const parsed = createInstanceBody.parse(OSC.create);
    expect(parsed.instance).toMatchObject({ name: 'db1', flavorRef: '1', volume: { size: 1 }, users: [{ name: 'u', host: '%', databases: [{ name: 'd1' }] }] });
  });

  test('the type mysql is accepted as an alias of mariadb, with its version', () => {
    expect(issuesOf(createInstanceBody, OSC.createMysql)).toEqual([]);
    for (const datastore of [{ type: 'mariadb' }, { type: 'MySQL', version: '10.11' }, { version: '10.11' }, { type: DATASTORES[0]!.id, version: DATASTORES[0]!.versions[0]!.id }, { version_number: '10.11' }]) {
      expect({ datastore, issues: issuesOf(createInstanceBody, withInstance(OSC.create, { datastore })) }).toEqual({ datastore, issues: [] });
    }
  });

  test('a replica create is accepted as sent', () => {
    expect(createReplicaBody.parse(OSC.replicas).instance).toMatchObject({ replica_of: OSC.replicas.instance.replica_of, replica_count: 2 });
    expect(issuesOf(createReplicaBody, withInstance(OSC.replicas, { volume: { size: 2, type: null }, datastore: { type: 'mysql' } }))).toEqual([]);
  });

  test('empty lists and nulls mean "not asked" and are accepted', () => {
    const empty = { nics: [], modules: [], configuration: null, locality: null, region_name: null, restorePoint: null, replica_count: null, access: { is_public: false, allowed_cidrs: [] } };
    expect(issuesOf(createInstanceBody, withInstance(OSC.create, empty))).toEqual([]);
    const { replica_count: _, ...forReplica } = empty;
    expect(issuesOf(createReplicaBody, withInstance(OSC.replicas, forReplica))).toEqual([]);
    expect(issuesOf(createInstanceBody, withInstance(OSC.create, { access: {} }))).toEqual([]);
  });

  test('everything this deployment cannot honour is refused, each naming its field', () => {
    const issues = issuesOf(createInstanceBody, OSC.everything);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^instance\.volume\.type: volume types are not served/),
        expect.stringMatching(/^instance\.nics: networks cannot be chosen/),
        expect.stringMatching(/^instance\.configuration: configuration groups are not supported/),
        expect.stringMatching(/^instance\.region_name: this deployment serves one region/),
        expect.stringMatching(/^instance\.access\.is_public: public access is not served/),
        expect.stringMatching(/^instance\.access\.allowed_cidrs: cannot be enforced/),
      ]),
    );
    expect(issues).toHaveLength(6);
  });

  test('locality is a server-group policy on create (a string, as --locality sends it); replicas join their source\'s group', () => {
    for (const locality of ['affinity', 'anti-affinity']) expect(issuesOf(createInstanceBody, withInstance(OSC.create, { locality }))).toEqual([]);
    expect(createInstanceBody.parse(withInstance(OSC.create, { locality: 'anti-affinity' })).instance.locality).toBe('anti-affinity');
    expect(issuesOf(createInstanceBody, withInstance(OSC.create, { locality: 'nearby' }))).toEqual([expect.stringMatching(/^instance\.locality: must be 'affinity' or 'anti-affinity'/)]);
    expect(issuesOf(createReplicaBody, withInstance(OSC.replicas, { locality: 'affinity' }))).toEqual([
      "instance.locality: replicas join their source's server group; locality is chosen when the source is created",
    ]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['another datastore', { datastore: { type: 'postgresql' } }, /^instance\.datastore\.type: datastore "postgresql" is not served; use mariadb \(or its alias mysql\)$/],
    ['another version', { datastore: { type: 'mysql', version: '8.0' } }, /^instance\.datastore\.version: mariadb version "8\.0" is not served; use 10\.11$/],
    ['another version number', { datastore: { version_number: '5.7.29' } }, /^instance\.datastore\.version_number: must be 10\.11$/],
    ['an unknown datastore key', { datastore: { type: 'mysql', flavor: 'x' } }, /^instance\.datastore: Unrecognized key: "flavor"/],
    ['modules', { modules: ['m1'] }, /^instance\.modules: modules are not supported$/],
    ['nics that are not a list', { nics: 'net-id=x' }, /^instance\.nics: must be a list$/],
    ['a backup reference that is no backup id', { restorePoint: { backupRef: 'b1' } }, /^instance\.restorePoint\.backupRef: must be a backup id$/],
    ['an unknown restorePoint key', { restorePoint: { backupRef: '0c1e2f3a-0000-4000-8000-000000000001', at: 'now' } }, /^instance\.restorePoint: Unrecognized key: "at"/],
    ['replica_count without replica_of', { replica_count: 2 }, /^instance\.replica_count: only with replica_of/],
    ['an unknown access key', { access: { is_public: false, public_ip: true } }, /^instance\.access: Unrecognized key: "public_ip"/],
    ['an unknown volume key', { volume: { size: 1, iops: 5 } }, /^instance\.volume: Unrecognized key: "iops"/],
  ])('a create with %s is refused naming the field', (_label, extra, message) => {
    expect(issuesOf(createInstanceBody, withInstance(OSC.create, extra))).toEqual([expect.stringMatching(message)]);
  });

  test("restorePoint {backupRef} (the client's --backup) is accepted on create, refused on a replica create", () => {
    const backupRef = '0c1e2f3a-0000-4000-8000-000000000001';
    expect(createInstanceBody.parse(withInstance(OSC.create, { restorePoint: { backupRef } })).instance.restorePoint).toEqual({ backupRef });
    expect(issuesOf(createReplicaBody, withInstance(OSC.replicas, { restorePoint: { backupRef } }))).toEqual(['instance.restorePoint: a replica is built from its source, not from a backup; omit restorePoint']);
  });

  test('a replica create refuses the same fields by the same rules', () => {
    const issues = issuesOf(createReplicaBody, withInstance(OSC.replicas, { locality: 'anti-affinity', modules: ['m'], nics: [{ network_id: 'n' }], access: { is_public: true }, datastore: { type: 'redis' }, volume: { size: 1, type: 'ssd' } }));
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual(
      ['instance.access.is_public', 'instance.datastore.type', 'instance.locality', 'instance.modules', 'instance.nics', 'instance.volume.type'].sort(),
    );
  });
});

describe('the catalog', () => {
  test('uuidV5 is RFC 9562 UUID v5 (Python: uuid5(NAMESPACE_DNS, "python.org"))', () => {
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  test('one datastore, mariadb 10.11, found by name, alias or id; ids are fixed', () => {
    expect(DATASTORES).toHaveLength(1);
    const ds = DATASTORES[0]!;
    expect(ds).toMatchObject({ name: 'mariadb', aliases: ['mysql'], versions: [{ name: '10.11', version: '10.11', active: true }] });
    // Fixed forever: clients and scripts keep these ids (Python's uuid5 gives the same).
    expect([ds.id, ds.versions[0]!.id, ds.defaultVersion]).toEqual([FIXED.datastore, FIXED.version, FIXED.version]);
    for (const ref of ['mariadb', 'MariaDB', 'mysql', 'MYSQL', ds.id]) expect(findDatastore(ref)).toBe(ds);
    for (const ref of ['postgresql', 'maria', '']) expect(findDatastore(ref)).toBeUndefined();
    expect(findVersion(ds, '10.11')).toBe(ds.versions[0]);
    expect(findVersion(ds, ds.versions[0]!.id)).toBe(ds.versions[0]);
    expect(findVersion(ds, '10.6')).toBeUndefined();
    expect(findVersionById(ds.versions[0]!.id)).toEqual({ datastore: ds, version: ds.versions[0] });
    expect(findVersionById('10.11')).toBeUndefined();
  });
});

const record = (r: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id: 'i-1', projectId: 'proj-a', name: 'db', status: 'ACTIVE', flavorId: '1', volumeSize: 1, availabilityZone: null, datastore: 'mariadb', datastoreVersion: '10.11',
  novaServerId: 'n-1', address: '127.0.1.5', port: 3306, mysqlServerId: 101, operationId: null, operationType: null, fault: null, faultAt: null,
  created: new Date('2026-12-01T00:00:00Z'), updated: new Date('2026-12-01T00:05:00Z'), replicationSetId: null, replicaOf: null, readOnly: false, locality: null, serverGroupId: null, replicas: [], databases: [], users: [], ...r,
});

describe('the instance view', () => {
  test('addresses as Trove returns them, ip kept, access private', () => {
    expect(instanceView(record(), 'http://api')).toMatchObject({ addresses: [{ address: '127.0.1.5', type: 'private' }], ip: ['127.0.1.5'], access: { is_public: false } });
    expect(instanceView(record({ address: null, status: 'BUILD' }), 'http://api')).toMatchObject({ addresses: [], ip: [] });
  });

  test('fault: message and the time it was recorded; none without a fault', () => {
    const faultAt = new Date('2026-12-01T00:03:00Z');
    expect(instanceView(record({ status: 'ERROR', fault: 'delete failed: boom', faultAt }), 'http://api').fault).toEqual({ message: 'delete failed: boom', created: '2026-12-01T00:03:00.000Z' });
    // A fault kept from before its time was recorded shows the record's last change.
    expect(instanceView(record({ status: 'ERROR', fault: 'old', faultAt: null }), 'http://api').fault).toEqual({ message: 'old', created: '2026-12-01T00:05:00.000Z' });
    expect(instanceView(record(), 'http://api')).not.toHaveProperty('fault');
  });
});

test('the trove CLI prints the new fields compactly', () => {
  const view = instanceView(record({ status: 'ERROR', fault: 'boom', faultAt: new Date('2026-12-01T00:03:00Z') }), 'http://api') as unknown as Record<string, unknown>;
  expect(flattenView(view)).toMatchObject({ addresses: '127.0.1.5 (private)', ip: '127.0.1.5', public: 'false', fault: 'boom', fault_date: '2026-12-01T00:03:00.000Z' });
});

describe('catalog routes (in memory)', () => {
  const FLAVORS: NovaFlavor[] = [
    { id: '1', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 },
    { id: '7', name: 'ds1G', ram: 1024, vcpus: 1, disk: 10 },
  ];
  let app: FastifyInstance;
  let baseUrl: string;
  let novaDown = false;

  beforeAll(async () => {
    const down = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const nova = {
      listFlavors: async () => (novaDown ? down() : FLAVORS),
      getFlavor: async (id: string) => {
        if (novaDown) return down();
        const f = FLAVORS.find((x) => x.id === id);
        if (!f) throw new NovaError(404, `Nova GET /flavors/${id} answered 404`);
        return f;
      },
    } as unknown as NovaClient;
    app = buildApiApp({ registry: {} as Registry, temporal: {} as Client, nova, secretKey: Buffer.alloc(32), tokens: new Map([['tok-a', 'proj-a']]), baseUrl: 'http://api', limits: { maxReplicas: 10, maxDepth: 1 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(() => {
    novaDown = false;
  });

  const get = async (url: string) => {
    const res = await fetch(`${baseUrl}/v1.0/proj-a${url}`, { headers: { 'x-auth-token': 'tok-a' } });
    return { status: res.status, body: (await res.json()) as any };
  };

  test('flavors: Trove\'s shape (integer id, str_id, sizes, links), one by id, unknown ones 404', async () => {
    const list = await get('/flavors');
    expect(list).toMatchObject({ status: 200 });
    expect(list.body.flavors).toHaveLength(2);
    expect(list.body.flavors[0]).toEqual({
      id: 1, str_id: '1', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1, ephemeral: 0,
      links: [{ rel: 'self', href: 'http://api/v1.0/proj-a/flavors/1' }, { rel: 'bookmark', href: 'http://api/proj-a/flavors/1' }],
    });
    expect(await get('/flavors/7')).toMatchObject({ status: 200, body: { flavor: { id: 7, name: 'ds1G', ram: 1024 } } });
    expect(await get('/flavors/999')).toMatchObject({ status: 404, body: { itemNotFound: { message: 'flavor 999 not found' } } });
    expect(await get('/flavors/m1.tiny')).toMatchObject({ status: 404 });
  });

  test('flavors answer 503 when Nova does not', async () => {
    novaDown = true;
    expect(await get('/flavors')).toMatchObject({ status: 503, body: { serviceUnavailable: { message: expect.stringMatching(/Nova/) } } });
    expect(await get('/flavors/1')).toMatchObject({ status: 503 });
  });

  test('datastores: mariadb with its one version; mysql and the id find it; versions by name and id', async () => {
    const ds = { id: FIXED.datastore, name: 'mariadb', default_version: FIXED.version };
    const version = { id: FIXED.version, name: '10.11', version: '10.11', active: true };
    const list = await get('/datastores');
    expect(list).toMatchObject({ status: 200, body: { datastores: [{ ...ds, versions: [version] }] } });
    expect(list.body.datastores[0].versions[0]).not.toHaveProperty('datastore');
    for (const ref of ['mariadb', 'mysql', FIXED.datastore]) {
      expect(await get(`/datastores/${ref}`)).toMatchObject({ status: 200, body: { datastore: { ...ds, versions: [version] } } });
      expect(await get(`/datastores/${ref}/versions`)).toMatchObject({ status: 200, body: { versions: [{ ...version, datastore: FIXED.datastore }] } });
      for (const v of ['10.11', FIXED.version]) expect(await get(`/datastores/${ref}/versions/${v}`)).toMatchObject({ status: 200, body: { version: { ...version, datastore: FIXED.datastore } } });
    }
    expect(await get(`/datastores/versions/${FIXED.version}`)).toMatchObject({
      status: 200,
      body: { version: { ...version, datastore: FIXED.datastore, links: [{ rel: 'self', href: `http://api/v1.0/proj-a/datastores/versions/${FIXED.version}` }, expect.anything()] } },
    });
    expect(await get(`/datastores/mysql/versions/10.11/flavors`)).toMatchObject({ status: 200, body: { flavors: [{ id: 1 }, { id: 7 }] } });
  });

  test('what is not served answers 404 naming what is', async () => {
    expect(await get('/datastores/postgresql')).toMatchObject({ status: 404, body: { itemNotFound: { message: 'datastore postgresql not found (served: mariadb)' } } });
    expect(await get('/datastores/postgresql/versions')).toMatchObject({ status: 404 });
    expect(await get('/datastores/mariadb/versions/8.0')).toMatchObject({ status: 404, body: { itemNotFound: { message: 'mariadb version 8.0 not found (served: 10.11)' } } });
    expect(await get('/datastores/versions/10.11')).toMatchObject({ status: 404 });
    expect(await get('/datastores/mariadb/versions/8.0/flavors')).toMatchObject({ status: 404 });
  });
});
