// The trove CLI in a terminal of 100 columns (or fewer): `show` of a replication-set member
// prints the instance's own fields, then the set's topology and health as short tables of
// their own; --wait follows each replica's bytes restored and lag. No printed line is wider
// than the terminal, nor than 100 columns. `show` runs against the real API routes (an
// in-memory registry, a Temporal client that answers the progress query and describe), so
// the tables are checked against the answers the API really gives.
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { buildApiApp } from '../../api/app';
import { run, type CliIo } from '../../cli/main';
import type { MemberHealth } from '../../lib/schemas';
import type { NovaClient } from '../../lib/nova-client';
import type { Topology } from '../../lib/topology';
import type { InstanceRecord, Registry } from '../../registry';
import { json, ref } from '../helpers/cli';

const SRC = '6f1c2a9e-3b7d-4c1e-9a55-0d2b8e4f7a10';
const R1 = 'b84e0f13-92c6-4d8a-b1f7-5e3a6c9d2e41';
const R2 = 'e2d7c5a8-1f40-4b9e-8c63-7a9f0b1d3c52';
const LONG_ERROR =
  "error connecting to master 'repl_b84e0f13@127.0.1.5:3306' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '127.0.1.5' (111 \"Connection refused\")";

interface RunOptions {
  env?: Record<string, string>;
  stdoutColumns?: number;
  stderrColumns?: number;
}

/** The CLI in-process, as a terminal of the given width would run it. */
async function trove(fetch: CliIo['fetch'], argv: string[], o: RunOptions = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    env: { TROVE_URL: baseUrl ?? 'http://api.test', TROVE_TOKEN: 'tok', TROVE_PROJECT: 'proj', ...o.env },
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    fetch,
    pollIntervalMs: 1,
    stdoutColumns: o.stdoutColumns,
    stderrColumns: o.stderrColumns,
  });
  return { code, stdout, stderr };
}

const widest = (text: string) => Math.max(0, ...text.split('\n').map((l) => l.length));

interface Printed {
  /** The line just above the table (its heading), '' when there is none. */
  heading: string;
  rows: string[][];
}

/** Every box table printed: its heading line and its rows (the head first), cells trimmed. */
function printedTables(text: string): Printed[] {
  const out: Printed[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.startsWith('┌')) out.push({ heading: lines[i - 1] ?? '', rows: [] });
    else if (line.startsWith('│')) out[out.length - 1]!.rows.push(line.slice(1, -1).split('│').map((c) => c.trim()));
  });
  return out;
}

const propertiesOf = (t: Printed) => Object.fromEntries(t.rows.slice(1).map(([k, v]) => [k, v]));

// ---- the real API routes over an in-memory registry ----

const at = new Date('2026-05-01T09:00:00.000Z');

function record(r: Partial<InstanceRecord> & { id: string; name: string }): InstanceRecord {
  return {
    projectId: 'proj', status: 'ACTIVE', flavorId: '1', volumeSize: 1, availabilityZone: 'az1', datastore: 'mariadb', datastoreVersion: '10.11', novaServerId: 'srv',
    address: '127.0.1.5', port: 3306, mysqlServerId: 1, operationId: null, operationType: null, fault: null, faultAt: null, created: at, updated: at,
    replicationSetId: null, replicaOf: null, readOnly: false, locality: null, serverGroupId: null, replicas: [], databases: [], users: [], ...r,
  };
}

function memberHealth(id: string, name: string, extra: Partial<MemberHealth> = {}): MemberHealth {
  return {
    instanceId: id, name, role: 'replica', reachable: true, agentAnswered: true, ioRunning: true, sqlRunning: true, secondsBehind: 0, transactionsBehind: 0,
    gtidSlavePos: '0-1-100', gtidIoPos: '0-1-100', gtidBinlogPos: null, lastIoError: null, lastSqlError: null, readOnly: true, observedAt: '2026-05-01T10:00:00.000Z', ...extra,
  };
}

