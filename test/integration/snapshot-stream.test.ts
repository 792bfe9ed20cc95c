// A snapshot restored while it is still being written, through the real mbstream: from a
// local file by the native follower (extract-file.ts), which must read every byte, refuse a
// snapshot that is cut short, corrupt, aborted or rewritten, and leave no process behind;
// from a stream by Node, whose chunks are borrowed views of one buffer, so this proves each
// reaches mbstream (and the checksum) before the next read overwrites it; and the
// extraction a replica's guest starts at boot, handed over to its restore activity.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { dropBehind } from '../../activities/guest/drop-behind';
import { extractFile } from '../../activities/guest/extract-file';
import { extractStream } from '../../activities/guest/mariabackup';
import { serverLayout } from '../../activities/guest/layout';
import { BootExtraction, extractSnapshot, restoreTarget } from '../../activities/guest/snapshot-extract';
import { FolderSnapshotStore, type SnapshotMeta } from '../../activities/snapshots/store';
import { tailFile } from '../../activities/snapshots/tail';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'trove-xbstream-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An xbstream of one 12 MiB file of random bytes (several of tailFile's 4 MiB reads). */
function xbstream(): { data: Buffer; stream: Buffer } {
  const data = randomBytes(12 << 20);
  writeFileSync(path.join(dir, 'data.ibd'), data);
  const stream = execFileSync('mbstream', ['-c', 'data.ibd'], { cwd: dir, maxBuffer: 64 << 20 });
  return { data, stream };
}

test('a stream followed while it is written extracts byte for byte, with the checksum of the whole stream', async () => {
  const { data, stream } = xbstream();
  const file = path.join(dir, 'snapshot.xbstream');
  writeFileSync(file, '');
  let written = false;
  const writing = (async () => {
    for (let at = 0; at < stream.length; at += 1 << 20) {
      appendFileSync(file, stream.subarray(at, at + (1 << 20)));
      await sleep(5);
    }
    written = true;
  })();
  const target = path.join(dir, 'restored');
  mkdirSync(target);
  const result = await extractStream('mbstream', tailFile(file, { done: async () => written, pollMs: 5 }), target, () => undefined, undefined, 'crc32');
  await writing;
  expect(result.bytes).toBe(stream.length);
  expect(result.checksum).toBe(`crc32:${(crc32(stream) >>> 0).toString(16).padStart(8, '0')}`);
  expect(readFileSync(path.join(target, 'data.ibd')).equals(data)).toBe(true);
});

test("a corrupt stream fails with mbstream's own reason", async () => {
  const { stream } = xbstream();
  const corrupt = Buffer.from(stream);
  corrupt[6 << 20] ^= 0xff;
  const file = path.join(dir, 'snapshot.xbstream');
  writeFileSync(file, corrupt);
  const target = path.join(dir, 'restored');
  mkdirSync(target);
  await expect(extractStream('mbstream', tailFile(file, { done: async () => true }), target, () => undefined)).rejects.toThrow(/mbstream exited with 1: .*invalid checksum/);
});

const BINS = { mbstream: 'mbstream', python: 'python3' };

const meta = (snapshotId: string, stream: Buffer, checksum = 'xbstream:chunk-crc32'): SnapshotMeta => ({
  snapshotId,
  master: { host: '127.0.1.1', port: 3306 },
  dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: stream.length, location: 'file://x', checksum },
  binlog: { file: 'mysql-bin.000001', position: 4, gtid: '0-1-1' },
  created: '2026-11-22T00:00:00.000Z',
});

/** Processes whose command line mentions text (the follower and its mbstream name the target). */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

