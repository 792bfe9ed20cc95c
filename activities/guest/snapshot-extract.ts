// The first half of a replica's restore: a snapshot extracted into a fresh folder beside the
// datadir, and verified. Either the restoreSnapshot activity runs it, or the guest agent
// starts it as it boots when Nova's metadata names the snapshot (as Trove's guest restored
// the snapshot it was prepared with), and the activity takes it over when it arrives: the
// replica then extracts while its agent is still loading the Temporal worker (~0.35 s on an
// idle machine, up to ~1 s beside a running backup).
import { existsSync, promises as fs } from 'node:fs';
import type { SnapshotMeta, SnapshotStore } from '../snapshots/store';
import { dropBehind } from './drop-behind';
import { extractFile } from './extract-file';
import type { ServerLayout } from './layout';
import { checksumAlgorithm, extractStream, SNAPSHOT_CHECKSUM } from './mariabackup';

export interface Extracted {
  bytes: number;
  meta: SnapshotMeta;
}

export interface ExtractOptions {
  /** The snapshot may still be being written: follow it until it is committed. */
  follow: boolean;
  onProgress: (bytes: number) => void;
  onWait?: () => void;
  signal?: AbortSignal;
}

export interface ExtractBinaries {
  mbstream: string;
  python: string;
}

export const restoreTarget = (layout: ServerLayout) => `${layout.datadir}.restore`;

/**
 * Extracts the snapshot into restoreTarget(layout), emptied first, and verifies it: a
 * snapshot that is not whole or not intact throws "is corrupt" or "is incomplete". What it
 * writes is kept out of the page cache (drop-behind.ts).
 */
export async function extractSnapshot(layout: ServerLayout, bins: ExtractBinaries, store: SnapshotStore, snapshotId: string, o: ExtractOptions): Promise<Extracted> {
  const target = restoreTarget(layout);
  await fs.rm(target, { recursive: true, force: true });
  await fs.mkdir(target, { recursive: true });
  const stored = o.follow ? undefined : await store.meta(snapshotId);
  if (!o.follow && !stored) throw new Error(`snapshot ${snapshotId} does not exist or is incomplete`);
  const dropping = dropBehind(bins.python, target);
  try {
    return await extractInto(target, bins, store, snapshotId, stored, o);
  } finally {
    await dropping.stop();
  }
}

async function extractInto(target: string, bins: ExtractBinaries, store: SnapshotStore, snapshotId: string, stored: SnapshotMeta | undefined, o: ExtractOptions): Promise<Extracted> {
  // A followed snapshot is being written now, so with today's algorithm; a stored one says which.
  const algorithm = stored ? checksumAlgorithm(stored.dataset.checksum) : SNAPSHOT_CHECKSUM;
  if (store.localFile && algorithm === 'xbstream') return extractFile(bins, store.localFile(snapshotId), target, o);

  const source = o.follow
    ? store.follow(snapshotId, { onWait: o.onWait, signal: o.signal })
    : await store.open(snapshotId).then(({ stream, meta }) => ({ chunks: stream, meta: async () => meta }));
  const { bytes, checksum } = await extractStream(bins.mbstream, source.chunks, target, o.onProgress, o.signal, algorithm);
  const meta = await source.meta();
  if (checksum !== meta.dataset.checksum) throw new Error(`snapshot ${snapshotId} is corrupt: checksum ${checksum} does not match ${meta.dataset.checksum}`);
  if (bytes !== meta.dataset.sizeBytes) throw new Error(`snapshot ${snapshotId} is incomplete: read ${bytes} of ${meta.dataset.sizeBytes} bytes`);
  return { bytes, meta };
}

/** An extraction the agent started at boot, handed once to the activity that restores that snapshot. */
export class BootExtraction {
  bytes = 0;
  private extraction?: Promise<Extracted>;
  private taken = false;

  constructor(readonly snapshotId: string) {}

  /**
   * Starts only on a server that never held data (no datadir, never prepared): a restart of
   * the agent on a built replica must not touch it.
   */
  start(layout: ServerLayout, bins: ExtractBinaries, store: SnapshotStore): boolean {
    if (existsSync(layout.datadir) || existsSync(layout.preparedMarker)) return false;
    this.extraction = extractSnapshot(layout, bins, store, this.snapshotId, { follow: true, onProgress: (bytes) => (this.bytes = bytes) });
    this.extraction.catch(() => undefined); // the activity that takes it over sees the failure
    return true;
  }

  /** Settles once the boot extraction (if any) has ended: a fresh one must not write beside it. */
  async idle(): Promise<void> {
    await this.extraction?.catch(() => undefined);
  }

  /** The extraction of snapshotId, the first time it is asked for; later asks (retries) start afresh. */
  take(snapshotId: string): Promise<Extracted> | undefined {
    if (snapshotId !== this.snapshotId || !this.extraction || this.taken) return undefined;
    this.taken = true;
    return this.extraction;
  }
}
