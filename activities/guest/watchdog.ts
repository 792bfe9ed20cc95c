// The guest agent's watchdog (mysqld_safe's job): a prepared server whose mariadbd died
// on its own gets it started again. Activities that stop the database on purpose (restore,
// restart, stop) hold `maintenance` while they work, and `stop` leaves a marker so a
// deliberate stop stays a stop.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ServerLayout } from './layout';
import { runningPid, startMariadb, type MariadbBinaries } from './mariadb-process';

export class Maintenance {
  private holders = 0;

  get active(): boolean {
    return this.holders > 0;
  }

  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.holders++;
    try {
      return await fn();
    } finally {
      this.holders--;
    }
  }
}

export const stoppedMarker = (layout: ServerLayout) => path.join(layout.dir, 'stopped-by-request');

export async function markStopped(layout: ServerLayout, stopped: boolean): Promise<void> {
  if (stopped) await fs.writeFile(stoppedMarker(layout), new Date().toISOString());
  else await fs.rm(stoppedMarker(layout), { force: true });
}

/** Checks every intervalMs; returns a function that stops the watchdog. */
export function startWatchdog(
  layout: ServerLayout,
  binaries: MariadbBinaries,
  maintenance: Maintenance,
  log: (msg: string, extra?: object) => void,
  intervalMs = 1000,
): () => void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking || maintenance.active) return;
    if (!existsSync(layout.preparedMarker) || existsSync(stoppedMarker(layout))) return;
    checking = true;
    void (async () => {
      try {
        if (await runningPid(layout)) return;
        log('mariadbd is not running; starting it again');
        const pid = await maintenance.during(() => startMariadb(layout, binaries));
        log('mariadbd started again', { pid });
      } catch (err) {
        log('could not start mariadbd', { error: String(err) });
      } finally {
        checking = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
