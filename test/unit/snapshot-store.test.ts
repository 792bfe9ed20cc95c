// The folder snapshot store on a real filesystem: a reader following a snapshot while it
// is written gets every byte once the writer commits, an aborted snapshot fails it, and a
// deleted one is gone at once and freed in the background.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { FolderSnapshotStore, type SnapshotMeta } from '../../activities/snapshots/store';

let root: string;
beforeEach(() => (root = mkdtempSync(path.join(os.tmpdir(), 'trove-store-'))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metaOf = (snapshotId: string): SnapshotMeta => ({
  snapshotId,
  master: { host: '127.0.1.1', port: 3306 },
  dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: 0, location: 'file://x', checksum: 'crc32:00000000' },
  binlog: { file: 'mysql-bin.000001', position: 4, gtid: '0-1-1' },
  created: '2026-11-22T00:00:00.000Z',
});

/** Copies every chunk: a follower's chunks are borrowed, valid until the next is read. */
async function readAll(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function write(stream: NodeJS.WritableStream, data: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

test('a follower started before the snapshot exists reads every byte, then the committed meta', async () => {
  const store = new FolderSnapshotStore(root);
  const id = randomUUID();
  const followed = store.follow(id, { pollMs: 10 });
  const reading = readAll(followed.chunks);
  await sleep(50);
  const writer = await store.create(id);
  const out = writer.openStream();
  const parts = Array.from({ length: 5 }, (_, i) => Buffer.alloc(300_000 + i, i + 1));
  for (const p of parts) {
    await write(out, p);
    await sleep(20);
  }
  await new Promise<void>((r) => out.end(r));
  await writer.commit(metaOf(id));
  expect((await reading).equals(Buffer.concat(parts))).toBe(true);
  expect((await followed.meta()).binlog.gtid).toBe('0-1-1');
});

test('an aborted snapshot fails its follower and names the snapshot', async () => {
  const store = new FolderSnapshotStore(root);
  const id = randomUUID();
  const writer = await store.create(id);
  const out = writer.openStream();
  await write(out, Buffer.alloc(1000, 7));
  const followed = store.follow(id, { pollMs: 10 });
  const reading = readAll(followed.chunks);
  await sleep(50);
  out.end();
  await writer.abort();
  await expect(reading).rejects.toThrow(`snapshot ${id} was aborted while being read`);
  await expect(followed.meta()).rejects.toThrow(/has not been read to its end/);
});

test('a snapshot that never appears fails its follower after the wait', async () => {
  const id = randomUUID();
  const followed = new FolderSnapshotStore(root).follow(id, { pollMs: 10, waitMs: 100 });
  await expect(readAll(followed.chunks)).rejects.toThrow(`${id}/backup.xbstream did not appear within 100 ms`);
});

test('delete removes a snapshot and everything in it; a second delete finds nothing', async () => {
  const store = new FolderSnapshotStore(root);
  const id = randomUUID();
  const writer = await store.create(id);
  await write(writer.openStream(), Buffer.alloc(1000, 1));
  await writer.commit(metaOf(id));
  expect(await store.list()).toEqual([id]);
  expect(await store.delete(id)).toBe(true);
  expect(await store.list()).toEqual([]);
  expect(existsSync(path.join(root, id))).toBe(false);
  expect(await store.meta(id)).toBeUndefined();
  expect(await store.delete(id)).toBe(false);
  // Its space is freed in the background, without being asked.
  for (let i = 0; i < 100 && readdirSync(path.join(root, '.trash')).length > 0; i++) await sleep(20);
  expect(readdirSync(path.join(root, '.trash'))).toEqual([]);
});

test('a snapshot deleted, written again and deleted again: both are freed', async () => {
  const store = new FolderSnapshotStore(root);
  const id = randomUUID();
  for (let i = 0; i < 2; i++) {
    const writer = await store.create(id);
    await write(writer.openStream(), Buffer.alloc(1000, i));
    await writer.commit(metaOf(id));
    expect(await store.delete(id)).toBe(true);
  }
  await store.reclaim();
  expect(readdirSync(path.join(root, '.trash'))).toEqual([]);
});

test('a reclaim cut short by a crash is finished by the next one', async () => {
  const leftover = path.join(root, '.trash', `${randomUUID()}.${randomUUID()}`);
  mkdirSync(leftover, { recursive: true });
  writeFileSync(path.join(leftover, 'backup.xbstream'), Buffer.alloc(1000));
  const store = new FolderSnapshotStore(root);
  expect(await store.list()).toEqual([]);
  await store.reclaim();
  expect(existsSync(leftover)).toBe(false);
});
