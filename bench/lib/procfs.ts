// Peak memory of a process from /proc: VmHWM is the kernel's own high-water mark of the
// resident set, so no sampling can miss a short peak.
import { readFileSync } from 'node:fs';

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
