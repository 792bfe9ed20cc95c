// What the guest can tell of its data volume: the size Nova shows it (this mock has no
// Cinder: nova/README.md, Volumes) and the bytes the database really uses on it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ServerLayout } from './layout';

/** Written by Nova's process driver (nova/drivers/process.ts VOLUME_FILE) into the server's folder. */
const VOLUME_FILE = 'volume.json';

export interface VolumeInfo {
  /** The volume's size as Nova declared it; null when none was declared yet. */
  sizeGb: number | null;
  /** Bytes of every file in the datadir (data, logs, binlogs). */
  usedBytes: number;
}

async function bytesUnder(dir: string): Promise<number> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await bytesUnder(p);
    else if (e.isFile()) total += (await fs.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export async function readVolumeInfo(layout: ServerLayout): Promise<VolumeInfo> {
  const declared = await fs.readFile(path.join(layout.dir, VOLUME_FILE), 'utf8').then(
    (text) => (JSON.parse(text) as { size_gb?: number }).size_gb ?? null,
    () => null,
  );
  return { sizeGb: declared, usedBytes: await bytesUnder(layout.datadir) };
}
