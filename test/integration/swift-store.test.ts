// Snapshots in a real OpenStack Swift (Debian's packages, run as processes by
// scripts/stack/swift.ts): the store on its own (a follower reads the segments while the
// writer still writes, a two-level manifest reads back whole, an abort and a delete leave
// nothing), then a stack configured with TROVE_SNAPSHOT_STORE=swift building replicas from a
// snapshot that streamed through Swift, and a Swift that is down seen as the instance's fault.
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { SnapshotMeta } from '../../activities/snapshots/store';
import { SwiftClient } from '../../activities/snapshots/swift-client';
import { SwiftSnapshotStore } from '../../activities/snapshots/swift-store';
import { workflowIds } from '../../lib/names';
import { startLocalSwift, type LocalSwift } from '../../scripts/stack/swift';
import { activityResult, historyText } from '../helpers/histories';
import { checkInvariants, swiftObjectsLeft } from '../helpers/invariants';
import { eventually, novaServerOf, showInstance, sleep, useTestStack, waitIdle } from '../helpers/stack';

let swift: LocalSwift;
let swiftDir: string;
const swiftLog = () => path.join(swiftDir, 'swift.log');
// Filled before the stack starts (this beforeAll runs before useTestStack's).
const stackEnv: Record<string, string> = {};

beforeAll(async () => {
  swiftDir = mkdtempSync(path.join(os.tmpdir(), 'trove-swift-'));
  swift = await startLocalSwift({ dir: swiftDir, log: (part, line) => appendFileSync(swiftLog(), `[${part}] ${line}\n`) });
  // 1 MiB segments: even a small database's backup is several, so the stream is cut for real.
  Object.assign(stackEnv, { TROVE_SNAPSHOT_STORE: 'swift', ...swift.settings, SWIFT_SEGMENT_MB: '1' });
}, 120_000);

const env = useTestStack({ extraEnv: stackEnv });

afterAll(async () => {
  await swift?.stop();
  if (!process.env.KEEP_TEST_DATA) rmSync(swiftDir, { recursive: true, force: true });
});

const client = () => new SwiftClient({ authUrl: swift.settings.SWIFT_AUTH_URL, user: swift.settings.SWIFT_USER, key: swift.settings.SWIFT_KEY });
const metaOf = (snapshotId: string, sizeBytes: number): SnapshotMeta => ({
  snapshotId,
  master: { host: '127.0.1.1', port: 3306 },
  dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes, location: 'swift://x', checksum: 'xbstream:chunk-crc32' },
  binlog: { file: 'mysql-bin.000001', position: 4, gtid: '0-1-1' },
  created: '2026-12-03T00:00:00.000Z',
});

