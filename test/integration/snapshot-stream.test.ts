// A snapshot restored while it is still being written, through the real mbstream: the
// follower's chunks are borrowed views of one buffer, so this proves each reaches mbstream
// (and the checksum) before the next read overwrites it; and the extraction a replica's
// guest starts at boot, handed over to its restore activity.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { extractStream } from '../../activities/guest/mariabackup';
import { serverLayout } from '../../activities/guest/layout';
import { BootExtraction, restoreTarget } from '../../activities/guest/snapshot-extract';
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
  const result = await extractStream('mbstream', tailFile(file, { done: async () => written, pollMs: 5 }), target, () => undefined);
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

describe('BootExtraction: a snapshot named by the server metadata, extracted as the guest boots', () => {
  const meta = (snapshotId: string, stream: Buffer): SnapshotMeta => ({
    snapshotId,
    master: { host: '127.0.1.1', port: 3306 },
    dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: stream.length, location: 'file://x', checksum: `crc32:${(crc32(stream) >>> 0).toString(16).padStart(8, '0')}` },
    binlog: { file: 'mysql-bin.000001', position: 4, gtid: '0-1-1' },
    created: '2026-11-22T00:00:00.000Z',
  });

  test('follows the snapshot from before it exists, and is handed over once', async () => {
    const { data, stream } = xbstream();
    const store = new FolderSnapshotStore(path.join(dir, 'store'));
    const layout = serverLayout(path.join(dir, 'server'));
    const id = randomUUID();
    const boot = new BootExtraction(id);
    expect(boot.start(layout, 'mbstream', store)).toBe(true);
    await sleep(100);
    const writer = await store.create(id);
    appendFileSync(writer.localPath!, stream);
    await writer.commit(meta(id, stream));
    expect(boot.take(randomUUID())).toBeUndefined();
    const extracted = await boot.take(id)!;
    expect(extracted.checksum).toBe(meta(id, stream).dataset.checksum);
    expect(readFileSync(path.join(restoreTarget(layout), 'data.ibd')).equals(data)).toBe(true);
    // A retry of the activity extracts afresh rather than reusing a finished (or failed) one.
    expect(boot.take(id)).toBeUndefined();
  });

  test('never starts on a server that already holds data', () => {
    const layout = serverLayout(path.join(dir, 'server'));
    mkdirSync(layout.datadir, { recursive: true });
    expect(new BootExtraction(randomUUID()).start(layout, 'mbstream', new FolderSnapshotStore(path.join(dir, 'store')))).toBe(false);
  });
});
