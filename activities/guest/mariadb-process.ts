// Starts and stops this server's mariadbd. The daemon is spawned in the agent's process
// group but outlives the agent: when the agent is restarted it adopts the running daemon
// through its pid file instead of starting a second one.
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';
import { ADMIN_USER } from './mariadb-config';
import type { ServerLayout } from './layout';

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface MariadbBinaries {
  mariadbd: string;
  installDb: string;
}

export async function readPid(layout: ServerLayout): Promise<number | undefined> {
  try {
    const pid = Number((await fs.readFile(layout.pidFile, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited and only waits for its parent to collect it: kill(pid, 0) still
  // succeeds, but nothing listens on its socket any more.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

export async function runningPid(layout: ServerLayout): Promise<number | undefined> {
  const pid = await readPid(layout);
  return pid !== undefined && alive(pid) ? pid : undefined;
}

export function isInitialized(datadir: string): boolean {
  return existsSync(`${datadir}/mysql/global_priv.frm`);
}

/** Initializes into a scratch folder and renames it, so a crash never leaves half a datadir. */
export async function initializeDatadir(datadir: string, installDb: string): Promise<boolean> {
  if (isInitialized(datadir)) return false;
  const scratch = `${datadir}.init`;
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.mkdir(scratch, { recursive: true });
  await execFileP(installDb, [
    '--no-defaults',
    `--datadir=${scratch}`,
    '--user=root',
    '--skip-test-db',
    '--auth-root-authentication-method=socket',
  ]);
  await fs.rm(datadir, { recursive: true, force: true });
  await fs.rename(scratch, datadir);
  return true;
}

export async function startMariadb(layout: ServerLayout, bin: MariadbBinaries, timeoutMs = 120_000): Promise<number> {
  const existing = await runningPid(layout);
  if (existing) return existing;
  await fs.mkdir(layout.runDir, { recursive: true });
  await fs.rm(layout.socket, { force: true });
  const child = spawn(bin.mariadbd, [`--defaults-file=${layout.configFile}`, '--user=root'], { stdio: 'ignore' });
  child.unref();
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`mariadbd exited with code ${exited} at start; see ${layout.errorLog}`);
    if (existsSync(layout.socket) && (await runningPid(layout))) return (await runningPid(layout))!;
    // Polled finely: a replica's restore waits on this (a 1 GiB datadir opens in ~0.1 s).
    await sleep(20);
  }
  throw new Error(`mariadbd did not open its socket within ${timeoutMs} ms; see ${layout.errorLog}`);
}

export async function stopMariadb(layout: ServerLayout, timeoutMs = 60_000): Promise<boolean> {
  const pid = await runningPid(layout);
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  return true;
}

export async function connectAdmin(layout: ServerLayout, password: string): Promise<Connection> {
  return createConnection({ socketPath: layout.socket, user: ADMIN_USER, password, multipleStatements: false });
}
