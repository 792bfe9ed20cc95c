// The status an instance shows while an operation runs (Trove's task names), in the view the
// list and show routes build; and the 503 a create gets when Nova does not answer.
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApiApp } from '../../api/app';
import { runningOn } from '../../api/lookup';
import { instanceView } from '../../api/views';
import type { NovaClient } from '../../lib/nova-client';
import type { LockState } from '../../lib/rules';
import { shownStatus, type LockScope } from '../../lib/status';
import type { InstanceRecord, Registry } from '../../registry';

describe('shownStatus: the operation running, where its lock is, and the stored status', () => {
  test.each<[string | null, LockScope | null, string, string]>([
    // Nothing running: the stored status.
    [null, null, 'ACTIVE', 'ACTIVE'],
    [null, null, 'ERROR', 'ERROR'],
    [null, null, 'BUILD', 'BUILD'],
    // On the instance itself (its own lock): Trove's task name wins over the stored status.
    ['provisionInstance', 'instance', 'BUILD', 'BUILD'],
    ['buildReplica', 'instance', 'BUILD', 'BUILD'],
    ['deleteInstance', 'instance', 'ACTIVE', 'SHUTDOWN'],
    ['deleteInstance', 'instance', 'ERROR', 'SHUTDOWN'],
    ['restartInstance', 'instance', 'ACTIVE', 'REBOOT'],
    ['resizeInstance', 'instance', 'ACTIVE', 'RESIZE'],
    ['detachReplica', 'instance', 'ACTIVE', 'DETACH'],
    // On the set: promote and eject show on every member (Trove sets PROMOTING / EJECTING on all)...
    ['promoteToReplicaSource', 'set', 'ACTIVE', 'PROMOTE'],
    ['ejectReplicaSource', 'set', 'ACTIVE', 'EJECT'],
    ['ejectReplicaSource', 'set', 'ERROR', 'EJECT'],
    // ...the others only on the instance they act on, which holds its own lock.
    ['detachReplica', 'set', 'ACTIVE', 'ACTIVE'],
    ['deleteInstance', 'set', 'ACTIVE', 'ACTIVE'],
    ['createReplicas', 'set', 'ACTIVE', 'ACTIVE'],
    // An operation with no Trove task name shows the stored status.
    ['createReplicas', 'instance', 'BUILD', 'BUILD'],
    ['someFutureOperation', 'instance', 'ACTIVE', 'ACTIVE'],
  ])('%s on its %s, stored %s: %s', (type, scope, stored, shown) => {
    expect(shownStatus(stored, type && scope ? { type, scope } : undefined)).toBe(shown);
  });
});

const record = (r: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id: 'i-1', projectId: 'proj-a', name: 'db', status: 'ACTIVE', flavorId: '1', volumeSize: 1, availabilityZone: null, datastore: 'mariadb', datastoreVersion: '10.11',
  novaServerId: 'n-1', address: '127.0.1.5', port: 3306, mysqlServerId: 101, operationId: null, operationType: null, fault: null, faultAt: null, locality: null, serverGroupId: null,
  created: new Date('2026-12-01T00:00:00Z'), updated: new Date('2026-12-01T00:05:00Z'), replicationSetId: null, replicaOf: null, readOnly: false, replicas: [], databases: [], users: [], ...r,
});

describe('the view shows it (list and show)', () => {
  const setLocks = new Map<string, LockState>([['set-1', { operationId: 'op-promote', operationType: 'promoteToReplicaSource' }]]);

  test('a member of a set being promoted shows PROMOTE with the operation; its own lock comes first', () => {
    const member = record({ replicationSetId: 'set-1' });
    expect(instanceView(member, 'http://api', runningOn(member, setLocks))).toMatchObject({ status: 'PROMOTE', operation: { id: 'op-promote', type: 'promoteToReplicaSource' } });
    const deleting = record({ replicationSetId: 'set-1', operationId: 'op-del', operationType: 'deleteInstance' });
    expect(instanceView(deleting, 'http://api', runningOn(deleting, setLocks))).toMatchObject({ status: 'SHUTDOWN', operation: { id: 'op-del', type: 'deleteInstance' } });
    // Where the lock is, is not part of the view.
    expect(instanceView(member, 'http://api', runningOn(member, setLocks)).operation).not.toHaveProperty('scope');
  });

  test('idle, an instance shows its stored status and no operation', () => {
    const idle = record({ replicationSetId: 'set-2' });
    expect(runningOn(idle, setLocks)).toBeUndefined();
    expect(instanceView(idle, 'http://api', runningOn(idle, setLocks))).toMatchObject({ status: 'ACTIVE' });
    expect(instanceView(idle, 'http://api')).not.toHaveProperty('operation');
  });
});

describe('creates answer 503 when Nova does not answer, and change nothing', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  const source = record({ id: '11111111-1111-4111-8111-111111111111', name: 'master' });
  const changed: string[] = [];

  beforeAll(async () => {
    const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8774'));
    const nova = { listFlavors: down, listZones: down, getFlavor: down } as unknown as NovaClient;
    const registry = {
      instances: {
        getInProject: async (_p: string, id: string) => (id === source.id ? source : undefined),
        findByName: async () => [],
        get: async () => undefined,
        insert: async () => void changed.push('insert'),
      },
    } as unknown as Registry;
    const temporal = new Proxy({}, { get: () => changed.push('temporal') }) as unknown as Client;
    app = buildApiApp({ registry, temporal, nova, secretKey: Buffer.alloc(32), tokens: new Map([['tok-a', 'proj-a']]), baseUrl: 'http://api', limits: { maxReplicas: 10, maxDepth: 1 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
  });

  const post = async (body: unknown) => {
    const res = await fetch(`${baseUrl}/v1.0/proj-a/instances`, { method: 'POST', headers: { 'x-auth-token': 'tok-a', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, { code: number; message: string }> };
  };

  test.each([
    ['an instance', { instance: { name: 'db1', flavorRef: '1', volume: { size: 1 } } }, 'instance.flavorRef'],
    // A source with no recorded zone: Nova is asked where it runs first.
    ['replicas', { instance: { name: 'r', replica_of: source.id, replica_count: 2, flavorRef: '1' } }, "the source's availability_zone"],
    ['replicas in a zone', { instance: { name: 'r', replica_of: source.id, availability_zone: 'az1' } }, 'availability_zone'],
  ])('%s', async (_what, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(503);
    expect(res.body.serviceUnavailable).toEqual({
      code: 503,
      message: `the compute service (Nova) did not answer while ${field} was ${field.startsWith('the source') ? 'looked up' : 'checked'}; nothing was created, try again`,
    });
    expect(changed).toEqual([]);
  });
});
