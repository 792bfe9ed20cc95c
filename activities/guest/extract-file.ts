// A snapshot on local disk extracted without a byte of it passing through the guest agent:
// a small Python helper splices the file (while its writer may still be appending) into a
// pipe that mbstream reads. Reading 1.1 GiB into Node and writing it to mbstream's stdin
// cost ~1 core-second, `tail -f` ~0.9 (4 KiB writes); splice(2) ~0.15, which counts on a
// 2-core machine that runs the source's backup at the same time (bench/improvements.md §6).
//
// Integrity: mbstream checks the CRC32 every xbstream chunk carries and fails on a bad one;
// what it cannot see, a stream cut at a chunk boundary, is caught by comparing the bytes
// read with the size the writer committed. The file is handed to the helper as its stdin,
// so the agent shares its read offset (bytes read, from /proc) and can tell whether the
// file it read is still the snapshot's (a rewritten snapshot is a new file).
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { LocalSnapshotFile, SnapshotMeta } from '../snapshots/store';
import { openWhenPresent } from '../snapshots/tail';

/**
 * fd 0: the snapshot file; fd 3: a control channel from the agent, which writes one byte
 * once the file is complete (then: read to its end and finish) or closes it to abandon.
 * mbstream's exit status is the helper's; 70 means abandoned.
 */
const FOLLOWER = String.raw`
import fcntl, os, subprocess, sys, time
mbstream, target = sys.argv[1], sys.argv[2]
r, w = os.pipe()
try:
    fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ: fewer, larger wake-ups of mbstream
except OSError:
    pass
child = subprocess.Popen([mbstream, '-x', '-C', target], stdin=r)
os.close(r)
os.set_blocking(3, False)
complete = False
try:
    while True:
        was_complete = complete
        if os.splice(0, w, 1 << 20) > 0:
            continue
        if was_complete:
            break
        try:
            word = os.read(3, 1)
        except BlockingIOError:
            time.sleep(0.02)
            continue
        if not word:
            child.kill()
            child.wait()
            sys.exit(70)
        complete = True
except BrokenPipeError:
    pass  # mbstream stopped early; its status says why
os.close(w)
sys.exit(child.wait())
`;

export interface FileExtractOptions {
  onProgress: (bytes: number) => void;
  onWait?: () => void;
  waitMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export interface FileExtracted {
  bytes: number;
  meta: SnapshotMeta;
}

/**
 * Extracts the snapshot in `file` into targetDir, following it until its writer commits.
 * Resolves with the bytes read, which equal the committed size; throws otherwise.
 */
export async function extractFile(bins: { python: string; mbstream: string }, file: LocalSnapshotFile, targetDir: string, o: FileExtractOptions): Promise<FileExtracted> {
  const { pollMs = 25 } = o;
  const fh = await openWhenPresent(file.path, o);
  try {
    const child = spawn(bins.python, ['-c', FOLLOWER, bins.mbstream, targetDir], { stdio: [fh.fd, 'ignore', 'pipe', 'pipe'], signal: o.signal });
    let log = '';
    child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8192)));
    const exited = new Promise<number | string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown'));
    });
    const running = () => child.exitCode === null && child.signalCode === null;
    exited.catch(() => undefined); // awaited below
    const control = child.stdio[3] as NodeJS.WritableStream;
    control.on('error', () => undefined); // the helper is gone; its exit status says why
    const readSoFar = () => readOffset(fh.fd);
    let meta: SnapshotMeta | undefined;
    try {
      // Until the writer commits, or the helper ends early (mbstream refused the stream).
      while (running() && !(meta = await file.committed())) {
        await file.check();
        o.onProgress(await readSoFar());
        await Promise.race([exited, sleep(pollMs)]);
      }
      if (meta) control.end('.');
      const code = await exited;
      // A retried backup writes a new file: what was read is then not that snapshot.
      const [read, now] = await Promise.all([fh.stat(), fs.stat(file.path).catch(() => undefined)]);
      if (meta && now?.ino !== read.ino) throw new Error(`snapshot ${meta.snapshotId} was rewritten while being read`);
      if (code !== 0) throw new Error(`mbstream exited with ${code}: ${log.trim()}`);
      if (!meta) throw new Error(`the snapshot's follower ended before the snapshot was complete: ${log.trim()}`);
      const bytes = await readSoFar();
      o.onProgress(bytes);
      if (bytes !== meta.dataset.sizeBytes || bytes !== read.size) {
        throw new Error(`snapshot ${meta.snapshotId} is incomplete: read ${bytes} of ${meta.dataset.sizeBytes} bytes (the file holds ${read.size})`);
      }
      return { bytes, meta };
    } catch (err) {
      control.end();
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
      throw err;
    }
  } finally {
    await fh.close();
  }
}

/** The file offset of fd, shared with the helper that reads through it. */
async function readOffset(fd: number): Promise<number> {
  const info = await fs.readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
  return Number(/^pos:\s*(\d+)/m.exec(info)?.[1] ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
