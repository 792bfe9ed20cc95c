// Running mariadb-backup: a streamed backup into any writable, and the restore of such a
// stream into a datadir. Pure parsing of its output lives here too, tested on its own.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Transform, type Readable, type Writable } from 'node:stream';
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

/** Counts and hashes what flows through, reporting progress as it goes. */
export function meter(onProgress: (bytes: number) => void): Transform & { bytes: number; digest(): string } {
  const hash = createHash('sha256');
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      t.bytes += chunk.length;
      onProgress(t.bytes);
      cb(null, chunk);
    },
  }) as Transform & { bytes: number; digest(): string };
  t.bytes = 0;
  t.digest = () => hash.digest('hex');
  return t;
}

export interface BackupResult {
  bytes: number;
  checksum: string;
  binlog: BinlogPosition;
}

export async function streamBackup(
  opts: { backupBin: string; socket: string; user: string; password: string; scratchDir: string },
  out: Writable,
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<BackupResult> {
  // MYSQL_PWD keeps the admin password off the command line, where ps would show it.
  const child = spawn(
    opts.backupBin,
    ['--backup', '--stream=xbstream', `--target-dir=${opts.scratchDir}`, `--socket=${opts.socket}`, `--user=${opts.user}`],
    { env: { ...process.env, MYSQL_PWD: opts.password }, stdio: ['ignore', 'pipe', 'pipe'], signal },
  );
  let log = '';
  child.stderr.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-64 * 1024);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const m = meter(onProgress);
  await pipeline(child.stdout, m, out);
  const code = await exited;
  if (code !== 0) throw new Error(`mariadb-backup exited with ${code}: ${log.split('\n').slice(-5).join(' | ')}`);
  const binlog = parseBinlogPosition(log);
  if (!binlog) throw new Error('mariadb-backup did not report a binlog position; is log_bin on?');
  return { bytes: m.bytes, checksum: m.digest(), binlog };
}

export async function extractStream(mbstreamBin: string, input: Readable, targetDir: string, onProgress: (bytes: number) => void, signal?: AbortSignal): Promise<{ bytes: number; checksum: string }> {
  const child = spawn(mbstreamBin, ['-x', '-C', targetDir], { stdio: ['pipe', 'ignore', 'pipe'], signal });
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8192)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const m = meter(onProgress);
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
