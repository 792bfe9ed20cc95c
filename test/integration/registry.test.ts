// The registry against a real MariaDB (the stack's registry part only: no Temporal, no
// Nova). Each store module, the topology transitions written in one transaction, the
// operation locks under concurrency, the registry activities called directly (the
// rulebook's refusals, the lock order, begin and end of an operation), and migration 004
// over rows written the old way (replica_of). No mocks: a few tests interpose on the real
// LockStore or add a trigger to force an interleaving or a failure half-way.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createConnection, type Pool, type RowDataPacket } from 'mysql2/promise';
import type { PlacementReader } from '../../lib/placement-check';
import { createRegistryActivities, type RegistryActivities } from '../../activities/registry/activities';
import { setView, setViews } from '../../activities/registry/views';
import type { EndInput } from '../../activities/registry/operations';
import { ErrorType } from '../../lib/errors';
import { newReplicaRecord, type NewInstance } from '../../lib/records';
import type { OperationType } from '../../lib/rules';
import type { MemberHealth } from '../../lib/schemas';
import { unsealSecret } from '../../lib/secrets';
import { TopologyError, type Topology, type Transition } from '../../lib/topology';
import { createRegistryPool, Registry, type InstanceChange, type ReplicationUser } from '../../registry';
import type { LockKind } from '../../registry/locks';
import { migrate } from '../../registry/migrate';
import { startTestStack, type TestStack } from '../helpers/stack';

const PROJECT = 'proj-registry';
const LIMITS = { maxReplicas: 10, maxDepth: 1 };
const SECRET_KEY = Buffer.alloc(32, 1);
const ROUNDS = 20;

let env: TestStack;
let reg: Registry;
/** A second registry on its own pool: two workers asking at once. */
let regB: Registry;
let acts: RegistryActivities;

const registryConnection = (database = 'trove') => ({
  host: '127.0.0.1',
  port: env.ports[2]!,
  user: 'trove',
  password: env.stack.env.TROVE_REGISTRY_PASSWORD!,
  database,
});

beforeAll(async () => {
  env = await startTestStack({ parts: ['registry'] });
  reg = env.registry!;
  regB = new Registry(createRegistryPool(registryConnection()));
  acts = createRegistryActivities(reg, { secretKey: SECRET_KEY, ...LIMITS });
});

afterAll(async () => {
  await regB?.close();
  await env?.stop();
});

// ---- builders ------------------------------------------------------------------------

let seq = 0;

function record(over: Partial<NewInstance> = {}): NewInstance {
  const id = over.id ?? randomUUID();
  return { id, projectId: PROJECT, name: `db-${++seq}`, flavorId: '2', volumeSize: 1, databases: [], users: [], operationId: `provision-${id}`, operationType: 'provisionInstance', ...over };
}

/** The record of a replica being built from `sourceId`, holding its buildReplica's lock. */
function replicaRecord(sourceId: string, over: { readOnly?: boolean; projectId?: string } = {}): NewInstance {
  const replicaId = randomUUID();
  return newReplicaRecord({
    replicaId,
    projectId: over.projectId ?? PROJECT,
    name: `replica-${++seq}`,
    flavorId: '2',
    volumeSizeGb: 1,
    availabilityZone: null,
    sourceId,
    readOnly: over.readOnly ?? true,
    operationId: `build-${replicaId}`,
  });
}

/** An ACTIVE standalone instance holding no lock, as provisionInstance leaves it. */
async function active(over: Partial<NewInstance> = {}): Promise<string> {
  const r = record(over);
  await reg.instances.insert(r);
  await reg.instances.update(r.id, { status: 'ACTIVE', novaServerId: randomUUID(), address: '127.0.0.9', port: 3306 });
  await reg.locks.release('instance', r.id, r.operationId);
  return r.id;
}

const account = (replicaId: string, sourceId: string, sealedPassword = 'sealed-1'): ReplicationUser => ({ replicaId, sourceId, userName: `repl_${replicaId.slice(0, 8)}`, sealedPassword });

function health(instanceId: string, over: Partial<MemberHealth> = {}): MemberHealth {
  return {
    instanceId,
    name: instanceId.slice(0, 8),
    role: 'replica',
    reachable: true,
    agentAnswered: true,
    ioRunning: true,
    sqlRunning: true,
    secondsBehind: 0,
    transactionsBehind: 0,
    gtidSlavePos: '0-101-7',
    gtidIoPos: '0-101-7',
    gtidBinlogPos: '0-101-7',
    lastIoError: null,
    lastSqlError: null,
    readOnly: true,
    observedAt: '2026-01-02T03:04:05.678Z',
    ...over,
  };
}

interface SetFixture {
  setId: string;
  source: string;
  replicas: string[];
  /** Labels for table rows: S is the source, R0, R1, ... its replicas. */
  ids: Record<string, string>;
}

/** A set as createReplicas leaves it: the source and `count` ACTIVE read-only replicas, each with its account. */
async function setWith(count: number): Promise<SetFixture> {
  const source = await active();
  const setId = await reg.sets.ensure(source, PROJECT);
  const replicas: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = replicaRecord(source);
    await reg.instances.insert(r);
    await reg.sets.apply(setId, { kind: 'add-replica', replicaId: r.id, sourceId: source, writable: false }, { limits: LIMITS });
    await reg.instances.update(r.id, { status: 'ACTIVE', novaServerId: randomUUID() });
    await reg.locks.release('instance', r.id, r.operationId);
    await reg.accounts.put(account(r.id, source));
    replicas.push(r.id);
  }
  return { setId, source, replicas, ids: { S: source, ...Object.fromEntries(replicas.map((r, i) => [`R${i}`, r])) } };
}

async function rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [r] = await reg.pool.query<RowDataPacket[]>(sql, params);
  return r;
}

/** Every row a transition or an operation's begin may touch, for before/after comparisons. */
async function dump() {
  return {
    instances: await rows('SELECT id, status, fault, replication_set_id, read_only, operation_id, operation_type FROM instances ORDER BY id'),
    sets: await rows('SELECT id, operation_id, operation_type, auto_failover FROM replication_sets ORDER BY id'),
    links: await rows('SELECT replica_id, source_id, set_id FROM replication_links ORDER BY replica_id'),
    accounts: await rows('SELECT replica_id, source_id, user_name, sealed_password FROM replication_users ORDER BY replica_id'),
    health: await rows('SELECT instance_id, set_id, health FROM replication_health ORDER BY instance_id'),
  };
}

/** A topology in labels: members as rw/ro, links as "source>replica", sorted. */
function shape(t: Topology, ids: Record<string, string>) {
  const label = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id;
  return {
    members: Object.fromEntries(t.members.map((m) => [label(m.id), m.writable ? 'rw' : 'ro'])),
    links: t.links.map((l) => `${label(l.source)}>${label(l.replica)}`).sort(),
  };
}

/** A transition written with labels, with the fixture's ids put in. */
function resolve(tr: Transition, ids: Record<string, string>): Transition {
  const id = (label: string) => ids[label] ?? label;
  switch (tr.kind) {
    case 'add-replica':
      return { ...tr, replicaId: id(tr.replicaId), sourceId: id(tr.sourceId) };
    case 'remove-member':
      return { ...tr, instanceId: id(tr.instanceId) };
    case 'move-replicas':
      return { ...tr, fromId: id(tr.fromId), toId: id(tr.toId) };
    case 'make-pair':
      return { ...tr, peerId: id(tr.peerId) };
    case 'switch-active':
    case 'pair-failover':
      return { ...tr, activeId: id(tr.activeId) };
    case 'break-pair':
      return tr;
    default:
      return { ...tr, newSourceId: id(tr.newSourceId) };
  }
}

/** Runs fn with a trigger that fails the statement matching `when` (a failure half-way through a write). */
async function withFailingTrigger(table: string, timing: 'INSERT' | 'DELETE', when: string, fn: () => Promise<void>): Promise<void> {
  await reg.pool.query(`CREATE TRIGGER test_fail BEFORE ${timing} ON ${table} FOR EACH ROW IF ${when} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF`);
  try {
    await fn();
  } finally {
    await reg.pool.query('DROP TRIGGER IF EXISTS test_fail');
  }
}

/** The ApplicationFailure an activity was refused with. */
async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const opId = (type: string) => `${type}-${randomUUID()}`;

function begin(type: OperationType, instanceId: string, operationId = opId(type), count?: number, a: RegistryActivities = acts) {
  return a.beginOperation({ operation: { id: operationId, type }, projectId: PROJECT, instanceId, ...(count === undefined ? {} : { count }) });
}

const lockOf = async (kind: LockKind, id: string) => (await reg.locks.get(kind, id))?.operationId ?? null;

/**
 * A Registry on the same pool whose LockStore calls a test can step into, to force an
 * interleaving that two real operations would only hit by chance.
 */
function interposed(hooks: {
  acquire?: (kind: LockKind, id: string, call: () => Promise<unknown>) => Promise<void>;
  /** Called when acquire, having failed, reads who holds the lock. */
  readHolder?: (kind: LockKind, id: string) => Promise<void>;
}): { registry: Registry; calls: string[] } {
  const registry = new Registry(reg.pool);
  const calls: string[] = [];
  const { locks } = registry;
  const acquire = locks.acquire.bind(locks);
  const get = locks.get.bind(locks);
  let inAcquire = false;
  locks.acquire = async (kind, id, operationId, type) => {
    calls.push(`${kind}:${id}`);
    let result: Awaited<ReturnType<typeof acquire>> | undefined;
    const call = async () => {
      inAcquire = true;
      try {
        result = await acquire(kind, id, operationId, type);
      } finally {
        inAcquire = false;
      }
    };
    await (hooks.acquire ? hooks.acquire(kind, id, call) : call());
    return result!;
  };
  locks.get = async (kind, id) => {
    if (inAcquire && hooks.readHolder) await hooks.readHolder(kind, id);
    return get(kind, id);
  };
  return { registry, calls };
}

