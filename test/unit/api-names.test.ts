// Instance names through the REST API, on an in-memory registry and a Temporal client that
// only records starts: default replica names do not repeat across requests, so a lookup
// by name finds one instance; a name several instances share answers 409 naming them.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApiApp } from '../../api/app';
import type { NovaClient } from '../../lib/nova-client';
import type { NewInstance } from '../../lib/records';
import type { InstanceRecord, Registry } from '../../registry';

/** The few registry reads and writes these routes make, kept in memory. */
class MemoryStore {
  readonly rows: InstanceRecord[] = [];
  private clock = Date.parse('2026-12-01T00:00:00Z');

  add(r: Partial<InstanceRecord> & { name: string }): InstanceRecord {
    const at = new Date((this.clock += 1000));
    const rec: InstanceRecord = {
      id: randomUUID(), projectId: 'proj-a', status: 'ACTIVE', flavorId: '1', volumeSize: 1, availabilityZone: null, datastore: 'mariadb', datastoreVersion: '10.11',
      novaServerId: randomUUID(), address: '127.0.1.1', port: 3306, mysqlServerId: 1, operationId: null, operationType: null, fault: null, faultAt: null, created: at, updated: at,
      replicationSetId: null, replicaOf: null, readOnly: false, locality: null, serverGroupId: null, replicas: [], databases: [], users: [], ...r,
    };
    this.rows.push(rec);
    return rec;
  }

  async insert(n: NewInstance) {
    if (this.rows.some((r) => r.id === n.id)) return;
    this.add({ id: n.id, projectId: n.projectId, name: n.name, status: 'BUILD', flavorId: n.flavorId, volumeSize: n.volumeSize, operationId: n.operationId, operationType: n.operationType, replicaOf: n.replicaOf ?? null, readOnly: n.readOnly ?? false, novaServerId: null, address: null, port: null });
  }
  async get(id: string) {
    return this.rows.find((r) => r.id === id);
  }
  async getInProject(projectId: string, id: string) {
    return this.rows.find((r) => r.id === id && r.projectId === projectId);
  }
  // The registry's collation compares names without case.
  async findByName(projectId: string, name: string) {
    return this.rows.filter((r) => r.projectId === projectId && r.name.toLowerCase() === name.toLowerCase());
  }
  async list(projectId: string) {
    return this.rows.filter((r) => r.projectId === projectId);
  }
  async removeUnbuilt(ids: string[]) {
    const before = this.rows.length;
    for (const id of ids) {
      const i = this.rows.findIndex((r) => r.id === id && r.status === 'BUILD');
      if (i >= 0) this.rows.splice(i, 1);
    }
    return before - this.rows.length;
  }
}

/** The registry's shape around the in-memory instances: no sets, so no locks or health. */
const asRegistry = (instances: MemoryStore) =>
  ({ instances, locks: { get: async () => undefined }, sets: { topology: async () => undefined }, health: { get: async () => [] } }) as unknown as Registry;

let store: MemoryStore;
let started: { type: string; workflowId: string }[];
let app: FastifyInstance;
let baseUrl: string;

beforeEach(async () => {
  store = new MemoryStore();
  started = [];
  const temporal = {
    workflow: {
      start: async (type: string, opts: { workflowId: string }) => {
        started.push({ type, workflowId: opts.workflowId });
        return { workflowId: opts.workflowId };
      },
      getHandle: (workflowId: string) => ({ workflowId, query: async () => Promise.reject(new Error('no worker here')) }),
    },
  } as unknown as Client;
  // Replicas are placed in their source's zone: where Nova says the source's server is.
  const nova = {
    listFlavors: async () => [{ id: '1' }],
    listZones: async () => ['az1'],
    listZoneHosts: async () => [{ name: 'az1', hosts: ['host1a', 'host1b'] }],
    getServer: async () => ({ 'OS-EXT-AZ:availability_zone': 'az1' }),
  } as unknown as NovaClient;
  app = buildApiApp({ registry: asRegistry(store), temporal, nova, secretKey: Buffer.alloc(32), tokens: new Map([['tok-a', 'proj-a']]), baseUrl: 'http://api', limits: { maxReplicas: 10, maxDepth: 1 } });
  // Real HTTP rather than app.inject(): light-my-request needs an ESM-only package jest cannot load.
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await app.close();
});