describe('extractFile: a local snapshot followed by the native helper (no byte through Node)', () => {
  /** An empty store and restore target. */
  const setup = () => {
    const target = path.join(dir, 'restored');
    mkdirSync(target);
    return { store: new FolderSnapshotStore(path.join(dir, 'store')), id: randomUUID(), target };
  };
  const quiet = { onProgress: () => undefined };

  /** A snapshot already committed: `contents` on disk, the size and meta of `stream`. */
  async function committed(contents: Buffer, stream = contents) {
    const s = setup();
    const writer = await s.store.create(s.id);
    writeFileSync(writer.localPath!, contents);
    await writer.commit(meta(s.id, stream));
    return { ...s, extract: () => extractFile(BINS, s.store.localFile(s.id), s.target, quiet) };
  }

  /** A snapshot 5 MiB into being written, followed for 300 ms already. */
  async function halfWritten(signal?: AbortSignal) {
    const { stream } = xbstream();
    const s = setup();
    const writer = await s.store.create(s.id);
    appendFileSync(writer.localPath!, stream.subarray(0, 5 << 20));
    const extracting = extractFile(BINS, s.store.localFile(s.id), s.target, { ...quiet, signal, pollMs: 5 });
    extracting.catch(() => undefined); // asserted by the test
    await sleep(300);
    return { ...s, stream, writer, extracting };
  }

  test('follows the file from before it exists until the writer commits, byte for byte', async () => {
    const { data, stream } = xbstream();
    const { store, id, target } = setup();
    const progress: number[] = [];
    const extracting = extractFile(BINS, store.localFile(id), target, { onProgress: (b) => progress.push(b), pollMs: 5 });
    await sleep(50);
    const writer = await store.create(id);
    for (let at = 0; at < stream.length; at += 1 << 20) {
      appendFileSync(writer.localPath!, stream.subarray(at, at + (1 << 20)));
      await sleep(5);
    }
    await writer.commit(meta(id, stream));
    const result = await extracting;
    expect(result.bytes).toBe(stream.length);
    expect(result.meta.snapshotId).toBe(id);
    expect(readFileSync(path.join(target, 'data.ibd')).equals(data)).toBe(true);
    expect(progress.at(-1)).toBe(stream.length);
    expect(processesMentioning(target)).toEqual([]);
  });

  test('extracts a snapshot committed before it starts', async () => {
    const { data, stream } = xbstream();
    const { target, extract } = await committed(stream);
    expect((await extract()).bytes).toBe(stream.length);
    expect(readFileSync(path.join(target, 'data.ibd')).equals(data)).toBe(true);
  });

  test("a corrupt chunk fails with mbstream's own reason", async () => {
    const { stream } = xbstream();
    const corrupt = Buffer.from(stream);
    corrupt[6 << 20] ^= 0xff;
    const { target, extract } = await committed(corrupt, stream);
    await expect(extract()).rejects.toThrow(/mbstream exited with 1: .*invalid checksum/);
    expect(processesMentioning(target)).toEqual([]);
  });

  test('a snapshot cut at a chunk boundary is refused by its size', async () => {
    const { stream } = xbstream();
    writeFileSync(path.join(dir, 'more.ibd'), randomBytes(1 << 20));
    const two = Buffer.concat([stream, execFileSync('mbstream', ['-c', 'more.ibd'], { cwd: dir, maxBuffer: 64 << 20 })]);
    // mbstream alone takes the first part for a whole stream.
    const { id, extract } = await committed(stream, two);
    await expect(extract()).rejects.toThrow(new RegExp(`snapshot ${id} is incomplete: read ${stream.length} of ${two.length} bytes`));
  });

  test('a snapshot aborted while being followed fails, and stops its helper', async () => {
    const { target, writer, extracting } = await halfWritten();
    expect(processesMentioning(target).length).toBeGreaterThan(0);
    await writer.abort();
    await expect(extracting).rejects.toThrow(/was aborted while being read/);
    expect(processesMentioning(target)).toEqual([]);
  });

  test('a snapshot rewritten while being followed (a retried backup) is refused', async () => {
    const { store, id, stream, extracting } = await halfWritten();
    const second = await store.create(id);
    writeFileSync(second.localPath!, stream);
    await second.commit(meta(id, stream));
    // Refused whichever way the follower sees it: the local store makes the snapshot's folder
    // anew, so a follower that looks in that instant finds none ("aborted"; CI, 2026-12-03).
    await expect(extracting).rejects.toThrow(new RegExp(`snapshot ${id} (was rewritten while being read|is incomplete|was aborted while being read)`));
  });

  test('cancelled through its signal, it stops its helper', async () => {
    const abort = new AbortController();
    const { target, extracting } = await halfWritten(abort.signal);
    abort.abort();
    await expect(extracting).rejects.toThrow(/abort/i);
    await sleep(100);
    expect(processesMentioning(target)).toEqual([]);
  });
});

test('a restore waiting for a snapshot file that never appears ends when cancelled, from a file or a stream', async () => {
  const store = new FolderSnapshotStore(path.join(dir, 'store'));
  const id = randomUUID();
  for (const target of ['from-file', 'from-stream']) mkdirSync(path.join(dir, target));
  for (const extract of [
    (signal: AbortSignal) => extractFile(BINS, store.localFile(id), path.join(dir, 'from-file'), { onProgress: () => undefined, signal }),
    (signal: AbortSignal) => extractStream('mbstream', store.follow(id, { signal }).chunks, path.join(dir, 'from-stream'), () => undefined, signal),
  ]) {
    const abort = new AbortController();
    const waiting = extract(abort.signal);
    await sleep(200);
    abort.abort();
    // Promptly: the wait for the file would otherwise last its 10 minutes.
    await expect(waiting).rejects.toThrow(/abort/i);
  }
}, 20_000);

