// Running mariadb-backup: a streamed backup into any writable, and the restore of such a
// stream into a datadir. Pure parsing of its output lives here too, tested on its own.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { Transform, type Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
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

export type ChecksumAlgorithm = 'xbstream' | 'crc32' | 'sha256';

/**
 * How a snapshot is checked for corruption (not tampering: the store is ours). 'xbstream':
 * by the CRC32 each xbstream chunk carries, which mbstream verifies as it extracts, and by
 * the snapshot's size; no pass over the bytes on either side. A hash over every byte, on
 * the source and on each replica, was the slowest part of building a replica: sha256 at
 * ~300 MB/s, then crc32 at ~3.4 GB/s plus a copy of every byte through the agent
 * (bench/improvements.md §6). crc32 and sha256 stay readable for snapshots written before.
 */
export const SNAPSHOT_CHECKSUM: ChecksumAlgorithm = 'xbstream';
const XBSTREAM_DIGEST = 'xbstream:chunk-crc32';

/** "crc32:0a1b2c3d" -> its algorithm; anything else is refused by name. */
export function checksumAlgorithm(checksum: string): ChecksumAlgorithm {
  const algo = checksum.split(':')[0];
  if (algo === 'xbstream' || algo === 'crc32' || algo === 'sha256') return algo;
  throw new Error(`unknown snapshot checksum algorithm in ${JSON.stringify(checksum)}`);
}

/** Counts and checksums a snapshot's bytes, chunk by chunk ('xbstream': counts only). */
export class SnapshotChecksum {
  bytes = 0;
  private readonly hash;
  private crc = 0;

  constructor(readonly algorithm: ChecksumAlgorithm = SNAPSHOT_CHECKSUM) {
    this.hash = algorithm === 'sha256' ? createHash('sha256') : undefined;
  }

  update(chunk: Buffer): void {
    if (this.hash) this.hash.update(chunk);
    else if (this.algorithm === 'crc32') this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
  }

  digest(): string {
    if (this.algorithm === 'xbstream') return XBSTREAM_DIGEST;
    return `${this.algorithm}:${this.hash ? this.hash.digest('hex') : (this.crc >>> 0).toString(16).padStart(8, '0')}`;
  }
}

/** A SnapshotChecksum as a pass-through stream, reporting progress as it goes. */
export function meter(onProgress: (bytes: number) => void, algorithm: ChecksumAlgorithm = SNAPSHOT_CHECKSUM): Transform & { sum: SnapshotChecksum } {
  const sum = new SnapshotChecksum(algorithm);
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sum.update(chunk);
      onProgress(sum.bytes);
      cb(null, chunk);
    },
  });
  return Object.assign(t, { sum });
}

export interface BackupResult {
  bytes: number;
  checksum: string;
  binlog: BinlogPosition;
}

/**
 * Streams a backup into `out`: a Writable, or a local file the backup writes itself (no
 * byte through this process; its size is then the snapshot's, read once the backup ends).
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
  exited.catch(() => undefined); // awaited below; a cancel while piping must not crash the agent meanwhile
  let code: number | null;
  let bytes: number;
  if (file) {
    const progress = setInterval(() => void file.stat().then((s) => onProgress(s.size), () => undefined), 1000);
    try {
      code = await exited;
      bytes = (await file.stat()).size;
    } finally {
      clearInterval(progress);
      await file.close();
    }
  } else {
    const m = meter(onProgress);
    await pipeline(child.stdout!, m, out as Writable);
    code = await exited;
    bytes = m.sum.bytes;
  }
  if (code !== 0) throw new Error(`mariadb-backup exited with ${code}: ${log.split('\n').slice(-5).join(' | ')}`);
  const binlog = parseBinlogPosition(log);
  if (!binlog) throw new Error('mariadb-backup did not report a binlog position; is log_bin on?');
  return { bytes, checksum: XBSTREAM_DIGEST, binlog };
}

/**
 * Extracts an xbstream into targetDir. Chunks may be borrowed (see tailFile): each is
 * written to mbstream, and checksummed, before the next is asked for.
 */
export async function extractStream(
  mbstreamBin: string,
  input: AsyncIterable<Buffer>,
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
  exited.catch(() => undefined); // awaited below
  const sum = new SnapshotChecksum(algorithm);
  let writeFailed = false;
  child.stdin.on('error', () => undefined); // each write's callback gets the error too
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) => child.stdin.write(chunk, (err) => (err ? ((writeFailed = true), reject(err)) : resolve())));
  try {
    for await (const chunk of input) {
      sum.update(chunk);
      await write(chunk);
      onProgress(sum.bytes);
    }
  } catch (err) {
    child.kill('SIGKILL');
    const code = await exited.catch(() => null);
    // A broken pipe means mbstream stopped (a corrupt chunk, say): its own words say why.
    if (writeFailed) throw new Error(`mbstream exited with ${code}: ${log}`, { cause: err });
    throw err;
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`mbstream exited with ${code}: ${log}`);
  return { bytes: sum.bytes, checksum: sum.digest() };
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