// ---- instances -------------------------------------------------------------------------

describe('instances', () => {
  test('insert is idempotent; get, getInProject, list and findByName read the record back', async () => {
    const project = `proj-${randomUUID()}`;
    const r = record({ projectId: project, name: 'twin', databases: ['sales', 'audit'], users: [{ name: 'app', host: '%' }], availabilityZone: 'az-1' });
    await reg.instances.insert(r);
    await reg.instances.insert({ ...r, name: 'renamed', databases: ['other'], operationId: 'another-op' });
    const twin = record({ projectId: project, name: 'twin' });
    await reg.instances.insert(twin);

    expect(await rows('SELECT COUNT(*) AS n FROM instances WHERE id = ?', [r.id])).toEqual([{ n: 1 }]);
    expect(await reg.instances.get(r.id)).toMatchObject({
      id: r.id,
      projectId: project,
      name: 'twin',
      status: 'BUILD',
      flavorId: '2',
      volumeSize: 1,
      availabilityZone: 'az-1',
      datastore: 'mariadb',
      datastoreVersion: '10.11',
      novaServerId: null,
      mysqlServerId: null,
      operationId: r.operationId,
      operationType: 'provisionInstance',
      fault: null,
      replicationSetId: null,
      replicaOf: null,
      readOnly: false,
      replicas: [],
      databases: ['audit', 'sales'],
      users: [{ name: 'app', host: '%' }],
    });
    expect(await reg.instances.get(randomUUID())).toBeUndefined();
    expect((await reg.instances.getInProject(project, r.id))?.id).toBe(r.id);
    expect(await reg.instances.getInProject(PROJECT, r.id)).toBeUndefined();
    expect((await reg.instances.list(project)).map((i) => i.id).sort()).toEqual([r.id, twin.id].sort());
    expect((await reg.instances.findByName(project, 'twin')).map((i) => i.id).sort()).toEqual([r.id, twin.id].sort());
    expect(await reg.instances.findByName(project, 'renamed')).toEqual([]);
    expect(await reg.instances.findByName(PROJECT, 'twin')).toEqual([]);
    expect((await reg.instances.listAll()).map((i) => i.id)).toEqual(expect.arrayContaining([r.id, twin.id]));
  });

  test('a replica recorded ahead of its build: its pending link is its replicaOf and one of its source\'s replicas', async () => {
    const source = await active();
    const r = replicaRecord(source);
    await reg.instances.insert(r);
    expect(await reg.instances.get(r.id)).toMatchObject({ replicaOf: source, replicationSetId: null, readOnly: true, operationType: 'buildReplica' });
    expect((await reg.instances.get(source))!.replicas).toEqual([r.id]);
    expect(await rows('SELECT source_id, set_id FROM replication_links WHERE replica_id = ?', [r.id])).toEqual([{ source_id: source, set_id: null }]);
  });

  test.each<[string, InstanceChange, Record<string, unknown>]>([
    ['status only', { status: 'ERROR' }, { status: 'ERROR', port: 3306, fault: null }],
    ['fault, then the rest untouched', { fault: 'boom' }, { status: 'ACTIVE', fault: 'boom', address: '127.0.0.9' }],
    ['several columns at once', { port: 3307, address: '127.0.0.10', novaServerId: 'nova-1' }, { port: 3307, address: '127.0.0.10', novaServerId: 'nova-1', status: 'ACTIVE' }],
    ['fault null clears it, address null too', { fault: null, address: null }, { fault: null, address: null, port: 3306 }],
    ['an empty change changes nothing', {}, { status: 'ACTIVE', port: 3306, address: '127.0.0.9' }],
  ])('update: %s', async (_, change, want) => {
    const id = await active();
    if (change.fault === null) await reg.instances.update(id, { fault: 'earlier' });
    await reg.instances.update(id, change);
    expect(await reg.instances.get(id)).toMatchObject(want);
  });

  test('update: faultAt is set when the fault changes, kept when the same fault is written again, cleared with it', async () => {
    const id = await active();
    const faultAt = async () => (await reg.instances.get(id))!.faultAt;
    expect(await faultAt()).toBeNull();
    await reg.instances.update(id, { status: 'ERROR', fault: 'boom' });
    const first = await faultAt();
    expect(first).toBeInstanceOf(Date);
    expect(Math.abs(first!.getTime() - Date.now())).toBeLessThan(10_000);
    await new Promise((r) => setTimeout(r, 20));
    await reg.instances.update(id, { status: 'ERROR', fault: 'boom' });
    expect(await faultAt()).toEqual(first);
    await reg.instances.update(id, { port: 3307 });
    expect(await faultAt()).toEqual(first);
    await reg.instances.update(id, { fault: 'another' });
    expect((await faultAt())!.getTime()).toBeGreaterThan(first!.getTime());
    await reg.instances.update(id, { status: 'ACTIVE', fault: null });
    expect(await reg.instances.get(id)).toMatchObject({ fault: null, faultAt: null });
  });

  test('allocateServerId: the same instance keeps its id, another gets a new one, and get shows it', async () => {
    const [a, b] = [await active(), await active()];
    const first = await reg.instances.allocateServerId(a);
    expect(first).toBeGreaterThanOrEqual(101);
    expect(await reg.instances.allocateServerId(a)).toBe(first);
    expect(await reg.instances.allocateServerId(b)).not.toBe(first);
    expect((await reg.instances.get(a))!.mysqlServerId).toBe(first);
  });

  test('remove forgets the instance with its link, account, health, databases and users, in one go', async () => {
    const f = await setWith(2);
    const [gone, stays] = f.replicas as [string, string];
    await reg.pool.query('INSERT INTO instance_databases (instance_id, name) VALUES (?, ?)', [gone, 'db1']);
    await reg.health.store(f.setId, [health(f.source), health(gone), health(stays)]);
    const before = await dump();

    // A failure at the last step (the instance row) leaves everything as it was.
    await withFailingTrigger('instances', 'DELETE', `OLD.id = '${gone}'`, async () => {
      await expect(reg.instances.remove(gone)).rejects.toThrow(/injected failure/);
    });
    expect(await dump()).toEqual(before);

    await reg.instances.remove(gone);
    expect(await reg.instances.get(gone)).toBeUndefined();
    expect(await rows('SELECT * FROM replication_links WHERE replica_id = ?', [gone])).toEqual([]);
    expect(await reg.accounts.get(gone)).toBeUndefined();
    expect(await rows('SELECT * FROM replication_health WHERE instance_id = ?', [gone])).toEqual([]);
    expect(await rows('SELECT * FROM instance_databases WHERE instance_id = ?', [gone])).toEqual([]);
    // The rest of the set is untouched.
    expect(await reg.accounts.get(stays)).toMatchObject({ sourceId: f.source });
    expect((await reg.health.get(f.setId)).map((h) => h.instanceId).sort()).toEqual([f.source, stays].sort());
    expect((await reg.instances.get(f.source))!.replicas).toEqual([stays]);
  });

  test('removeUnbuilt deletes only rows still in BUILD without a Nova server (their pending links with them)', async () => {
    const source = await active();
    const unbuilt = replicaRecord(source);
    const booting = replicaRecord(source);
    await reg.instances.insert(unbuilt);
    await reg.instances.insert(booting);
    await reg.instances.update(booting.id, { novaServerId: 'nova-booting' });
    expect(await reg.instances.removeUnbuilt([unbuilt.id, booting.id, source])).toBe(1);
    expect(await reg.instances.get(unbuilt.id)).toBeUndefined();
    expect(await rows('SELECT * FROM replication_links WHERE replica_id = ?', [unbuilt.id])).toEqual([]);
    expect(await reg.instances.get(booting.id)).toBeDefined();
    expect(await reg.instances.get(source)).toBeDefined();
    expect(await reg.instances.removeUnbuilt([])).toBe(0);
  });
});

// ---- locks -----------------------------------------------------------------------------

describe('locks', () => {
  const target = async (kind: LockKind) => (kind === 'instance' ? active() : (await setWith(1)).setId);

  test.each<LockKind>(['instance', 'set'])('%s lock: re-entrant for its holder, refused to others, released only by its holder', async (kind) => {
    const id = await target(kind);
    expect(await reg.locks.acquire(kind, id, 'op-a', 'detachReplica')).toEqual({ acquired: true });
    expect(await reg.locks.get(kind, id)).toEqual({ operationId: 'op-a', operationType: 'detachReplica' });
    expect(await reg.locks.acquire(kind, id, 'op-a', 'detachReplica')).toEqual({ acquired: true });
    expect(await reg.locks.acquire(kind, id, 'op-b', 'deleteInstance')).toEqual({ acquired: false, heldBy: 'op-a', type: 'detachReplica' });
    await reg.locks.release(kind, id, 'op-b');
    expect(await lockOf(kind, id)).toBe('op-a');
    await reg.locks.release(kind, id, 'op-a');
    expect(await reg.locks.get(kind, id)).toEqual({ operationId: null, operationType: null });
    expect(await reg.locks.acquire(kind, id, 'op-b', 'deleteInstance')).toEqual({ acquired: true });
  });

  test.each<LockKind>(['instance', 'set'])('%s lock of something that does not exist: missing, never acquired', async (kind) => {
    const id = randomUUID();
    expect(await reg.locks.acquire(kind, id, 'op-a', 'detachReplica')).toEqual({ acquired: false, heldBy: null, type: null, missing: true });
    expect(await reg.locks.get(kind, id)).toBeUndefined();
  });

  test.each<LockKind>(['set', 'instance'])(`two operations asking for one %s lock at once (two pools): exactly one gets it, ${ROUNDS} rounds`, async (kind) => {
    const id = await target(kind);
    const wins = { a: 0, b: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = await Promise.all([reg.locks.acquire(kind, id, `a-${i}`, 'detachReplica'), regB.locks.acquire(kind, id, `b-${i}`, 'promoteToReplicaSource')]);
      expect([a.acquired, b.acquired].filter(Boolean)).toHaveLength(1);
      const winner = a.acquired ? `a-${i}` : `b-${i}`;
      wins[a.acquired ? 'a' : 'b']++;
      expect(a.acquired ? b : a).toMatchObject({ acquired: false, heldBy: winner });
      expect(await lockOf(kind, id)).toBe(winner);
      await reg.locks.release(kind, id, winner);
    }
    expect(wins.a + wins.b).toBe(ROUNDS);
  });
});