/** A snapshot store and a server, both in this test's folder. */
const serverAndStore = () => ({ store: new FolderSnapshotStore(path.join(dir, 'store')), layout: serverLayout(path.join(dir, 'server')) });

describe('BootExtraction: a snapshot named by the server metadata, extracted as the guest boots', () => {
  test('follows the snapshot from before it exists, and is handed over once', async () => {
    const { data, stream } = xbstream();
    const { store, layout } = serverAndStore();
    const id = randomUUID();
    const boot = new BootExtraction(id);
    expect(boot.start(layout, BINS, store)).toBe(true);
    await sleep(100);
    const writer = await store.create(id);
    appendFileSync(writer.localPath!, stream);
    await writer.commit(meta(id, stream));
    expect(boot.take(randomUUID())).toBeUndefined();
    const extracted = await boot.take(id)!;
    expect(extracted.bytes).toBe(stream.length);
    expect(readFileSync(path.join(restoreTarget(layout), 'data.ibd')).equals(data)).toBe(true);
    // A retry of the activity extracts afresh rather than reusing a finished (or failed) one.
    expect(boot.take(id)).toBeUndefined();
  });

  test('never starts on a server that already holds data', () => {
    const { store, layout } = serverAndStore();
    mkdirSync(layout.datadir, { recursive: true });
    expect(new BootExtraction(randomUUID()).start(layout, BINS, store)).toBe(false);
  });
});

/** A server, and a snapshot of one 12 MiB file committed to its store (with checksum). */
async function storedSnapshot(checksum?: (stream: Buffer) => string) {
  const { data, stream } = xbstream();
  const { store, layout } = serverAndStore();
  const id = randomUUID();
  const writer = await store.create(id);
  writeFileSync(writer.localPath!, stream);
  await writer.commit(meta(id, stream, checksum?.(stream)));
  return { data, stream, store, layout, id, writer };
}

describe('extractSnapshot: a snapshot written before the switch to xbstream checks', () => {
  test('a crc32 snapshot is read through Node and its checksum verified', async () => {
    const crc32Of = (stream: Buffer) => `crc32:${(crc32(stream) >>> 0).toString(16).padStart(8, '0')}`;
    const { data, stream, store, layout, id, writer } = await storedSnapshot(crc32Of);
    const crc = crc32Of(stream);
    expect((await extractSnapshot(layout, BINS, store, id, { follow: false, onProgress: () => undefined })).bytes).toBe(stream.length);
    expect(readFileSync(path.join(restoreTarget(layout), 'data.ibd')).equals(data)).toBe(true);
    await writer.commit(meta(id, stream, 'crc32:00000000'));
    await expect(extractSnapshot(layout, BINS, store, id, { follow: false, onProgress: () => undefined })).rejects.toThrow(
      new RegExp(`snapshot ${id} is corrupt: checksum ${crc} does not match crc32:00000000`),
    );
  });
});

/** Bytes of file resident in the page cache (util-linux fincore, from mincore(2)). */
const residentBytes = (file: string) => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file]).toString().trim());

describe('a restore keeps what it extracts out of the page cache (drop-behind.ts)', () => {
  test('the extracted files are written back and uncached when extractSnapshot returns, and no helper is left', async () => {
    const { data, store, layout, id } = await storedSnapshot();
    await extractSnapshot(layout, BINS, store, id, { follow: false, onProgress: () => undefined });
    const restored = path.join(restoreTarget(layout), 'data.ibd');
    // Without the helper the whole 12 MiB would be resident, as mbstream wrote it.
    expect(residentBytes(restored)).toBeLessThan(1 << 20);
    expect(processesMentioning(restoreTarget(layout))).toEqual([]);
    expect(readFileSync(restored).equals(data)).toBe(true);
  });

  test('pages are dropped while the folder is still being written, not only at the end', async () => {
    const folder = path.join(dir, 'writing');
    mkdirSync(folder);
    const dropping = dropBehind('python3', folder);
    const file = path.join(folder, 'growing.ibd');
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < 32; i++) {
      appendFileSync(file, chunk);
      await sleep(20);
    }
    // A few passes (every 50 ms) after the last write, with the helper still running.
    await sleep(400);
    expect(residentBytes(file)).toBeLessThan(8 << 20);
    await dropping.stop();
    expect(residentBytes(file)).toBeLessThan(1 << 20);
  });

  test('a helper that cannot start leaves the extraction as it was', async () => {
    const folder = path.join(dir, 'plain');
    mkdirSync(folder);
    await expect(dropBehind(path.join(dir, 'no-python'), folder).stop()).resolves.toBeUndefined();
  });
});
