// Per-server "init": the first process of a server's process group, standing
// in for a VM's init system. Nova boots a server by starting this process
// (detached, so its pid is the group id) and stops it with SIGTERM. It keeps
// the guest agent running like a systemd unit with Restart=always, and on
// shutdown only exits once every process of the server (e.g. a mariadbd the
// guest left behind) is gone, so "init exited" means "the VM powered off".
//
// Environment: NOVA_INIT_GUEST_COMMAND (JSON argv of the guest) and
// TROVE_SERVER_DIR (where guest.pid is written); everything else is passed
// through to the guest unchanged.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { signalPid, sleep, waitGroupGone } from './procfs';

const GUEST_STOP_TIMEOUT_MS = 30_000;
const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 10_000;
const STABLE_UPTIME_MS = 60_000;

const argv = JSON.parse(process.env.NOVA_INIT_GUEST_COMMAND ?? '[]') as string[];
const serverDir = process.env.TROVE_SERVER_DIR ?? process.cwd();
const guestPidFile = path.join(serverDir, 'guest.pid');
const guestEnv: NodeJS.ProcessEnv = { ...process.env };
delete guestEnv.NOVA_INIT_GUEST_COMMAND;

let guest: ChildProcess | undefined;
let restartTimer: NodeJS.Timeout | undefined;
let backoffMs = BACKOFF_START_MS;
let stopping = false;

function log(message: string): void {
  process.stdout.write(`[server-init ${new Date().toISOString()}] ${message}\n`);
}

function writeGuestPid(pid: number): void {
  // Atomic so Nova never reads a half-written pid.
  const tmp = `${guestPidFile}.tmp`;
  fs.writeFileSync(tmp, `${pid}\n`);
  fs.renameSync(tmp, guestPidFile);
}

function startGuest(): void {
  restartTimer = undefined;
  const startedAt = Date.now();
  // Not detached: the guest and whatever it spawns stay in this server's group.
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: guestEnv });
  guest = child;
  let exited = false;
  const onExit = (detail: string): void => {
    if (exited) return;
    exited = true;
    if (guest === child) guest = undefined;
    if (stopping) return;
    if (Date.now() - startedAt >= STABLE_UPTIME_MS) backoffMs = BACKOFF_START_MS;
    log(`guest ${detail}; restarting in ${backoffMs} ms`);
    restartTimer = setTimeout(startGuest, backoffMs);
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  };
  child.on('error', (err) => onExit(`failed to start: ${err.message}`));
  child.on('exit', (code, signal) => onExit(`pid ${child.pid} exited (${signal ?? `code ${code}`})`));
  if (child.pid !== undefined) {
    writeGuestPid(child.pid);
    log(`guest started, pid ${child.pid}: ${argv.join(' ')}`);
  }
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal} received, stopping guest`);
  if (restartTimer) clearTimeout(restartTimer);
  const current = guest;
  if (current?.pid !== undefined && current.exitCode === null && current.signalCode === null) {
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    signalPid(current.pid, 'SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(GUEST_STOP_TIMEOUT_MS).then(() => true)]);
    if (timedOut) {
      log(`guest did not stop within ${GUEST_STOP_TIMEOUT_MS} ms, killing it`);
      signalPid(current.pid, 'SIGKILL');
    }
  }
  // The guest may have stopped its database asynchronously; wait for the
  // rest of the group so Nova sees "powered off" only when it really is.
  await waitGroupGone(process.pid, Number.POSITIVE_INFINITY, process.pid);
  log('all processes stopped, exiting');
  process.exit(0);
}

if (argv.length === 0) {
  log('NOVA_INIT_GUEST_COMMAND is missing or empty');
  process.exit(2);
}
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(signal));
}
startGuest();