// ---- accounts --------------------------------------------------------------------------

describe('accounts', () => {
  test('put once (a repeat returns the first, password too), get, moveTo, remove, count', async () => {
    const [source, r1, r2, newSource] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const count0 = await reg.accounts.count();
    expect(await reg.accounts.put(account(r1, source, 'first'))).toEqual(account(r1, source, 'first'));
    expect(await reg.accounts.put(account(r1, randomUUID(), 'second'))).toEqual(account(r1, source, 'first'));
    await reg.accounts.put(account(r2, source));
    expect(await reg.accounts.count()).toBe(count0 + 2);
    expect(await reg.accounts.get(randomUUID())).toBeUndefined();

    await reg.accounts.moveTo(newSource, [r1, r2]);
    expect((await reg.accounts.get(r1))!.sourceId).toBe(newSource);
    expect((await reg.accounts.get(r2))!.sourceId).toBe(newSource);
    await reg.accounts.moveTo(source, []);

    await reg.accounts.remove([r1]);
    await reg.accounts.remove([]);
    expect(await reg.accounts.get(r1)).toBeUndefined();
    expect(await reg.accounts.get(r2)).toMatchObject({ sealedPassword: 'sealed-1' });
    expect(await reg.accounts.count()).toBe(count0 + 1);
  });
});

// ---- health ----------------------------------------------------------------------------

describe('health', () => {
  test('settings: defaults, a patch, an automatic failover and its acknowledgement', async () => {
    const { setId } = await setWith(1);
    const defaults = { autoFailover: false, semiSync: false, quietPeriodSeconds: 600, failoverAfterSeconds: 2, lastFailoverAt: null, lastFailoverOperation: null, lastFailoverAcknowledged: true, tls: false, zoneProfileId: null };
    expect(await reg.health.getSettings(setId)).toEqual(defaults);
    await reg.health.updateSettings(setId, { autoFailover: true, quietPeriodSeconds: 60 });
    await reg.health.updateSettings(setId, {});
    expect(await reg.health.getSettings(setId)).toEqual({ ...defaults, autoFailover: true, quietPeriodSeconds: 60 });
    await reg.health.updateSettings(setId, { semiSync: true, failoverAfterSeconds: 5, autoFailover: false });
    expect(await reg.health.getSettings(setId)).toEqual({ ...defaults, semiSync: true, failoverAfterSeconds: 5, quietPeriodSeconds: 60 });
    // DR: the zone profile the set follows, set by enableDr and cleared by dr-disable.
    const profileId = randomUUID();
    await reg.health.updateSettings(setId, { zoneProfileId: profileId });
    expect(await reg.health.getSettings(setId)).toMatchObject({ zoneProfileId: profileId, semiSync: true });
    await reg.health.updateSettings(setId, { zoneProfileId: null });
    expect(await reg.health.getSettings(setId)).toMatchObject({ zoneProfileId: null });

    const at = new Date('2026-03-04T05:06:07.890Z');
    await reg.health.recordAutomaticFailover(setId, 'eject-1', at);
    expect(await reg.health.getSettings(setId)).toMatchObject({ lastFailoverAt: at.toISOString(), lastFailoverOperation: 'eject-1', lastFailoverAcknowledged: false });
    await reg.health.updateSettings(setId, { acknowledgeFailover: true });
    expect(await reg.health.getSettings(setId)).toMatchObject({ lastFailoverAt: at.toISOString(), lastFailoverAcknowledged: true });
    expect(await reg.health.getSettings(randomUUID())).toBeUndefined();
  });

  test('store records current members only and replaces an earlier observation; get returns current members only', async () => {
    const f = await setWith(2);
    const [r0, r1] = f.replicas as [string, string];
    const stranger = await active();
    await reg.health.store(f.setId, [health(f.source, { role: 'source' }), health(r0), health(r1), health(stranger)]);
    await reg.health.store(f.setId, [health(r0, { secondsBehind: 42, observedAt: '2026-01-02T03:04:06.000Z' })]);
    await reg.health.store(f.setId, []);
    expect(await rows('SELECT * FROM replication_health WHERE instance_id = ?', [stranger])).toEqual([]);
    const got = await reg.health.get(f.setId);
    expect(got.map((h) => h.instanceId).sort()).toEqual([f.source, r0, r1].sort());
    expect(got.find((h) => h.instanceId === r0)).toEqual(health(r0, { secondsBehind: 42, observedAt: '2026-01-02T03:04:06.000Z' }));
    expect(await rows('SELECT observed FROM replication_health WHERE instance_id = ?', [r0])).toEqual([{ observed: new Date('2026-01-02T03:04:06.000Z') }]);

    // r1 leaves; a row left behind for it (an observation racing the detach) is not shown.
    await reg.sets.apply(f.setId, { kind: 'remove-member', instanceId: r1 });
    await reg.health.store(f.setId, [health(r1)]);
    expect(await rows('SELECT * FROM replication_health WHERE instance_id = ?', [r1])).toEqual([]);
    await reg.pool.query('INSERT INTO replication_health (instance_id, set_id, health, observed) VALUES (?, ?, ?, NOW())', [r1, f.setId, JSON.stringify(health(r1))]);
    expect((await reg.health.get(f.setId)).map((h) => h.instanceId).sort()).toEqual([f.source, r0].sort());

    await reg.health.forget([r0, r1]);
    expect((await reg.health.get(f.setId)).map((h) => h.instanceId)).toEqual([f.source]);
  });
});

// ---- sets ------------------------------------------------------------------------------