async function write(stream: NodeJS.WritableStream, data: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

async function leftIn(container: string, waitMs = 0): Promise<string[]> {
  return swiftObjectsLeft({ TROVE_SNAPSHOT_STORE: 'swift', ...swift.settings, SWIFT_CONTAINER: container }, { waitMs });
}

test('a follower reads the segments while the backup still writes; a two-level manifest reads back whole; delete leaves nothing', async () => {
  // 64 KiB segments and 3 per manifest: 8 segments need sub-manifests, as 1000+ would.
  const store = new SwiftSnapshotStore(client(), { container: 'store-test', segmentBytes: 64 << 10, maxPerManifest: 3, pollMs: 20 });
  const id = randomUUID();
  const data = randomBytes((7 << 16) + 1234);
  const followed = store.follow(id, { waitMs: 30_000 });
  let committed = false;
  let readBeforeCommit = 0;
  const reading = (async () => {
    const parts: Buffer[] = [];
    for await (const chunk of followed.chunks) {
      parts.push(Buffer.from(chunk));
      if (!committed) readBeforeCommit += chunk.length;
    }
    return Buffer.concat(parts);
  })();
  await sleep(100);
  const writer = await store.create(id);
  expect(writer.location).toBe(`swift://store-test/${id}/backup.xbstream`);
  const out = writer.openStream();
  for (let at = 0; at < data.length; at += 16 << 10) {
    await write(out, data.subarray(at, at + (16 << 10)));
    await sleep(5);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  // The follower has had segments to read while the writer wrote.
  await eventually('the follower reading', async () => readBeforeCommit > 0, 10_000);
  await writer.commit(metaOf(id, data.length));
  committed = true;
  expect((await reading).equals(data)).toBe(true);
  expect((await followed.meta()).dataset.sizeBytes).toBe(data.length);

  expect(await store.list()).toContain(id);
  const { stream, meta } = await store.open(id);
  const whole: Buffer[] = [];
  for await (const chunk of stream) whole.push(chunk as Buffer);
  expect(Buffer.concat(whole).equals(data)).toBe(true);
  expect(meta.snapshotId).toBe(id);
  expect((await leftIn('store-test')).filter((n) => n.includes('/manifest-'))).toHaveLength(3);

  expect(await store.delete(id)).toBe(true);
  expect(await store.meta(id)).toBeUndefined();
  expect(await leftIn('store-test')).toEqual([]);
  expect(await store.delete(id)).toBe(false);
});

test('an aborted snapshot fails its follower and leaves nothing; a retried one is a new stream', async () => {
  const store = new SwiftSnapshotStore(client(), { container: 'store-test', segmentBytes: 64 << 10, pollMs: 20 });
  const id = randomUUID();
  const writer = await store.create(id);
  const followed = store.follow(id, { waitMs: 10_000 });
  const out = writer.openStream();
  await write(out, randomBytes(200 << 10));
  const reading = (async () => {
    for await (const chunk of followed.chunks) void chunk;
  })();
  await sleep(200);
  await writer.abort();
  await expect(reading).rejects.toThrow(/aborted while being read|rewritten/);
  expect(await leftIn('store-test')).toEqual([]);

  // A second attempt under the same id starts clean.
  const again = await store.create(id);
  const s = again.openStream();
  await new Promise<void>((resolve, reject) => s.end(Buffer.from('xyz'), (err?: Error | null) => (err ? reject(err) : resolve())));
  await again.commit(metaOf(id, 3));
  const { stream } = await store.open(id);
  const back: Buffer[] = [];
  for await (const chunk of stream) back.push(chunk as Buffer);
  expect(Buffer.concat(back).toString()).toBe('xyz');
  await store.delete(id);
  expect(await leftIn('store-test')).toEqual([]);
});

const APP = { user: 'app', password: 'app-pass-7' };
let source: { id: string; ip: string };

async function replicate(count: number): Promise<{ replicas: { id: string }[]; operation: { id: string } }> {
  const res = await env.api('POST', `/v1.0/proj-a/instances/${source.id}/action`, { replicate: { count, instance: { flavorRef: '1' }, topology: { read_only: true } } });
  expect(res.status).toBe(202);
  return res.body;
}

test('replicas built from a snapshot that streamed through Swift: same data, in 1 MiB segments, nothing left in Swift', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'swift-source', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  expect(created.status).toBe(202);
  const active = await waitIdle(env, created.body.instance.id);
  source = { id: active.id, ip: active.ip[0] };
  const c = await createConnection({ host: source.ip, port: 3306, ...APP });
  await c.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT)');
  for (let b = 0; b < 5; b++) await c.query('INSERT INTO shop.orders VALUES ?', [Array.from({ length: 1000 }, (_, i) => [b * 1000 + i, `item-${b * 1000 + i}`, i % 17])]);
  await c.end();

  const res = await replicate(2);
  // The operation's last step deletes the snapshot: its end means it has.
  await env.temporal.workflow.getHandle(res.operation.id).result();
  for (const r of res.replicas) await waitIdle(env, r.id);

  // The snapshot went to Swift, in segments, and no snapshot ever touched the folder store.
  const snapshot = await activityResult<SnapshotMeta>(env.temporal, res.operation.id, 'createSnapshot');
  expect(snapshot?.dataset.location).toBe(`swift://trove-snapshots/${snapshot!.snapshotId}/backup.xbstream`);
  const segments = Math.ceil(snapshot!.dataset.sizeBytes / (1 << 20));
  expect(segments).toBeGreaterThan(1);
  const log = readFileSync(swiftLog(), 'utf8').split('\n').filter((l) => l.startsWith('[swift-proxy]'));
  const segmentPuts = log.filter((l) => l.includes(`PUT /v1/AUTH_trove/trove-snapshots_segments/${snapshot!.snapshotId}/`) && / 201 /.test(l));
  expect(segmentPuts).toHaveLength(segments);
  expect(existsSync(path.join(env.dataDir, 'snapshots', snapshot!.snapshotId))).toBe(false);
  // Each replica restored the snapshot as its server booted, from Swift.
  for (const r of res.replicas) {
    expect(await activityResult(env.temporal, workflowIds.buildReplica(r.id), 'restoreSnapshot')).toMatchObject({ skipped: false });
  }
  // Same data on every member (CHECKSUM TABLE), and nothing left in Swift or on disk.
  expect(await checkInvariants(env)).toEqual([]);
  expect(await swiftObjectsLeft(env.stack.env)).toEqual([]);
  // The key stays in configuration: not in the stack's logs, Swift's, or the operation's history.
  expect(readFileSync(env.logFile, 'utf8')).not.toContain(swift.settings.SWIFT_KEY);
  expect(readFileSync(swiftLog(), 'utf8')).not.toContain(swift.settings.SWIFT_KEY);
  expect(await historyText(env.temporal, res.operation.id)).not.toContain(swift.settings.SWIFT_KEY);
}, 300_000);

test('a Swift that is down: the replicas operation fails with a fault naming Swift; once it is back the snapshot is deleted and nothing is left', async () => {
  const proxy = swift.parts.get('swift-proxy')!;
  await proxy.stop();
  try {
    const res = await replicate(1);
    const faulted = await eventually(
      'the fault on the source',
      async () => {
        const i = await showInstance(env, source.id);
        return /Swift at http:\/\/127\.0\.0\.1:\d+ cannot be reached/.test(i?.fault?.message ?? '') ? i : undefined;
      },
      150_000,
    );
    expect(faulted.fault.message).toMatch(/^createReplicas failed: .*Swift at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
    expect(faulted.fault.message).not.toContain(swift.settings.SWIFT_KEY);
    // The replica that was to be built is undone.
    await eventually('the replica undone', async () => (await showInstance(env, res.replicas[0]!.id)) === undefined, 120_000);
  } finally {
    await proxy.start();
  }
  // The operation's last step, deleting the snapshot, retries until Swift answers again.
  await waitIdle(env, source.id, 120_000);
  await eventually('nothing left in Swift', async () => (await swiftObjectsLeft(env.stack.env)).length === 0, 60_000);
  expect(await checkInvariants(env)).toEqual([]);
  expect(await novaServerOf(env, source.id)).toBeTruthy();
}, 300_000);
