// Process inspection through /proc. Signals alone cannot tell a zombie from a
// live process (kill(pid, 0) succeeds on both) and cannot detect pid reuse,
// and orphans reparented to a non-reaping pid 1 linger as zombies, so liveness
// is decided from /proc/<pid>/stat instead.
import fs from 'node:fs';

export interface ProcStat {
  pid: number;
  state: string; // R, S, D, T (stopped), Z (zombie), ...
  ppid: number;
  pgrp: number;
  startTime: number; // clock ticks since boot: with pid, identifies a process
}

export function readProcStat(pid: number): ProcStat | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses: split after the last ')'.
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: fields[0],
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

export function isAlive(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Live (non-zombie) processes of a process group, optionally excluding one pid. */
export function groupMembers(pgid: number, exceptPid?: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === exceptPid) continue;
    const stat = readProcStat(pid);
    if (isAlive(stat) && stat.pgrp === pgid) members.push(stat);
  }
  return members;
}

/** Signals a whole process group, ignoring "no such process". */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the group has no live member; returns false on timeout. */
export async function waitGroupGone(pgid: number, timeoutMs: number, exceptPid?: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(pgid, exceptPid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}
