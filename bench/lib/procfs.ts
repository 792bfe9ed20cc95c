// What /proc tells about processes: peak memory (VmHWM is the kernel's own high-water mark of the
// resident set, so no sampling can miss a short peak) and CPU time used.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** KiB fields of /proc/<pid>/status, e.g. VmHWM and VmRSS. */
export function parseStatusKiB(status: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
}

export function peakRssMiB(pid: number): number | undefined {
  try {
    const kib = parseStatusKiB(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
    return kib === undefined ? undefined : kib / 1024;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
let clockTicks: number | undefined;
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** pid → parent pid and CPU time (user + system, ms) of every process /proc lists now. */
function processTable(): Map<number, { ppid: number; cpuMs: number }> {
  const table = new Map<number, { ppid: number; cpuMs: number }>();
  const tick = 1000 / ticksPerSecond();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which may itself hold spaces and parentheses.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * tick });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return table;
}

/**
 * CPU time (user + system, ms) each root process and its live descendants have used so far,
 * read at one moment: a part of the stack may run behind a wrapper process.
 */
export function treeCpuMs(roots: Record<string, number | undefined>): Record<string, number> {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const sum = (pid: number): number => (table.get(pid)?.cpuMs ?? 0) + (children.get(pid) ?? []).reduce((s, c) => s + sum(c), 0);
  return Object.fromEntries(Object.entries(roots).map(([name, pid]) => [name, pid === undefined ? 0 : sum(pid)]));
}