describe('sets', () => {
  test('ensure founds the set once, named after its source; topology reads it back', async () => {
    const a = await active();
    const setId = await reg.sets.ensure(a, PROJECT);
    expect(setId).toBe(a);
    expect(await reg.sets.ensure(a, PROJECT)).toBe(setId);
    expect(await rows('SELECT project_id FROM replication_sets WHERE id = ?', [setId])).toEqual([{ project_id: PROJECT }]);
    expect(await reg.sets.exists(setId)).toBe(true);
    expect((await reg.instances.get(a))!.replicationSetId).toBe(setId);
    expect(await reg.sets.topology(setId)).toEqual({ setId, members: [{ id: a, writable: true }], links: [] });
    expect(await reg.sets.topology(randomUUID())).toBeUndefined();
    expect(await reg.sets.exists(randomUUID())).toBe(false);
  });

  test('ensure: a source that left the set it founded (promoted over, then detached) founds a new one', async () => {
    const f = await setWith(2);
    await reg.sets.apply(f.setId, { kind: 'promote', newSourceId: f.replicas[0]! });
    await reg.sets.apply(f.setId, { kind: 'remove-member', instanceId: f.source });
    expect((await reg.instances.get(f.source))!.replicationSetId).toBeNull();

    const again = await reg.sets.ensure(f.source, PROJECT);
    expect(again).not.toBe(f.setId);
    expect(await reg.sets.ensure(f.source, PROJECT)).toBe(again);
    expect(await reg.sets.topology(again)).toEqual({ setId: again, members: [{ id: f.source, writable: true }], links: [] });
    expect(shape((await reg.sets.topology(f.setId))!, f.ids)).toEqual({ members: { R0: 'rw', R1: 'ro' }, links: ['R0>R1'] });
  });

  interface TransitionCase {
    replicas: number;
    /** A replica N recorded by instances.insert (its link pending, no set yet). */
    pending?: boolean;
    transition: Transition;
    fault?: string;
    want: ReturnType<typeof shape>;
    /** Members that leave the set, and what they are afterwards. */
    leave?: Record<string, { status: string; fault: string | null; faultAt?: unknown; readOnly: boolean }>;
    /** Whose account each replica's is afterwards (null: none). */
    accounts?: Record<string, string | null>;
  }

  test.each<[string, TransitionCase]>([
    [
      'add-replica: the pending link recorded by insert gets its set',
      { replicas: 1, pending: true, transition: { kind: 'add-replica', replicaId: 'N', sourceId: 'S', writable: false }, want: { members: { S: 'rw', R0: 'ro', N: 'ro' }, links: ['S>N', 'S>R0'] } },
    ],
    [
      'add-replica of a replica kept writable',
      { replicas: 0, pending: true, transition: { kind: 'add-replica', replicaId: 'N', sourceId: 'S', writable: true }, want: { members: { S: 'rw', N: 'rw' }, links: ['S>N'] } },
    ],
    [
      'add-replica repeated (a retried registration) changes nothing',
      { replicas: 2, transition: { kind: 'add-replica', replicaId: 'R1', sourceId: 'S', writable: false }, want: { members: { S: 'rw', R0: 'ro', R1: 'ro' }, links: ['S>R0', 'S>R1'] }, accounts: { R0: 'S', R1: 'S' } },
    ],
    [
      'remove-member (detach): the member leaves, writable, without its account and health',
      {
        replicas: 2,
        transition: { kind: 'remove-member', instanceId: 'R0' },
        want: { members: { S: 'rw', R1: 'ro' }, links: ['S>R1'] },
        leave: { R0: { status: 'ACTIVE', fault: null, readOnly: false } },
        accounts: { R0: null, R1: 'S' },
      },
    ],
    [
      'remove-member of the last replica leaves the source alone in its set',
      { replicas: 1, transition: { kind: 'remove-member', instanceId: 'R0' }, want: { members: { S: 'rw' }, links: [] }, leave: { R0: { status: 'ACTIVE', fault: null, readOnly: false } }, accounts: { R0: null } },
    ],
    [
      'promote: the candidate takes writes, everyone follows it, the old source read-only; the accounts move to it',
      { replicas: 2, transition: { kind: 'promote', newSourceId: 'R1' }, want: { members: { S: 'ro', R0: 'ro', R1: 'rw' }, links: ['R1>R0', 'R1>S'] }, accounts: { R0: 'R1', R1: null } },
    ],
    [
      'eject: as promote, but the old source leaves fenced (ERROR, its fault, read-only)',
      {
        replicas: 2,
        transition: { kind: 'eject', newSourceId: 'R1' },
        fault: 'source lost',
        want: { members: { R0: 'ro', R1: 'rw' }, links: ['R1>R0'] },
        leave: { S: { status: 'ERROR', fault: 'source lost', faultAt: expect.any(Date), readOnly: true } },
        accounts: { R0: 'R1', R1: null },
      },
    ],
    [
      'eject of a pair leaves the new source alone',
      { replicas: 1, transition: { kind: 'eject', newSourceId: 'R0' }, want: { members: { R0: 'rw' }, links: [] }, leave: { S: { status: 'ERROR', fault: 'fenced', faultAt: expect.any(Date), readOnly: true } }, accounts: { R0: null } },
    ],
  ])('apply %s', async (_, c) => {
    const f = await setWith(c.replicas);
    const ids = { ...f.ids };
    if (c.pending) {
      const n = replicaRecord(f.source);
      await reg.instances.insert(n);
      ids.N = n.id;
    }
    const observed = [f.source, ...f.replicas];
    await reg.health.store(f.setId, observed.map((id) => health(id)));

    const after = await reg.sets.apply(f.setId, resolve(c.transition, ids), { limits: LIMITS, fault: c.fault });
    const stored = (await reg.sets.topology(f.setId))!;
    expect(shape(after, ids)).toEqual(c.want);
    expect(shape(stored, ids)).toEqual(c.want);

    // Each member's record reads the same links; no link is left pending.
    for (const m of stored.members) {
      const rec = (await reg.instances.get(m.id))!;
      expect(rec.replicationSetId).toBe(f.setId);
      expect(rec.readOnly).toBe(!m.writable);
      expect(rec.replicaOf).toBe(stored.links.find((l) => l.replica === m.id)?.source ?? null);
      expect(rec.replicas.sort()).toEqual(stored.links.filter((l) => l.source === m.id).map((l) => l.replica).sort());
    }
    expect(await rows('SELECT * FROM replication_links WHERE replica_id IN (?) AND set_id IS NULL', [Object.values(ids)])).toEqual([]);

    for (const [label, want] of Object.entries(c.leave ?? {})) {
      expect(await reg.instances.get(ids[label]!)).toMatchObject({ ...want, replicationSetId: null, replicaOf: null });
    }
    for (const [label, source] of Object.entries(c.accounts ?? {})) {
      expect((await reg.accounts.get(ids[label]!))?.sourceId ?? null).toBe(source === null ? null : ids[source]);
    }
    // Health is kept for those who stay, forgotten for those who leave.
    const stay = new Set(stored.members.map((m) => m.id));
    const healthRows = await rows('SELECT instance_id FROM replication_health WHERE instance_id IN (?)', [Object.values(ids)]);
    expect(healthRows.map((r) => r.instance_id as string).sort()).toEqual(observed.filter((id) => stay.has(id)).sort());
  });

  test('a master-master pair is stored as its two links and read back declared; a switch moves the replicas and their accounts to the new active side; break drops the reverse link and its account; failover fences the dead side', async () => {
    const f = await setWith(2);
    const ids = f.ids;
    const [r0, r1] = f.replicas as [string, string];
    const pairOf = async () => (await reg.sets.topology(f.setId))!.coMasters?.slice().sort();
    await reg.sets.apply(f.setId, { kind: 'make-pair', peerId: r0 }, { limits: LIMITS });
    expect(await pairOf()).toEqual([f.source, r0].sort());
    expect(shape((await reg.sets.topology(f.setId))!, ids)).toEqual({ members: { S: 'rw', R0: 'ro', R1: 'ro' }, links: ['R0>S', 'S>R0', 'S>R1'] });
    await reg.accounts.put(account(f.source, r0)); // the reverse link's account, as createPair makes it

    await reg.sets.apply(f.setId, { kind: 'switch-active', activeId: r0 }, { limits: LIMITS });
    expect(shape((await reg.sets.topology(f.setId))!, ids)).toEqual({ members: { S: 'ro', R0: 'rw', R1: 'ro' }, links: ['R0>R1', 'R0>S', 'S>R0'] });
    expect(await pairOf()).toEqual([f.source, r0].sort());
    expect((await reg.accounts.get(r1))!.sourceId).toBe(r0);
    expect((await reg.instances.get(r0))).toMatchObject({ readOnly: false, replicaOf: f.source });

    await reg.sets.apply(f.setId, { kind: 'break-pair' }, { limits: LIMITS });
    expect(await pairOf()).toBeUndefined();
    expect(shape((await reg.sets.topology(f.setId))!, ids)).toEqual({ members: { S: 'ro', R0: 'rw', R1: 'ro' }, links: ['R0>R1', 'R0>S'] });
    expect(await reg.accounts.get(r0)).toBeUndefined();
    expect((await reg.accounts.get(f.source))!.sourceId).toBe(r0);

    // Again a pair (now R0 active), whose active side dies: it leaves fenced, S takes writes and R1.
    await reg.sets.apply(f.setId, { kind: 'make-pair', peerId: f.source }, { limits: LIMITS });
    await reg.accounts.put(account(r0, f.source)); // R0's reverse link from S
    await reg.sets.apply(f.setId, { kind: 'pair-failover', activeId: f.source }, { limits: LIMITS, fault: 'fenced: other side took over' });
    expect(shape((await reg.sets.topology(f.setId))!, ids)).toEqual({ members: { S: 'rw', R1: 'ro' }, links: ['S>R1'] });
    // It remembers the side that replaced it: rejoin_pair (rebuildAsReplica) finds the set through it.
    expect(await reg.instances.get(r0)).toMatchObject({ status: 'ERROR', fault: 'fenced: other side took over', replicationSetId: null, readOnly: true, replacedBy: f.source });
    expect((await reg.accounts.get(r1))!.sourceId).toBe(f.source);
  });

  test("deleting a pair's passive side dissolves the pair: the active side stays the source of its replicas, both sides' pair accounts go", async () => {
    const f = await setWith(2);
    const [r0, r1] = f.replicas as [string, string];
    await reg.sets.apply(f.setId, { kind: 'make-pair', peerId: r0 }, { limits: LIMITS });
    await reg.accounts.put(account(f.source, r0));
    await reg.sets.apply(f.setId, { kind: 'remove-member', instanceId: r0 }, { limits: LIMITS });
    const t = (await reg.sets.topology(f.setId))!;
    expect(t.coMasters).toBeUndefined();
    expect(shape(t, f.ids)).toEqual({ members: { S: 'rw', R1: 'ro' }, links: ['S>R1'] });
    expect(await reg.accounts.get(r0)).toBeUndefined();
    expect(await reg.accounts.get(f.source)).toBeUndefined();
    expect((await reg.accounts.get(r1))!.sourceId).toBe(f.source);
    // The failed side's account served the reverse link, gone with it: no orphan account.
    expect(await reg.accounts.get(r0)).toBeUndefined();
  });

  test.each<[string, number, Transition, RegExp]>([
    ['a replica of a replica (deeper than maxDepth)', 2, { kind: 'add-replica', replicaId: 'N', sourceId: 'R0', writable: false }, /N is 2 links from the source; at most 1 allowed/],
    ['an existing member under another source', 2, { kind: 'add-replica', replicaId: 'R0', sourceId: 'R1', writable: false }, /R0 is already a member/],
    ['remove-member of the source', 2, { kind: 'remove-member', instanceId: 'S' }, /S is the source of set .*; promote or eject first/],
    ['promote of the source itself', 1, { kind: 'promote', newSourceId: 'S' }, /S is not a replica of set/],
    ['eject to an instance outside the set', 1, { kind: 'eject', newSourceId: 'X' }, /X is not a replica of set/],
  ])('an invalid transition (%s) throws TopologyError and changes nothing', async (_, replicas, transition, message) => {
    const f = await setWith(replicas);
    const n = replicaRecord(f.source);
    await reg.instances.insert(n);
    const ids = { ...f.ids, N: n.id, X: await active() };
    await reg.health.store(f.setId, [f.source, ...f.replicas].map((id) => health(id)));
    const before = await dump();
    const err = await reg.sets.apply(f.setId, resolve(transition, ids), { limits: LIMITS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopologyError);
    const labelled = Object.entries(ids).reduce((m, [label, id]) => m.split(id).join(label), (err as Error).message);
    expect(labelled).toMatch(message);
    expect(await dump()).toEqual(before);
  });

  test('a write that fails half-way is rolled back whole (a promote failing at one of its links)', async () => {
    const f = await setWith(2);
    const [r0, r1] = f.replicas as [string, string];
    const before = await dump();
    // promote writes the members (S read-only, R1 writable), drops the links, then inserts R1>S and R1>R0: fail R1>R0.
    await withFailingTrigger('replication_links', 'INSERT', `NEW.replica_id = '${r0}'`, async () => {
      await expect(reg.sets.apply(f.setId, { kind: 'promote', newSourceId: r1 })).rejects.toThrow(/injected failure/);
    });
    expect(await dump()).toEqual(before);
    expect(shape((await reg.sets.topology(f.setId))!, f.ids)).toEqual({ members: { S: 'rw', R0: 'ro', R1: 'ro' }, links: ['S>R0', 'S>R1'] });
    // The set's row lock went with the rollback: the same transition goes through now.
    await reg.sets.apply(f.setId, { kind: 'promote', newSourceId: r1 });
    expect(shape((await reg.sets.topology(f.setId))!, f.ids).links).toEqual(['R1>R0', 'R1>S']);
  });

  test('setViews reads many sets in one batch, each as setView reads it alone; a set that does not exist is left out', async () => {
    const a = await setWith(2);
    const b = await setWith(1);
    await reg.locks.acquire('set', b.setId, 'op-b', 'createReplicas');
    await reg.health.updateSettings(b.setId, { autoFailover: true, failoverAfterSeconds: 3 });
    const missing = randomUUID();
    const views = await setViews(reg, [a.setId, missing, b.setId, a.setId]);
    expect([...views.keys()].sort()).toEqual([a.setId, b.setId].sort());
    expect(views.get(a.setId)).toEqual(await setView(reg, a.setId));
    expect(views.get(b.setId)).toEqual(await setView(reg, b.setId));
    expect(views.get(a.setId)!.replicas.map((r) => r.id)).toEqual(a.replicas);
    expect(views.get(b.setId)!.lock.operationId).toBe('op-b');
    expect(views.get(b.setId)!.settings.failoverAfterSeconds).toBe(3);
    expect(await reg.sets.topologies([a.setId, b.setId])).toEqual(new Map([[a.setId, await reg.sets.topology(a.setId)], [b.setId, await reg.sets.topology(b.setId)]]));
    expect(await setView(reg, missing)).toBeUndefined();
    await reg.locks.release('set', b.setId, 'op-b');
  });

  test('apply to a set that does not exist throws', async () => {
    await expect(reg.sets.apply(randomUUID(), { kind: 'remove-member', instanceId: randomUUID() })).rejects.toThrow(/does not exist/);
  });

  test('dissolveIfAlone: not with two members, not while locked; then the last member stands alone', async () => {
    const f = await setWith(1);
    expect(await reg.sets.dissolveIfAlone(f.setId)).toBe(false);
    await reg.sets.apply(f.setId, { kind: 'remove-member', instanceId: f.replicas[0]! });
    await reg.health.store(f.setId, [health(f.source)]);

    await reg.locks.acquire('set', f.setId, 'op-holding', 'detachReplica');
    expect(await reg.sets.dissolveIfAlone(f.setId)).toBe(false);
    expect(await reg.sets.exists(f.setId)).toBe(true);
    await reg.locks.release('set', f.setId, 'op-holding');

    expect(await reg.sets.dissolveIfAlone(f.setId)).toBe(true);
    expect(await reg.sets.exists(f.setId)).toBe(false);
    expect(await reg.sets.topology(f.setId)).toBeUndefined();
    expect(await reg.instances.get(f.source)).toMatchObject({ replicationSetId: null, readOnly: false, replicas: [] });
    expect(await rows('SELECT * FROM replication_health WHERE instance_id = ?', [f.source])).toEqual([]);
    expect(await reg.sets.dissolveIfAlone(f.setId)).toBe(false);
  });
});

// ---- registry activities -----------------------------------------------------------------

describe('registry activities: beginOperation refusals', () => {
  interface Refused {
    type: OperationType;
    /** Sets up the case and returns the instance addressed (labels name fixture ids in `message`). */
    setup: () => Promise<{ target: string; ids: Record<string, string>; projectId?: string }>;
    count?: number;
    errorType: string;
    message: RegExp;
    retryable?: boolean;
  }
  const standalone = async () => {
    const a = await active();
    return { target: a, ids: { A: a } };
  };
  const inSet = (replicas: number, target: string, before?: (f: SetFixture) => Promise<unknown>) => async () => {
    const f = await setWith(replicas);
    await before?.(f);
    return { target: f.ids[target]!, ids: f.ids };
  };

  test.each<[string, Refused]>([
    ['createReplicas from a replica', { type: 'createReplicas', setup: inSet(1, 'R0'), errorType: ErrorType.InvalidInput, message: /^sourceInstanceId: instance R0 is 1 link\(s\) from its set's source; its replicas would be deeper than the 1 allowed \(TROVE_MAX_DEPTH\)$/ }],
    ['createReplicas of too many', { type: 'createReplicas', setup: standalone, count: 11, errorType: ErrorType.InvalidInput, message: /^count: must be at most 10 \(TROVE_MAX_REPLICAS\)$/ }],
    [
      'createReplicas from an instance not ACTIVE',
      {
        type: 'createReplicas',
        setup: async () => {
          const r = record();
          await reg.instances.insert(r);
          return { target: r.id, ids: { A: r.id } };
        },
        errorType: ErrorType.OperationConflict,
        message: /^instance A is BUILD, not ACTIVE$/,
      },
    ],
    [
      'createReplicas while the set is busy',
      {
        type: 'createReplicas',
        setup: inSet(1, 'S', (f) => reg.locks.acquire('set', f.setId, 'promote-x', 'promoteToReplicaSource')),
        errorType: ErrorType.OperationConflict,
        message: /^replication set S is busy with operation promote-x \(promoteToReplicaSource\)$/,
      },
    ],
    [
      'createReplicas while the instance is busy',
      {
        type: 'createReplicas',
        setup: async () => {
          const a = await active();
          await reg.locks.acquire('instance', a, 'resize-x', 'resizeInstance');
          return { target: a, ids: { A: a } };
        },
        errorType: ErrorType.OperationConflict,
        message: /^instance A is busy with operation resize-x \(resizeInstance\)$/,
      },
    ],
    ['detach of a standalone instance', { type: 'detachReplica', setup: standalone, errorType: ErrorType.InvalidInput, message: /^instance A is not a replica; there is nothing to detach$/ }],
    ['detach of a source', { type: 'detachReplica', setup: inSet(1, 'S'), errorType: ErrorType.InvalidInput, message: /^instance S is not a replica; there is nothing to detach$/ }],
    ['promote of a source', { type: 'promoteToReplicaSource', setup: inSet(1, 'S'), errorType: ErrorType.InvalidInput, message: /^instance S is not a replica; only a replica can be promoted/ }],
    ['promote of a standalone instance', { type: 'promoteToReplicaSource', setup: standalone, errorType: ErrorType.InvalidInput, message: /^instance A is not a replica; only a replica can be promoted/ }],
    ['eject of a replica', { type: 'ejectReplicaSource', setup: inSet(2, 'R1'), errorType: ErrorType.InvalidInput, message: /^instance R1 is a replica; eject the source it replicates from \(S\)$/ }],
    ['eject of a source without replicas', { type: 'ejectReplicaSource', setup: standalone, errorType: ErrorType.InvalidInput, message: /^instance A is not a replica source with replicas; there is nothing to eject$/ }],
    ['delete of a source with replicas', { type: 'deleteInstance', setup: inSet(2, 'S'), errorType: ErrorType.InvalidInput, message: /^instance S is the source of 2 replica\(s\); detach or delete them first$/ }],
    [
      'delete of a replica while another delete holds the set (waited for: retryable)',
      {
        type: 'deleteInstance',
        setup: inSet(2, 'R1', (f) => begin('deleteInstance', f.replicas[0]!, 'delete-r0')),
        errorType: ErrorType.SetBusyWithDelete,
        message: /^replication set S is busy with operation delete-r0 \(deleteInstance\)$/,
        retryable: true,
      },
    ],
    [
      'delete of a replica while a detach holds the set',
      {
        type: 'deleteInstance',
        setup: inSet(2, 'R1', (f) => begin('detachReplica', f.replicas[0]!, 'detach-r0')),
        errorType: ErrorType.OperationConflict,
        message: /^replication set S is busy with operation detach-r0 \(detachReplica\)$/,
      },
    ],
    ['an instance of another project', { type: 'deleteInstance', setup: async () => ({ ...(await standalone()), projectId: 'proj-other' }), errorType: ErrorType.NotFound, message: /^instance A not found$/ }],
  ])('%s: refused, and nothing taken or created', async (_, c) => {
    const { target, ids, projectId } = await c.setup();
    const before = await dump();
    const err = await failure(acts.beginOperation({ operation: { id: opId(c.type), type: c.type }, projectId: projectId ?? PROJECT, instanceId: target, ...(c.count ? { count: c.count } : {}) }));
    expect(err.type).toBe(c.errorType);
    expect(err.nonRetryable).toBe(!c.retryable);
    const labelled = Object.entries(ids).reduce((m, [label, id]) => m.split(id).join(label), err.message);
    expect(labelled).toMatch(c.message);
    // No lock left behind, no set founded (createReplicas), nothing else changed.
    expect(await dump()).toEqual(before);
  });
});

describe('registry activities: operations', () => {
  test('createReplicas on a standalone instance founds its set and holds only its lock; endOperation dissolves the set left with one member', async () => {
    const a = await active();
    const op = opId('createReplicas');
    const res = await begin('createReplicas', a, op, 2);
    expect(res.instance).toMatchObject({ id: a, status: 'ACTIVE', replicationSetId: a, replicas: [] });
    expect(res.set).toMatchObject({ setId: a, projectId: PROJECT, source: { id: a }, replicas: [], roles: { [a]: 'source' }, lock: { operationId: op, operationType: 'createReplicas' } });
    expect(await lockOf('instance', a)).toBeNull();
    // A retried begin (the same operation) finds its own lock.
    expect((await begin('createReplicas', a, op, 2)).set?.lock.operationId).toBe(op);

    await acts.endOperation({ operationId: op, setId: a });
    expect(await reg.sets.exists(a)).toBe(false);
    expect(await reg.instances.get(a)).toMatchObject({ replicationSetId: null, operationId: null });
  });

  test('createReplicas from a former source (promoted over, then detached) founds a new set, leaving the old one as it is', async () => {
    const f = await setWith(2);
    await reg.sets.apply(f.setId, { kind: 'promote', newSourceId: f.replicas[0]! });
    await reg.sets.apply(f.setId, { kind: 'remove-member', instanceId: f.source });
    const op = opId('createReplicas');
    const { set } = await begin('createReplicas', f.source, op, 1);
    expect(set!.setId).not.toBe(f.setId);
    expect(set).toMatchObject({ source: { id: f.source }, replicas: [], lock: { operationId: op } });
    expect(await reg.locks.get('set', f.setId)).toEqual({ operationId: null, operationType: null });
    expect(shape((await reg.sets.topology(f.setId))!, f.ids)).toEqual({ members: { R0: 'rw', R1: 'ro' }, links: ['R0>R1'] });
    await acts.endOperation({ operationId: op, setId: set!.setId });
    expect(await reg.sets.exists(set!.setId)).toBe(false);
  });

  test('recordInstance: with setId the replica joins the set, a retry finds its record; endOperation discards the unbuilt ones', async () => {
    const a = await active();
    const op = opId('createReplicas');
    const { set } = await begin('createReplicas', a, op, 2);
    const setId = set!.setId;

    const built = replicaRecord(a);
    const unbuilt = replicaRecord(a);
    const summary = await acts.recordInstance({ record: built, setId });
    expect(summary).toMatchObject({ id: built.id, status: 'BUILD', replicaOf: a, replicationSetId: setId });
    expect(await acts.recordInstance({ record: built, setId })).toEqual(summary);
    expect(await acts.recordInstance({ record: unbuilt })).toMatchObject({ replicaOf: a, replicationSetId: null });
    expect(await lockOf('instance', built.id)).toBe(built.operationId);
    expect(await acts.describeSet(setId)).toMatchObject({ roles: { [a]: 'source', [built.id]: 'replica' }, replicas: [{ id: built.id }] });

    // The same id from another project, or held by another operation, is refused.
    expect(await failure(acts.recordInstance({ record: { ...built, projectId: 'proj-other' } }))).toMatchObject({ type: ErrorType.InvalidInput, nonRetryable: true, message: `instanceId: ${built.id} belongs to another project` });
    expect(await failure(acts.recordInstance({ record: { ...built, operationId: 'build-other' } }))).toMatchObject({ type: ErrorType.OperationConflict, message: `instance ${built.id} is busy with operation ${built.operationId}` });

    await acts.updateInstance({ instanceId: built.id, novaServerId: 'nova-built', status: 'ACTIVE', releaseOperationId: built.operationId });
    await acts.endOperation({ operationId: op, setId, discardUnbuilt: [built.id, unbuilt.id] });
    expect(await reg.instances.get(unbuilt.id)).toBeUndefined();
    expect(await reg.instances.get(built.id)).toMatchObject({ status: 'ACTIVE', operationId: null, replicationSetId: setId });
    expect(await reg.locks.get('set', setId)).toEqual({ operationId: null, operationType: null });
    expect(await reg.sets.exists(setId)).toBe(true);
  });

  test('detach: the set is locked before the instance; the transition and endOperation leave two standalone instances', async () => {
    const f = await setWith(1);
    const [r0] = f.replicas as [string];
    const { registry, calls } = interposed({});
    const op = opId('detachReplica');
    const res = await begin('detachReplica', r0, op, undefined, createRegistryActivities(registry, { secretKey: SECRET_KEY, ...LIMITS }));
    expect(calls).toEqual([`set:${f.setId}`, `instance:${r0}`]);
    expect(res.set).toMatchObject({ setId: f.setId, roles: { [f.source]: 'source', [r0]: 'replica' }, lock: { operationId: op } });
    expect(await lockOf('instance', r0)).toBe(op);

    await acts.applyTransition({ setId: f.setId, transition: { kind: 'remove-member', instanceId: r0 } });
    await acts.endOperation({ operationId: op, instanceId: r0, setId: f.setId });
    expect(await reg.sets.exists(f.setId)).toBe(false);
    for (const id of [f.source, r0]) expect(await reg.instances.get(id)).toMatchObject({ replicationSetId: null, replicaOf: null, readOnly: false, operationId: null, replicas: [] });
    expect(await reg.accounts.get(r0)).toBeUndefined();
  });

  test('a detach that fails on the instance lock releases the set lock it took first', async () => {
    const f = await setWith(1);
    const [r0] = f.replicas as [string];
    // Between the set lock and the instance lock, another operation takes the instance.
    const { registry } = interposed({
      acquire: async (kind, _id, call) => {
        if (kind === 'instance') await reg.locks.acquire('instance', r0, 'intruder', 'deleteInstance');
        await call();
      },
    });
    const err = await failure(begin('detachReplica', r0, opId('detachReplica'), undefined, createRegistryActivities(registry, { secretKey: SECRET_KEY, ...LIMITS })));
    expect(err).toMatchObject({ type: ErrorType.OperationConflict, nonRetryable: true, message: `instance ${r0} is busy with operation intruder (deleteInstance)` });
    expect(await reg.locks.get('set', f.setId)).toEqual({ operationId: null, operationType: null });
    expect(await lockOf('instance', r0)).toBe('intruder');
  });

  test.each<[string, OperationType, LockKind]>([
    ['a promote', 'promoteToReplicaSource', 'set'],
    ['a createReplicas', 'createReplicas', 'set'],
    ['a detach', 'detachReplica', 'instance'],
  ])('%s whose %s lock is let go between the failed take and the read of its holder: retryable, nothing held', async (_, type, kind) => {
    const f = await setWith(2);
    const target = type === 'createReplicas' ? f.source : f.replicas[1]!;
    const what = kind === 'set' ? `replication set ${f.setId}` : `instance ${target}`;
    // Another operation holds the lock when the take is tried, and lets go right after it.
    const { registry } = interposed({
      acquire: async (k, id, call) => {
        if (k === kind) await reg.locks.acquire(k, id, 'holder', 'updateInstance');
        await call();
      },
      readHolder: async (k, id) => {
        if (k === kind) await reg.locks.release(k, id, 'holder');
      },
    });
    const err = await failure(begin(type, target, opId(type), 1, createRegistryActivities(registry, { secretKey: SECRET_KEY, ...LIMITS })));
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toBe(`the lock of ${what} changed hands while it was asked for; try again`);
    expect(await lockOf('set', f.setId)).toBeNull();
    expect(await lockOf('instance', target)).toBeNull();
    // The retry the failure asks for goes through.
    expect((await begin(type, target, opId(type), 1)).set?.setId).toBe(f.setId);
  });

  test('endOperation after a promote keeps the set (two members or more); describeSet shows the new roles', async () => {
    const f = await setWith(2);
    const [r0, r1] = f.replicas as [string, string];
    const op = opId('promoteToReplicaSource');
    await begin('promoteToReplicaSource', r1, op);
    expect(await lockOf('instance', r1)).toBeNull();
    await acts.applyTransition({ setId: f.setId, transition: { kind: 'promote', newSourceId: r1 } });
    await acts.endOperation({ operationId: op, setId: f.setId });
    const view = (await acts.describeSet(f.setId))!;
    expect(view).toMatchObject({ source: { id: r1 }, roles: { [f.source]: 'replica', [r0]: 'replica', [r1]: 'source' }, lock: { operationId: null } });
    expect(view.replicas.map((r) => r.id).sort()).toEqual([f.source, r0].sort());
  });

  test('applyTransition of an invalid transition is a non-retryable InvalidInput naming the set', async () => {
    const f = await setWith(1);
    const before = await dump();
    const err = await failure(acts.applyTransition({ setId: f.setId, transition: { kind: 'remove-member', instanceId: f.source } }));
    expect(err).toMatchObject({ type: ErrorType.InvalidInput, nonRetryable: true, message: `set ${f.setId}: ${f.source} is the source of set ${f.setId}; promote or eject first` });
    expect(await dump()).toEqual(before);
  });

  test('replicationCredential: created once with a sealed password, the same on a retry; forgetInstance takes it along', async () => {
    const f = await setWith(0);
    const r = replicaRecord(f.source);
    await acts.recordInstance({ record: r, setId: f.setId });
    const first = await acts.replicationCredential({ replicaId: r.id, sourceId: f.source });
    expect(first.userName).toMatch(/^repl_[0-9a-f]{16}$/);
    expect(unsealSecret(SECRET_KEY, first.sealedPassword)).toMatch(/^\S{16,}$/);
    expect(await acts.replicationCredential({ replicaId: r.id, sourceId: f.source })).toEqual(first);
    expect(await acts.allocateServerId(r.id)).toBe(await acts.allocateServerId(r.id));
    await acts.forgetInstance(r.id);
    expect(await reg.accounts.get(r.id)).toBeUndefined();
    expect(await reg.instances.get(r.id)).toBeUndefined();
  });

  test('recordHealth, recordAutomaticFailover and updateSettings go through to the store', async () => {
    const f = await setWith(1);
    await acts.recordHealth({ setId: f.setId, health: [health(f.replicas[0]!)] });
    expect((await reg.health.get(f.setId)).map((h) => h.instanceId)).toEqual([f.replicas[0]]);
    await acts.recordAutomaticFailover({ setId: f.setId, operationId: 'eject-auto' });
    expect(await acts.updateSettings({ setId: f.setId, patch: { autoFailover: true } })).toMatchObject({ autoFailover: true, lastFailoverOperation: 'eject-auto', lastFailoverAcknowledged: false });
  });
});

describe('registry activities: two operations beginning at once on one set', () => {
  interface Race {
    /** Two operations (type, label of the instance addressed) begun together. */
    ops: [[OperationType, string], [OperationType, string]];
    replicas: number;
    /** Both may be refused (each sees the other under its own lock); never both begun. */
    atMostOne?: boolean;
  }
  test.each<[string, Race]>([
    ['detach R0 vs promote R1', { ops: [['detachReplica', 'R0'], ['promoteToReplicaSource', 'R1']], replicas: 2 }],
    ['promote R0 vs eject S', { ops: [['promoteToReplicaSource', 'R0'], ['ejectReplicaSource', 'S']], replicas: 2 }],
    ['delete R0 vs delete R1', { ops: [['deleteInstance', 'R0'], ['deleteInstance', 'R1']], replicas: 2 }],
    ['delete R0 vs detach R0', { ops: [['deleteInstance', 'R0'], ['detachReplica', 'R0']], replicas: 2 }],
    ['createReplicas vs createReplicas from a standalone instance', { ops: [['createReplicas', 'S'], ['createReplicas', 'S']], replicas: 0 }],
    ['delete vs createReplicas of a standalone instance', { ops: [['deleteInstance', 'S'], ['createReplicas', 'S']], replicas: 0, atMostOne: true }],
  ])(`%s: never both, ${ROUNDS} rounds, nothing left held`, async (_, race) => {
    const f = await setWith(race.replicas);
    if (race.replicas === 0) await reg.sets.dissolveIfAlone(f.setId);
    const actsB = createRegistryActivities(regB, { secretKey: SECRET_KEY, ...LIMITS });
    let won = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const ops = race.ops.map(([type, label], k) => ({ type, instanceId: f.ids[label]!, id: `${type}-${k}-${i}` }));
      const results = await Promise.allSettled(ops.map((o, k) => begin(o.type, o.instanceId, o.id, 1, k === 0 ? acts : actsB)));
      const winners = ops.filter((_o, k) => results[k]!.status === 'fulfilled');
      if (race.atMostOne) expect(winners.length).toBeLessThanOrEqual(1);
      else expect(winners).toHaveLength(1);
      won += winners.length;
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(ApplicationFailure);
          expect([ErrorType.OperationConflict, ErrorType.SetBusyWithDelete]).toContain((r.reason as ApplicationFailure).type);
        }
      }
      for (const w of winners) {
        const set = (results[ops.indexOf(w)] as PromiseFulfilledResult<Awaited<ReturnType<typeof begin>>>).value.set;
        const end: EndInput = { operationId: w.id, instanceId: w.instanceId, setId: set?.setId ?? null };
        await acts.endOperation(end);
      }
      // Nothing held, by anyone, after each round.
      const setLocks = await rows('SELECT operation_id FROM replication_sets WHERE id = ? AND operation_id IS NOT NULL', [f.setId]);
      const instanceLocks = await rows('SELECT id, operation_id FROM instances WHERE id IN (?) AND operation_id IS NOT NULL', [Object.values(f.ids)]);
      expect([...setLocks, ...instanceLocks]).toEqual([]);
    }
    if (!race.atMostOne) expect(won).toBe(ROUNDS);
    // The set is as it was (createReplicas' set dissolves again at its end).
    if (race.replicas > 0) expect(shape((await reg.sets.topology(f.setId))!, f.ids).links).toEqual(f.replicas.map((_r, k) => `S>R${k}`));
    else expect(await reg.sets.exists(f.setId)).toBe(false);
  });
});