let rows: InstanceRecord[];
let health: MemberHealth[];
/** Per workflow id: what the `progress` query answers, and the pending activities describe() shows. */
let progress: Map<string, { phase: string }>;
let pending: Map<string, Record<string, unknown>[]>;
/** Per createReplicas workflow id: what its `replicas` query answers; the builds are its children. */
let replicaRows: Map<string, { replicaId: string; name: string; phase: string; restoredBytes?: number; secondsBehind?: number | null }[]>;
let described: string[];
/** The set's lock: the operation that holds the whole set, if any. */
let lockOfSet: { operationId: string; operationType: string } | undefined;
let app: FastifyInstance;
let baseUrl: string | undefined;

const topology: Topology = {
  setId: 'set-1',
  members: [
    { id: SRC, writable: true },
    { id: R1, writable: false },
    { id: R2, writable: false },
  ],
  links: [
    { source: SRC, replica: R1 },
    { source: SRC, replica: R2 },
  ],
};

beforeEach(async () => {
  rows = [
    record({ id: SRC, name: 'orders-db', replicationSetId: 'set-1', replicas: [R1, R2] }),
    record({ id: R1, name: 'orders-db-replica-1', replicationSetId: 'set-1', replicaOf: SRC, readOnly: true, address: '127.0.1.6' }),
    record({ id: R2, name: 'orders-db-replica-2', replicationSetId: 'set-1', replicaOf: SRC, readOnly: true, address: '127.0.1.7' }),
  ];
  // In the monitor's order; the health table follows the topology's (the source first).
  health = [
    memberHealth(R1, 'orders-db-replica-1'),
    memberHealth(SRC, 'orders-db', { role: 'source', ioRunning: null, sqlRunning: null, secondsBehind: null, transactionsBehind: null, readOnly: false }),
    memberHealth(R2, 'orders-db-replica-2', { ioRunning: false, secondsBehind: null, transactionsBehind: 12, lastIoError: LONG_ERROR }),
  ];
  progress = new Map();
  pending = new Map();
  replicaRows = new Map();
  described = [];
  lockOfSet = undefined;
  const registry = {
    instances: {
      get: async (id: string) => rows.find((r) => r.id === id),
      getInProject: async (project: string, id: string) => rows.find((r) => r.id === id && r.projectId === project),
      findByName: async (project: string, name: string) => rows.filter((r) => r.projectId === project && r.name === name),
      list: async (project: string) => rows.filter((r) => r.projectId === project),
      listSetMembers: async (setId: string) => rows.filter((r) => r.replicationSetId === setId),
    },
    sets: { topology: async (setId: string) => (setId === 'set-1' ? topology : undefined) },
    locks: { get: async (kind: string) => (kind === 'set' ? lockOfSet : undefined) },
    health: { get: async () => health, getSettings: async () => undefined },
    certificates: { tlsCertificate: async () => undefined, serverCertificates: async () => [] },
  } as unknown as Registry;
  const temporal = {
    workflow: {
      getHandle: (workflowId: string) => ({
        query: async (name: string) => (name === 'replicas' ? replicaRows.get(workflowId) : progress.get(workflowId)) ?? Promise.reject(new Error('no such workflow')),
        describe: async () => {
          described.push(workflowId);
          const activities = pending.get(workflowId);
          if (!activities) throw new Error('no such workflow');
          return {
            raw: {
              workflowExecutionInfo: { parentExecution: { workflowId: 'create-replicas-1', runId: 'run-1' } },
              pendingActivities: activities.map((details, i) => ({
                activityType: { name: i ? 'other' : 'restoreSnapshot' },
                heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(details)] },
              })),
            },
          };
        },
      }),
    },
  } as unknown as Client;
  const nova = { listFlavors: async () => [{ id: '1' }], listZones: async () => ['az1'] } as unknown as NovaClient;
  app = buildApiApp({ registry, temporal, nova, secretKey: Buffer.alloc(32), tokens: new Map([['tok', 'proj']]), baseUrl: 'http://api', limits: { maxReplicas: 10, maxDepth: 1 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await app.close();
  baseUrl = undefined;
});

const http: CliIo['fetch'] = (url, init) => fetch(url, init);

describe('trove show of a replication-set member', () => {
  it('prints the instance fields, then the topology and the health as their own tables, no line over 100 columns', async () => {
    const r = await trove(http, ['show', 'orders-db']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(widest(r.stdout)).toBeLessThanOrEqual(100);

    const [own, topo, healthTable, ...rest] = printedTables(r.stdout);
    expect(rest).toEqual([]);
    expect(own!.rows[0]).toEqual(['Property', 'Value']);
    expect(propertiesOf(own!)).toEqual({
      addresses: '127.0.1.5 (private)',
      availability_zone: 'az1',
      created: '2026-05-01T09:00:00.000Z',
      datastore: 'mariadb',
      datastore_version: '10.11',
      flavor: '1',
      id: SRC,
      ip: '127.0.1.5',
      name: 'orders-db',
      port: '3306',
      public: 'false',
      replicas: `${R1}, ${R2}`,
      replicates_from: '',
      replicates_to: `${R1}, ${R2}`,
      role: 'source',
      status: 'ACTIVE',
      updated: '2026-05-01T09:00:00.000Z',
      volume: '1',
      writable: 'true',
    });

    expect(topo!.heading).toBe('Topology: 3 members (* this instance)');
    expect(topo!.rows).toEqual([
      // Where each member is (0.2.0): a DR set's members span zones.
      ['Member', 'ID', 'Role', 'Replicates from', 'Zone'],
      ['orders-db *', SRC, 'source', '', 'az1'],
      ['orders-db-replica-1', R1, 'replica', 'orders-db', 'az1'],
      ['orders-db-replica-2', R2, 'replica', 'orders-db', 'az1'],
    ]);

    expect(healthTable!.heading).toBe('Replication health, as the monitor saw it at 2026-05-01T10:00:00.000Z');
    const [head, source, healthy, broken] = healthTable!.rows;
    expect(head).toEqual(['Member', 'Role', 'Reachable', 'IO/SQL', 'Lag', 'Last error']);
    expect(source).toEqual(['orders-db', 'source', 'yes', '-', '-', '']);
    expect(healthy).toEqual(['orders-db-replica-1', 'replica', 'yes', 'yes/yes', '0 trx / 0 s', '']);
    // The long error is cut short to the room left: the whole of it is in --json.
    expect(broken!.slice(0, 5)).toEqual(['orders-db-replica-2', 'replica', 'yes', 'no/yes', '12 trx / ? s']);
    expect(broken![5]).toMatch(/^error connecting to master.*…$/);
    expect(LONG_ERROR.startsWith(broken![5]!.slice(0, -1))).toBe(true);
    // The health table takes the whole width to show as much of the error as it can.
    expect(widest(r.stdout)).toBe(100);
  });

  it('a replica marks itself in the topology; an unreachable member with a silent agent says so', async () => {
    health[2] = memberHealth(R2, 'orders-db-replica-2', { reachable: false, agentAnswered: false, ioRunning: null, sqlRunning: null, secondsBehind: null, transactionsBehind: null });
    const r = await trove(http, ['show', R1]);
    expect(r.code).toBe(0);
    expect(widest(r.stdout)).toBeLessThanOrEqual(100);
    const [own, topo, healthTable] = printedTables(r.stdout);
    expect(propertiesOf(own!)).toMatchObject({ id: R1, replica_of: SRC, replicates_from: SRC, writable: 'false' });
    expect(topo!.rows.map((row) => row[0])).toEqual(['Member', 'orders-db', 'orders-db-replica-1 *', 'orders-db-replica-2']);
    expect(healthTable!.rows[3]).toEqual(['orders-db-replica-2', 'replica', 'no', '-', '-', '(agent silent)']);
  });

  it.each([
    ['a 300-column terminal', { stdoutColumns: 300 }, 100],
    ['an 80-column terminal', { stdoutColumns: 80 }, 80],
    ['COLUMNS=72 into a pipe', { env: { COLUMNS: '72' } }, 72],
    ['a 50-column terminal', { stdoutColumns: 50 }, 50],
    ['no terminal and no COLUMNS', {}, 100],
  ])('in %s no line is wider than %p columns', async (_, options, width) => {
    const r = await trove(http, ['show', 'orders-db'], options as RunOptions);
    if (process.env.SHOW_OUTPUT) process.stdout.write(`${r.stdout}\n`);
    expect(r.code).toBe(0);
    expect(widest(r.stdout)).toBeLessThanOrEqual(width);
    const tables = printedTables(r.stdout);
    expect(tables.map((t) => t.heading)).toEqual(['', expect.stringMatching(/^Topology: 3 members/), expect.stringMatching(/^Replication health/)]);
    // Narrower, the values wrap rather than vanish: each id is still in the topology table's ID column.
    const idColumn = tables[1]!.rows.map((row) => row[1]).join('');
    for (const id of [SRC, R1, R2]) expect(idColumn).toContain(id);
  });

  it('--json prints the API answer exactly as before', async () => {
    const r = await trove(http, ['show', 'orders-db', '--json']);
    expect(r.code).toBe(0);
    const res = await fetch(`${baseUrl}/v1.0/proj/instances/orders-db`, { headers: { 'X-Auth-Token': 'tok' } });
    const answer = (await res.json()) as { instance: { replication_health: { last_io_error: string }[] } };
    expect(r.stdout).toBe(`${JSON.stringify(answer.instance, null, 2)}\n`);
    expect(answer.instance.replication_health[2].last_io_error).toBe(LONG_ERROR);
  });
});

describe('the API shows a building replica’s bytes restored and lag', () => {
  const building = (phase: string, heartbeat: Record<string, unknown> | undefined) => {
    rows[2] = { ...rows[2]!, status: 'BUILD', operationId: `build-replica-${R2}`, operationType: 'buildReplica' };
    progress.set(`build-replica-${R2}`, { phase });
    if (heartbeat) pending.set(`build-replica-${R2}`, [heartbeat]);
  };
  const operation = async () => JSON.parse((await trove(http, ['show', R2, '--json'])).stdout).operation;

  it('while restoring: the bytes of the restore activity’s last heartbeat', async () => {
    building('restoring', { phase: 'restore', bytes: 12_582_912 });
    expect(await operation()).toEqual({ id: `build-replica-${R2}`, type: 'buildReplica', phase: 'restoring', restored_bytes: 12_582_912 });
    const [own] = printedTables((await trove(http, ['show', R2])).stdout);
    expect(propertiesOf(own!).operation).toBe('buildReplica (restoring, 12.0 MiB restored)');
  });

  it('while catching up: seconds behind, and transactions behind from the GTID positions', async () => {
    building('catching up', { phase: 'catch-up', secondsBehind: 3, gtidSlavePos: '0-1-90', target: '0-1-102' });
    expect(await operation()).toEqual({ id: `build-replica-${R2}`, type: 'buildReplica', phase: 'catching up', seconds_behind: 3, transactions_behind: 12 });
    const [own] = printedTables((await trove(http, ['show', R2])).stdout);
    expect(propertiesOf(own!).operation).toBe('buildReplica (catching up, lag 12 trx / 3 s)');
  });

  it('once the restore is over: the bytes from the replica’s row in its createReplicas; a live heartbeat wins', async () => {
    building('attaching', { phase: 'start' });
    replicaRows.set('create-replicas-1', [
      { replicaId: R1, name: 'orders-db-replica-1', phase: 'active', restoredBytes: 999, secondsBehind: 0 },
      { replicaId: R2, name: 'orders-db-replica-2', phase: 'attaching', restoredBytes: 64 * 1_048_576 },
    ]);
    expect(await operation()).toEqual({ id: `build-replica-${R2}`, type: 'buildReplica', phase: 'attaching', restored_bytes: 64 * 1_048_576 });
    pending.set(`build-replica-${R2}`, [{ phase: 'restore', bytes: 70 * 1_048_576 }]);
    expect((await operation()).restored_bytes).toBe(70 * 1_048_576);
  });

  it('a built replica while its createReplicas still runs: its bytes restored and lag from that operation’s row', async () => {
    rows[0] = { ...rows[0]!, operationId: null };
    const setLocked = { operationId: 'create-replicas-1', operationType: 'createReplicas' };
    lockOfSet = setLocked;
    progress.set('create-replicas-1', { phase: 'building replicas' });
    replicaRows.set('create-replicas-1', [{ replicaId: R1, name: 'orders-db-replica-1', phase: 'active', restoredBytes: 64 * 1_048_576, secondsBehind: 0 }]);
    const shown = JSON.parse((await trove(http, ['show', R1, '--json'])).stdout);
    expect(shown.operation).toEqual({ id: 'create-replicas-1', type: 'createReplicas', phase: 'building replicas', restored_bytes: 64 * 1_048_576, seconds_behind: 0 });
    // The source is busy with the same operation, and has no row of its own.
    expect(JSON.parse((await trove(http, ['show', SRC, '--json'])).stdout).operation).toEqual({ id: 'create-replicas-1', type: 'createReplicas', phase: 'building replicas' });
    expect(described).toEqual([]);
  });

  it('nothing more when no activity has beaten yet, or describe fails; only a build is described', async () => {
    building('creating server', undefined);
    expect(await operation()).toEqual({ id: `build-replica-${R2}`, type: 'buildReplica', phase: 'creating server' });
    pending.set(`build-replica-${R2}`, [{ phase: 'restore' }]);
    expect(await operation()).toEqual({ id: `build-replica-${R2}`, type: 'buildReplica', phase: 'creating server' });
    expect(described).toEqual([`build-replica-${R2}`, `build-replica-${R2}`]);

    rows[0] = { ...rows[0]!, operationId: 'detach-x', operationType: 'detachReplica' };
    progress.set('detach-x', { phase: 'locking' });
    expect(JSON.parse((await trove(http, ['show', SRC, '--json'])).stdout).operation).toEqual({ id: 'detach-x', type: 'detachReplica', phase: 'locking' });
    expect(described).toHaveLength(2);
  });
});

// ---- --wait's progress, against a scripted API ----

type View = Record<string, unknown> & { id: string; name: string; status: string };

const MiB = 1_048_576;

function view(id: string, name: string, extra: Record<string, unknown> = {}): View {
  return {
    id, name, status: 'ACTIVE', flavor: { id: '1', links: [] }, volume: { size: 1 }, datastore: { type: 'mariadb', version: '10.11' }, links: [],
    replica_of: ref('src-id'), replicates_from: ['src-id'], replicates_to: [], writable: false, ...extra,
  };
}

const op = (id: string, phase: string, extra: Record<string, unknown> = {}) => ({ operation: { id: `build-replica-${id}`, type: 'buildReplica', phase, ...extra } });

/** A replica's build as successive GETs see it: bytes while restoring, lag while catching up, then the monitor's. */
function buildScript(id: string, name: string): View[] {
  const monitor = { replication_health: [{ id: 'src-id', name: 'src', role: 'source' }, { id, name, role: 'replica', io_running: true, sql_running: true, seconds_behind: 0, transactions_behind: 0 }] };
  return [
    view(id, name, { status: 'BUILD', ...op(id, 'creating server') }),
    view(id, name, { status: 'BUILD', ...op(id, 'restoring', { restored_bytes: 5 * MiB }) }),
    view(id, name, { status: 'BUILD', ...op(id, 'restoring', { restored_bytes: 12 * MiB }) }),
    view(id, name, { status: 'BUILD', ...op(id, 'attaching') }),
    view(id, name, { status: 'BUILD', ...op(id, 'catching up', { seconds_behind: 3, transactions_behind: 12 }) }),
    view(id, name, monitor),
  ];
}

/** POST answers the replicas in BUILD; GETs follow each replica's script, the last answer repeating. */
function scriptedApi(names: string[]) {
  const ids = names.map((_, i) => `rid-${i + 1}`);
  const scripts = new Map(ids.map((id, i) => [id, buildScript(id, names[i]!)]));
  const fetch: CliIo['fetch'] = async (url, init) => {
    const path = new URL(url).pathname;
    if (init?.method === 'POST') {
      const replicas = ids.map((id, i) => view(id, names[i]!, { status: 'BUILD', operation: { id: 'op-1', type: 'createReplicas' } }));
      return json(202, { instance: replicas[replicas.length - 1], replicas, operation: { id: 'op-1', type: 'createReplicas' } });
    }
    const steps = scripts.get(decodeURIComponent(path.split('/').pop()!))!;
    return json(200, { instance: steps.length > 1 ? steps.shift() : steps[0] });
  };
  return fetch;
}

describe('trove replicate --wait shows each replica’s bytes restored and lag', () => {
  it('into a pipe: a line per change, the bytes kept once the restore is over, no line over 100 columns', async () => {
    const r = await trove(scriptedApi(['src-replica-1', 'src-replica-2']), ['replicate', 'src', '2', '--wait', '--timeout', '5']);
    expect(r.code).toBe(0);
    expect(widest(r.stderr)).toBeLessThanOrEqual(100);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('src-replica-1: '))).toEqual([
      'src-replica-1: BUILD',
      'src-replica-1: BUILD: creating server',
      'src-replica-1: BUILD: restoring (5.0 MiB restored)',
      'src-replica-1: BUILD: restoring (12.0 MiB restored)',
      'src-replica-1: BUILD: attaching (12.0 MiB restored)',
      'src-replica-1: BUILD: catching up (12.0 MiB restored, lag 12 trx / 3 s)',
      'src-replica-1: ACTIVE (12.0 MiB restored, lag 0 trx / 0 s)',
    ]);
    expect(lines.filter((l) => l.startsWith('src-replica-2: '))).toHaveLength(7);
    // Then each replica's own table, and the set's once.
    expect(widest(r.stdout)).toBeLessThanOrEqual(100);
    expect(printedTables(r.stdout).map((t) => t.rows[0]![0])).toEqual(['Property', 'Property', 'Member']);
  });

  it('a name too long for the line is cut, not wrapped', async () => {
    const long = `replica-${'x'.repeat(120)}`;
    const r = await trove(scriptedApi([long]), ['replicate', 'src', '1', '--name', long, '--wait', '--timeout', '5'], { env: { COLUMNS: '100' } });
    expect(r.code).toBe(0);
    expect(widest(r.stderr)).toBeLessThanOrEqual(100);
    expect(widest(r.stdout)).toBeLessThanOrEqual(100);
  });

  const ESC = String.fromCharCode(27);

  /** The frames drawn on a terminal: each after the escape that moves up over the one before. */
  function frames(stderr: string): string[] {
    const parts = stderr.split(new RegExp(`${ESC}\\[(\\d+)A${ESC}\\[0J`));
    const out = [parts[0]!];
    for (let i = 1; i < parts.length; i += 2) {
      // The cursor goes up exactly over the frame before.
      expect(Number(parts[i])).toBe(out[out.length - 1]!.split('\n').length - 1);
      out.push(parts[i + 1]!);
    }
    return out;
  }

  it.each([100, 160, 72, 50])('on a terminal of %p columns: one table redrawn in place, never wider than the terminal nor 100', async (columns) => {
    const names = ['orders-db-replica-1', 'orders-db-replica-2', 'orders-db-replica-3'];
    const r = await trove(scriptedApi(names), ['replicate', 'orders-db', '3', '--wait', '--timeout', '5'], { stderrColumns: columns, stdoutColumns: columns });
    expect(r.code).toBe(0);
    const drawn = frames(r.stderr);
    expect(drawn.length).toBeGreaterThan(6);
    for (const frame of drawn) {
      expect(widest(frame)).toBeLessThanOrEqual(Math.min(columns, 100));
      expect(printedTables(frame)).toHaveLength(1);
    }
    const rowsOf = (frame: string) => printedTables(frame)[0]!.rows;
    expect(rowsOf(drawn[drawn.length - 1]!)).toHaveLength(4);
    expect(widest(r.stdout)).toBeLessThanOrEqual(Math.min(columns, 100));
    // Narrower than the table wants, names are cut: the values are checked at full width.
    if (columns < 100) return;
    expect(rowsOf(drawn[0]!)[0]).toEqual(['Replica', 'Status', 'Phase', 'Restored', 'Lag']);
    // Somewhere along the way: a restore under way, then catching up with the bytes kept.
    const seen = drawn.flatMap((f) => rowsOf(f).slice(1).map((row) => row.join(' | ')));
    expect(seen).toContain('orders-db-replica-2 | BUILD | restoring | 5.0 MiB | ');
    expect(seen).toContain('orders-db-replica-2 | BUILD | catching up | 12.0 MiB | 12 trx / 3 s');
    expect(rowsOf(drawn[drawn.length - 1]!).slice(1)).toEqual(names.map((n) => [n, 'ACTIVE', '', '12.0 MiB', '0 trx / 0 s']));
  });
});
