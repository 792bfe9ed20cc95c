// runningPid on real processes: a mariadbd that has exited but was not yet collected by its
// parent (a zombie) is not running, though kill(pid, 0) still succeeds for it.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serverLayout } from '../../activities/guest/layout';
import { runningPid } from '../../activities/guest/mariadb-process';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'trove-pid-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a live process in the pid file is running; a zombie is not', async () => {
  const layout = serverLayout(dir);
  mkdirSync(layout.runDir, { recursive: true });
  // The shell becomes `sleep 30`, which never collects the short sleep it started: a zombie.
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const child = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()))));
    writeFileSync(layout.pidFile, `${child}\n`);
    expect(await runningPid(layout)).toBe(child);
    await sleep(400);
    expect(await runningPid(layout)).toBeUndefined();
    writeFileSync(layout.pidFile, `${parent.pid}\n`);
    expect(await runningPid(layout)).toBe(parent.pid);
  } finally {
    parent.kill('SIGKILL');
  }
});
