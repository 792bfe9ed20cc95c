// The openssl command line, for what node:crypto cannot do (make and sign X.509
// certificates). Private keys only ever pass through files in a private folder that is
// removed afterwards, never through arguments (visible in the process list) or logs.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export async function openssl(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP('openssl', args, { cwd: opts.cwd, maxBuffer: 1 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    // openssl's stderr names files and what went wrong, never a key's content.
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(0, 3).join('; ')}`, { cause: err });
  }
}

/** Runs fn in a private folder (mode 700) that is removed whatever happens. */
export async function inPrivateDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trove-tls-'));
  await fs.chmod(dir, 0o700);
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A file in a private folder, readable by this user only. */
export async function writePrivate(file: string, content: string): Promise<void> {
  await fs.writeFile(file, content, { mode: 0o600 });
}
