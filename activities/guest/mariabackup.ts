// Running mariadb-backup: a streamed backup into any writable, and the restore of such a
// stream into a datadir. Pure parsing of its output lives here too, tested on its own.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { PassThrough, Readable, Transform, type Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { tailFile } from '../snapshots/tail';
import { pipeline } from 'node:stream/promises';

export interface BinlogPosition {
  file: string;
  position: number;
  gtid: string;
}

/** "MySQL binlog position: filename 'mysql-bin.000001', position '2401', GTID of the last change '0-101-12'" */
export function parseBinlogPosition(log: string): BinlogPosition | undefined {
  const m = /binlog position: filename '([^']+)', position '(\d+)'(?:, GTID of the last change '([^']*)')?/.exec(log);
  return m ? { file: m[1]!, position: Number(m[2]), gtid: m[3] ?? '' } : undefined;
}

export type ChecksumAlgorithm = 'crc32' | 'sha256';

/**
 * Snapshots are checked for corruption, not tampering (the store is ours), and the hash
 * runs over every byte on the source and on each replica: sha256 ran at ~300 MB/s on the
 * benchmark machine and was the slowest part of building a replica; zlib's crc32 runs at
 * ~3.4 GB/s. sha256 stays readable for snapshots written before the switch.
 */
export const SNAPSHOT_CHECKSUM: ChecksumAlgorithm = 'crc32';

/** "crc32:0a1b2c3d" -> its algorithm; anything else is refused by name. */
export function checksumAlgorithm(checksum: string): ChecksumAlgorithm {
  const algo = checksum.split(':')[0];
  if (algo === 'crc32' || algo === 'sha256') return algo;
  throw new Error(`unknown snapshot checksum algorithm in ${JSON.stringify(checksum)}`);
}

/** Counts and checksums what flows through, reporting progress as it goes. */
export function meter(onProgress: (bytes: number) => void, algorithm: ChecksumAlgorithm = SNAPSHOT_CHECKSUM): Transform & { bytes: number; digest(): string } {
  const hash = algorithm === 'sha256' ? createHash('sha256') : undefined;
  let crc = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (hash) hash.update(chunk);
      else crc = crc32(chunk, crc);
      t.bytes += chunk.length;
      onProgress(t.bytes);
      cb(null, chunk);
    },
  }) as Transform & { bytes: number; digest(): string };
  t.bytes = 0;
  t.digest = () => `${algorithm}:${hash ? hash.digest('hex') : (crc >>> 0).toString(16).padStart(8, '0')}`;
  return t;
}

export interface BackupResult {
  bytes: number;
  checksum: string;
  binlog: BinlogPosition;
}

/**
 * Streams a backup into `out`: a Writable, or a local file the backup writes itself. The
 * file path skips copying every byte through this process (the snapshot's slowest part
 * after the checksum); the checksum is then one read of the file from the page cache.
 */
export async function streamBackup(
  opts: { backupBin: string; socket: string; user: string; password: string; scratchDir: string },
  out: Writable | { file: string },
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<BackupResult> {
  const file = 'file' in out ? await fs.open(out.file, 'w') : undefined;
  // MYSQL_PWD keeps the admin password off the command line, where ps would show it.
  const child = spawn(
    opts.backupBin,
    ['--backup', '--stream=xbstream', `--target-dir=${opts.scratchDir}`, `--socket=${opts.socket}`, `--user=${opts.user}`],
    { env: { ...process.env, MYSQL_PWD: opts.password }, stdio: ['ignore', file ? file.fd : 'pipe', 'pipe'], signal },
  );
  let log = '';
  child.stderr!.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-64 * 1024);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const m = meter(onProgress);
  let code: number | null;
  if (file && 'file' in out) {
    // Checksummed while it is written (a tail of the file), so the snapshot is ready as
    // soon as the backup ends.
    let ended = false;
    const summed = pipeline(Readable.from(tailFile(out.file, { done: async () => ended })), m, new PassThrough().resume());
    summed.catch(() => undefined); // awaited below; a throw before that must not go unhandled
    try {
      code = await exited;
    } finally {
      ended = true;
      await file.close();
    }
    await summed;
  } else {
    await pipeline(child.stdout!, m, out as Writable);
    code = await exited;
  }
  if (code !== 0) throw new Error(`mariadb-backup exited with ${code}: ${log.split('\n').slice(-5).join(' | ')}`);
  const binlog = parseBinlogPosition(log);
  if (!binlog) throw new Error('mariadb-backup did not report a binlog position; is log_bin on?');
  return { bytes: m.bytes, checksum: m.digest(), binlog };
}

export async function extractStream(
  mbstreamBin: string,
  input: Readable,
  targetDir: string,
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
  algorithm: ChecksumAlgorithm = SNAPSHOT_CHECKSUM,
): Promise<{ bytes: number; checksum: string }> {
  const child = spawn(mbstreamBin, ['-x', '-C', targetDir], { stdio: ['pipe', 'ignore', 'pipe'], signal });
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8192)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const m = meter(onProgress, algorithm);
  await pipeline(input, m, child.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`mbstream exited with ${code}: ${log}`);
  return { bytes: m.bytes, checksum: m.digest() };
}

export async function prepareBackup(backupBin: string, targetDir: string): Promise<void> {
  const child = spawn(backupBin, ['--prepare', `--target-dir=${targetDir}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8192)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`mariadb-backup --prepare exited with ${code}: ${log.split('\n').slice(-5).join(' | ')}`);
}