/**
 * A database of its own for a migration test, dropped after it: the trove account may only
 * use its own database, so root (over the registry's socket) makes a scratch one for it.
 */
async function withScratchDatabase(fn: (pool: Pool, database: string) => Promise<void>): Promise<void> {
  const database = `trove_mig_${randomUUID().slice(0, 8)}`;
  const root = await createConnection({ socketPath: path.join(env.dataDir, 'registry', 'mysqld.sock'), user: 'root' });
  await root.query(`CREATE DATABASE \`${database}\``);
  await root.query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO 'trove'@'127.0.0.1'`);
  const pool = createRegistryPool(registryConnection(database));
  try {
    await fn(pool, database);
  } finally {
    await pool.end();
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.end();
  }
}

// ---- migration 004 ---------------------------------------------------------------------

describe('migration 004 (explicit replication links)', () => {
  test('replicas recorded the old way (replica_of) come out as links; the topology reads back right', async () => {
    await withScratchDatabase(async (pool, database) => {
      expect(await migrate(pool, { upTo: 3 })).toEqual(['001_instances.sql', '002_replication.sql', '003_failover.sql']);
      const [s, r1, r2, pending, detached] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const q = (sql: string, params: unknown[]) => pool.query(sql, params);
      const row = (id: string, setId: string | null, replicaOf: string | null, readOnly: number, created: string) =>
        q(
          `INSERT INTO instances (id, project_id, name, status, flavor_id, volume_size, replication_set_id, replica_of, read_only, created)
           VALUES (?, ?, ?, 'ACTIVE', '2', 1, ?, ?, ?, ?)`,
          [id, PROJECT, id.slice(0, 8), setId, replicaOf, readOnly, created],
        );
      await q('INSERT INTO replication_sets (id, project_id, auto_failover) VALUES (?, ?, 1)', [s, PROJECT]);
      await row(s, s, null, 0, '2026-01-01 00:00:01');
      await row(r1, s, s, 1, '2026-01-01 00:00:02');
      await row(r2, s, s, 1, '2026-01-01 00:00:03');
      await row(pending, null, s, 1, '2026-01-01 00:00:04');
      await row(detached, null, null, 0, '2026-01-01 00:00:05');
      for (const r of [r1, r2]) await q('INSERT INTO replication_users (replica_id, source_id, user_name, sealed_password) VALUES (?, ?, ?, ?)', [r, s, `repl_${r.slice(0, 8)}`, 'sealed']);
      for (const id of [s, r1, detached]) {
        await q('INSERT INTO replication_health (instance_id, set_id, health, observed) VALUES (?, ?, ?, NOW())', [id, s, JSON.stringify(health(id))]);
      }

      expect(await migrate(pool, { upTo: 4 })).toEqual(['004_links.sql']);
      expect(await migrate(pool, { upTo: 4 })).toEqual([]);

      const [links] = await pool.query<RowDataPacket[]>('SELECT replica_id, source_id, set_id FROM replication_links ORDER BY replica_id');
      expect(links).toEqual(
        [
          { replica_id: r1, source_id: s, set_id: s },
          { replica_id: r2, source_id: s, set_id: s },
          { replica_id: pending, source_id: s, set_id: null },
        ].sort((a, b) => a.replica_id.localeCompare(b.replica_id)),
      );
      const [cols] = await pool.query<RowDataPacket[]>("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'instances' AND COLUMN_NAME = 'replica_of'", [database]);
      expect(cols).toEqual([]);
      const [healthRows] = await pool.query<RowDataPacket[]>('SELECT instance_id FROM replication_health ORDER BY instance_id');
      expect(healthRows.map((r) => r.instance_id as string)).toEqual([s, r1].sort());

      await migrate(pool); // today's code reads and writes today's schema
      const migrated = new Registry(pool);
      const ids = { S: s, R1: r1, R2: r2 };
      expect(shape((await migrated.sets.topology(s))!, ids)).toEqual({ members: { S: 'rw', R1: 'ro', R2: 'ro' }, links: ['S>R1', 'S>R2'] });
      expect(await migrated.instances.get(s)).toMatchObject({ replicationSetId: s, replicaOf: null, replicas: [r1, r2, pending] });
      expect(await migrated.instances.get(r1)).toMatchObject({ replicationSetId: s, replicaOf: s, readOnly: true });
      expect(await migrated.instances.get(pending)).toMatchObject({ replicationSetId: null, replicaOf: s });
      expect((await migrated.health.getSettings(s))!.autoFailover).toBe(true);
      // The migrated set works with the new code: promote, and a link goes with its replica.
      await migrated.sets.apply(s, { kind: 'promote', newSourceId: r2 });
      expect(shape((await migrated.sets.topology(s))!, ids)).toEqual({ members: { S: 'ro', R1: 'ro', R2: 'rw' }, links: ['R2>R1', 'R2>S'] });
      expect((await migrated.accounts.get(r1))!.sourceId).toBe(r2);
      await migrated.instances.remove(r1);
      const [left] = await pool.query<RowDataPacket[]>('SELECT replica_id FROM replication_links WHERE replica_id = ?', [r1]);
      expect(left).toEqual([]);
    });
  });
});

// ---- migration 005 ---------------------------------------------------------------------

describe('migration 005 (fault_at)', () => {
  test('a fault recorded before gets its record\'s last change as its time; no fault, no time', async () => {
    await withScratchDatabase(async (pool) => {
      expect(await migrate(pool, { upTo: 4 })).toHaveLength(4);
      const [faulty, fine] = [randomUUID(), randomUUID()];
      for (const [id, fault] of [[faulty, 'delete failed: boom'], [fine, null]] as const) {
        await pool.query(
          `INSERT INTO instances (id, project_id, name, status, flavor_id, volume_size, fault, updated) VALUES (?, ?, ?, ?, '1', 1, ?, '2026-01-02 03:04:05.678')`,
          [id, PROJECT, id.slice(0, 8), fault ? 'ERROR' : 'ACTIVE', fault],
        );
      }
      expect(await migrate(pool, { upTo: 5 })).toEqual(['005_fault_at.sql']);
      const migrated = new Registry(pool);
      const rec = (await migrated.instances.get(faulty))!;
      expect(rec).toMatchObject({ fault: 'delete failed: boom' });
      expect(rec.faultAt).toEqual(rec.updated);
      expect(rec.faultAt).toEqual(new Date(2026, 0, 2, 3, 4, 5, 678));
      expect(await migrated.instances.get(fine)).toMatchObject({ fault: null, faultAt: null });
    });
  });
});

// ---- placement under the set's lock (issue 18) -----------------------------------------

describe("createReplicas' begin checks placement again, with Nova's zones and the group's hosts", () => {
  const zones = [{ name: 'az1', hosts: ['host1a', 'host1b'] }, { name: 'az2', hosts: ['host2a', 'host2b'] }];
  /** A Nova where the source's anti-affinity group already holds `held` of az1's hosts. */
  const nova = (held: string[], fail = false): PlacementReader => ({
    listZoneHosts: async () => {
      if (fail) throw new Error('Nova GET /os-availability-zone/detail answered 503');
      return zones;
    },
    groupPlacement: async () => ({ policy: 'anti-affinity', memberHosts: held }),
  });
  const withNova = (reader: PlacementReader) => createRegistryActivities(reg, { secretKey: SECRET_KEY, ...LIMITS, placement: reader });
  const beginReplicas = (a: RegistryActivities, sourceId: string, ids: string[], availabilityZone?: string) =>
    a.beginOperation({ operation: { id: opId('createReplicas'), type: 'createReplicas' }, projectId: PROJECT, instanceId: sourceId, count: ids.length, replicas: { ids, ...(availabilityZone ? { availabilityZone } : {}) } });
  const source = () => active({ availabilityZone: 'az1', locality: 'anti-affinity', serverGroupId: randomUUID() });

  test('more members than free hosts in the source\'s zone: refused naming the rule, nothing held, no set left behind', async () => {
    const id = await source();
    const err = await failure(beginReplicas(withNova(nova(['host1a'])), id, [randomUUID(), randomUUID()]));
    expect(err).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(err.message).toBe('count: anti-affinity puts every member of the set on its own host; zone az1 has 2 host(s), 1 already holding a member, so 2 more cannot be placed (at most 1)');
    expect(await lockOf('instance', id)).toBeNull();
    expect((await reg.instances.get(id))!.replicationSetId).toBeNull();
  });

  test('the template\'s zone is where they go: an unknown one is refused, a free one is placed', async () => {
    const id = await source();
    const unknown = await failure(beginReplicas(withNova(nova(['host1a'])), id, [randomUUID()], 'az9'));
    expect(unknown.message).toBe('template.availabilityZone: zone "az9" does not exist (zones: az1, az2)');
    const begun = await beginReplicas(withNova(nova(['host1a', 'host1b'])), id, [randomUUID(), randomUUID()], 'az2');
    expect(begun.instance).toMatchObject({ id, locality: 'anti-affinity', availabilityZone: 'az1' });
    await acts.endOperation({ operationId: begun.set!.lock.operationId!, setId: begun.set!.setId });
  });

  test('Nova not answering fails retryably with the locks let go; the retry goes through', async () => {
    const id = await source();
    const op = opId('createReplicas');
    const ask = (a: RegistryActivities) => a.beginOperation({ operation: { id: op, type: 'createReplicas' }, projectId: PROJECT, instanceId: id, count: 1, replicas: { ids: [randomUUID()] } });
    const err = await ask(withNova(nova([], true))).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/answered 503/);
    expect(await lockOf('instance', id)).toBeNull();
    const setId = (await reg.instances.get(id))!.replicationSetId;
    if (setId) expect(await lockOf('set', setId)).toBeNull();
    expect((await ask(withNova(nova([])))).set?.lock.operationId).toBe(op);
  });
});

// ---- watch claims (migrations 017, 018) ------------------------------------------------------

describe('watch claims', () => {
  const token = (n: number) => new Uint8Array([n, 1, 2, 3]);

  test("a worker absent past the limit is listed with its claims; a present one is not; a later attempt's claim replaces the earlier one's", async () => {
    const [live, dead, setA, setB, setC] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await reg.watchClaims.present(live);
    await reg.watchClaims.present(dead);
    await reg.watchClaims.claim(live, [{ setId: setA, workflowId: 'wf-a', taskToken: token(1) }]);
    await reg.watchClaims.claim(dead, [
      { setId: setB, workflowId: 'wf-b', taskToken: token(2) },
      { setId: setC, workflowId: 'wf-c', taskToken: token(3) },
    ]);
    // The set's watch retried on the live worker: its claim now names that attempt.
    await reg.watchClaims.claim(live, [{ setId: setC, workflowId: 'wf-c', taskToken: token(4) }]);
    await reg.pool.query('UPDATE orchestrator_workers SET seen_at = NOW(3) - INTERVAL 3 SECOND WHERE worker_id = ?', [dead]);

    const absent = await reg.watchClaims.absent(2500);
    expect(absent.has(live)).toBe(false);
    expect(absent.get(dead)).toEqual({ why: 'absent', claims: [{ setId: setB, workflowId: 'wf-b', taskToken: token(2) }] });
    // Not yet absent at a longer limit.
    expect((await reg.watchClaims.absent(10_000)).has(dead)).toBe(false);

    // Released with another attempt's token: kept. With its own: gone.
    await reg.watchClaims.release([{ setId: setA, taskToken: token(9) }]);
    await reg.watchClaims.release([{ setId: setB, taskToken: token(2) }]);
    expect((await rows('SELECT set_id FROM watch_claims WHERE set_id IN (?)', [[setA, setB, setC]])).map((r) => r.set_id).sort()).toEqual([setA, setC].sort());
    await reg.watchClaims.forget(dead, 2500);
    await reg.watchClaims.forget(live, 2500);
    // The live worker was present just now: forgetting it does nothing.
    expect((await rows('SELECT worker_id FROM orchestrator_workers WHERE worker_id IN (?)', [[live, dead]])).map((r) => r.worker_id)).toEqual([live]);
    await reg.watchClaims.release([{ setId: setC, taskToken: token(4) }]);
    await reg.watchClaims.leave(live);
    await reg.watchClaims.leave(dead);
  });

  test("a worker whose registry session ended is gone at once, for a judge whose own lock is older than the limit; its presence is forgotten", async () => {
    const [judge, fresh, killed, set] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await reg.watchClaims.present(judge);
    await new Promise((r) => setTimeout(r, 1600));
    await reg.watchClaims.present(fresh);
    await reg.watchClaims.present(killed);
    await reg.watchClaims.claim(killed, [{ setId: set, workflowId: 'wf-k', taskToken: token(6) }]);
    // Present just now and holding its lock: nobody's judgement finds it gone.
    expect((await reg.watchClaims.absent(1500, reg.watchClaims.lockHeldSince(judge))).has(killed)).toBe(false);
    // Its session ends as a killed process's does (the server frees the lock).
    const [held] = await rows("SELECT IS_USED_LOCK(CONCAT('trove-watch:', SHA1(?))) AS id", [killed]);
    expect(held!.id).not.toBeNull();
    await reg.pool.query('KILL ?', [held!.id]);
    for (let i = 0; i < 50 && (await rows("SELECT IS_USED_LOCK(CONCAT('trove-watch:', SHA1(?))) AS id", [killed]))[0]!.id !== null; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await reg.watchClaims.absent(1500, reg.watchClaims.lockHeldSince(judge))).get(killed)).toEqual({ why: 'session ended', claims: [{ setId: set, workflowId: 'wf-k', taskToken: token(6) }] });
    // A judge whose own lock is new (as every lock is after a registry restart) waits for the absence limit; so does one without a lock.
    expect((await reg.watchClaims.absent(1500, reg.watchClaims.lockHeldSince(fresh))).has(killed)).toBe(false);
    expect((await reg.watchClaims.absent(1500)).has(killed)).toBe(false);
    await reg.watchClaims.release([{ setId: set, taskToken: token(6) }]);
    await reg.watchClaims.present(judge);
    await reg.watchClaims.forget(killed, 1500);
    await reg.watchClaims.forget(judge, 1500);
    expect((await rows('SELECT worker_id FROM orchestrator_workers WHERE worker_id IN (?)', [[judge, killed]])).map((r) => r.worker_id)).toEqual([judge]);
    // A worker that leaves frees its lock: judged gone at once, like a killed one.
    await reg.watchClaims.claim(fresh, [{ setId: set, workflowId: 'wf-f', taskToken: token(7) }]);
    await reg.watchClaims.leave(fresh);
    expect((await reg.watchClaims.absent(1500, reg.watchClaims.lockHeldSince(judge))).get(fresh)?.why).toBe('session ended');
    await reg.watchClaims.release([{ setId: set, taskToken: token(7) }]);
    await reg.watchClaims.leave(judge);
  });

  test('claims of a worker that never marked itself present are listed as absent', async () => {
    const [ghost, set] = [randomUUID(), randomUUID()];
    await reg.watchClaims.claim(ghost, [{ setId: set, workflowId: 'wf-g', taskToken: token(5) }]);
    expect((await reg.watchClaims.absent(2500)).get(ghost)).toEqual({ why: 'absent', claims: [{ setId: set, workflowId: 'wf-g', taskToken: token(5) }] });
    await reg.watchClaims.release([{ setId: set, taskToken: token(5) }]);
  });

  test('a gone worker that holds no claim is listed with none (it may have died before claiming); the sets no attempt claims are listed', async () => {
    const [idle, setA, setB] = [randomUUID(), randomUUID(), randomUUID()];
    await reg.watchClaims.present(idle);
    await reg.pool.query('INSERT INTO replication_sets (id, project_id) VALUES ?', [[[setA, 'proj-claims'], [setB, 'proj-claims']]]);
    try {
      await reg.watchClaims.claim(idle, [{ setId: setA, workflowId: 'wf-a', taskToken: token(8) }]);
      const unclaimed = await reg.watchClaims.unclaimed();
      expect(unclaimed).toContain(setB);
      expect(unclaimed).not.toContain(setA);
      await reg.watchClaims.release([{ setId: setA, taskToken: token(8) }]);
      expect(await reg.watchClaims.unclaimed()).toEqual(expect.arrayContaining([setA, setB]));
      await reg.pool.query('UPDATE orchestrator_workers SET seen_at = NOW(3) - INTERVAL 3 SECOND WHERE worker_id = ?', [idle]);
      expect((await reg.watchClaims.absent(2500)).get(idle)).toEqual({ why: 'absent', claims: [] });
      await reg.watchClaims.forget(idle, 2500);
      expect((await reg.watchClaims.absent(2500)).has(idle)).toBe(false);
    } finally {
      await reg.watchClaims.leave(idle);
      await reg.pool.query('DELETE FROM replication_sets WHERE id IN (?)', [[setA, setB]]);
    }
  });
});