const call = async (method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${baseUrl}/v1.0/proj-a${url}`, {
    method,
    headers: { 'x-auth-token': 'tok-a', ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

describe('default replica names', () => {
  test('three requests on one source name their replicas apart, and each name finds its own', async () => {
    const db = store.add({ name: 'db' });
    const requests = [
      await call('POST', `/instances/${db.id}/action`, { replicate: { count: 1 } }),
      await call('POST', '/instances/db/action', { replicate: { count: 1 } }),
      await call('POST', `/instances/${db.id}/action`, { replicate: { count: 2 } }),
    ];
    for (const res of requests) expect(res).toMatchObject({ status: 202 });
    const names = requests.flatMap((r) => (r.body.replicas as { name: string }[]).map((v) => v.name));
    expect(names).toEqual(['db-replica-1', 'db-replica-2', 'db-replica-3', 'db-replica-4']);
    expect(store.rows.map((r) => r.name)).toEqual(['db', ...names]);

    for (const [i, name] of names.entries()) {
      const shown = await call('GET', `/instances/${name}`);
      expect(shown).toMatchObject({ status: 200, body: { instance: { name, id: store.rows[i + 1]!.id, replica_of: { id: db.id } } } });
    }
  });

  test('numbered template names continue too (POST /instances with replica_of)', async () => {
    store.add({ name: 'db' });
    const body = { instance: { replica_of: 'db', name: 'ro', replica_count: 2 } };
    const first = await call('POST', '/instances', body);
    const second = await call('POST', '/instances', body);
    const names = [first, second].flatMap((r) => (r.body.replicas as { name: string }[]).map((v) => v.name));
    expect(names).toEqual(['ro-1', 'ro-2', 'ro-3', 'ro-4']);
  });

  test('a repeated request (same X-Request-Id) keeps the names it was given', async () => {
    const db = store.add({ name: 'db' });
    const send = async () => (await call('POST', `/instances/${db.id}/action`, { replicate: { count: 2 } }, { 'x-request-id': 'once' })).body;
    const a = await send();
    const b = await send();
    expect(b.replicas.map((r: { name: string }) => r.name)).toEqual(['db-replica-1', 'db-replica-2']);
    expect(b.replicas.map((r: { id: string }) => r.id)).toEqual(a.replicas.map((r: { id: string }) => r.id));
    expect(store.rows).toHaveLength(3);
  });

  test('one replica asked for by name keeps it, even when it is taken', async () => {
    const db = store.add({ name: 'db' });
    store.add({ name: 'reporting' });
    const res = await call('POST', '/instances', { instance: { replica_of: db.id, name: 'reporting' } });
    expect(res).toMatchObject({ status: 202, body: { instance: { name: 'reporting' } } });
  });
});

describe('a name several instances share', () => {
  test('GET, DELETE, actions and replica_of answer 409 naming the ids, and nothing is started', async () => {
    const older = store.add({ name: 'twin' });
    const newer = store.add({ name: 'TWIN' });
    const ids = [older.id, newer.id];
    const conflict = (res: { status: number; body: any }, prefix = '') => {
      expect(res).toMatchObject({ status: 409, body: { conflictingRequest: { code: 409, ids } } });
      expect(res.body.conflictingRequest.message).toBe(`${prefix}2 instances are named "twin" (${ids.join(', ')}); use the id of the one you mean`);
    };
    conflict(await call('GET', '/instances/twin'));
    conflict(await call('DELETE', '/instances/twin'));
    conflict(await call('POST', '/instances/twin/action', { replicate: { count: 1 } }));
    conflict(await call('POST', '/instances/twin/topology/action', { detach: {} }));
    conflict(await call('GET', '/instances/twin/replication'));
    conflict(await call('PATCH', '/instances/twin', { instance: { replica_of: null } }));
    conflict(await call('POST', '/instances', { instance: { replica_of: 'twin', name: 'r' } }), 'instance.replica_of: ');
    expect(started).toEqual([]);
    expect(store.rows).toHaveLength(2);

    // Each is still found by its id, and a name nothing has is still not found.
    expect(await call('GET', `/instances/${newer.id}`)).toMatchObject({ status: 200, body: { instance: { id: newer.id } } });
    expect(await call('GET', '/instances/nobody')).toMatchObject({ status: 404, body: { itemNotFound: { message: 'instance nobody not found' } } });
    expect(await call('POST', '/instances', { instance: { replica_of: 'nobody', name: 'r' } })).toMatchObject({
      status: 404,
      body: { itemNotFound: { message: 'instance.replica_of: instance nobody not found' } },
    });
  });

  test('a name used once still finds its instance, whatever other projects hold', async () => {
    const mine = store.add({ name: 'solo' });
    store.add({ name: 'solo', projectId: 'proj-b' });
    expect(await call('GET', '/instances/solo')).toMatchObject({ status: 200, body: { instance: { id: mine.id } } });
  });
});
