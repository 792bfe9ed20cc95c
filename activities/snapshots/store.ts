// Where replication snapshots live between the source's backup and the replicas' restores.
// The folder store suits one machine; Swift or S3 would implement the same interface.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { tailFile, type WaitOptions } from './tail';

/** The seed spec's snapshot metadata, plus what a GTID replica needs. */
export interface SnapshotMeta {
  snapshotId: string;
  master: { host: string; port: number };
  dataset: { datastore: string; datastoreVersion: string; sizeBytes: number; location: string; checksum: string };
  binlog: { file: string; position: number; gtid: string };
  created: string;
}

export interface SnapshotStore {
  /**
   * A writer for the snapshot's data; commit() makes it visible, abort() removes it. A store
   * on local disk also names its file (localPath), so a backup can write it directly.
   */
  create(snapshotId: string): Promise<SnapshotWriter>;
  open(snapshotId: string): Promise<{ stream: Readable; meta: SnapshotMeta }>;
  /**
   * Reads a snapshot while it is still being written, so a replica restores as the source
   * streams: the data as it grows, until the writer commits. Each chunk is valid until the
   * next is asked for (copy it to keep it). meta() answers once the chunks have ended.
   * Fails when the snapshot is aborted, or never appears within waitMs.
   */
  follow(snapshotId: string, opts?: FollowOptions): { chunks: AsyncIterable<Buffer>; meta: () => Promise<SnapshotMeta> };
  /**
   * A store on local disk names the snapshot's file, so a restore can hand it to native
   * tools (tail, mbstream) instead of copying every byte through the guest agent.
   */
  localFile?(snapshotId: string): LocalSnapshotFile;
  meta(snapshotId: string): Promise<SnapshotMeta | undefined>;
  /** Unreachable once it resolves (false: there was nothing); the space may be freed later. */
  delete(snapshotId: string): Promise<boolean>;
  list(): Promise<string[]>;
}

export interface SnapshotWriter {
  location: string;
  localPath?: string;
  openStream(): Writable;
  commit(meta: SnapshotMeta): Promise<void>;
  abort(): Promise<void>;
}

export interface LocalSnapshotFile {
  path: string;
  /** The snapshot's metadata once its writer has committed (the file is then complete). */
  committed(): Promise<SnapshotMeta | undefined>;
  /** Throws when the snapshot is gone: aborted, or deleted, while being read. */
  check(): Promise<void>;
}

export type FollowOptions = WaitOptions;

const SNAPSHOT_ID = /^[0-9a-f-]{36}$/;

export class FolderSnapshotStore implements SnapshotStore {
  constructor(readonly root: string) {}

  private dir(snapshotId: string): string {
    if (!SNAPSHOT_ID.test(snapshotId)) throw new Error(`snapshotId: must be a UUID, got ${JSON.stringify(snapshotId)}`);
    return path.join(this.root, snapshotId);
  }

  async create(snapshotId: string): Promise<SnapshotWriter> {
    const dir = this.dir(snapshotId);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    const data = path.join(dir, 'backup.xbstream');
    await fs.writeFile(data, '');
    return {
      location: `file://${data}`,
      localPath: data,
      openStream: () => createWriteStream(data),
      commit: async (meta: SnapshotMeta) => {
        await fs.writeFile(path.join(dir, 'meta.json.tmp'), JSON.stringify(meta, null, 2));
        await fs.rename(path.join(dir, 'meta.json.tmp'), path.join(dir, 'meta.json'));
      },
      abort: async () => {
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  }

  async meta(snapshotId: string): Promise<SnapshotMeta | undefined> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.dir(snapshotId), 'meta.json'), 'utf8')) as SnapshotMeta;
    } catch {
      return undefined;
    }
  }

  async open(snapshotId: string) {
    const meta = await this.meta(snapshotId);
    if (!meta) throw new Error(`snapshot ${snapshotId} does not exist or is incomplete`);
    return { stream: createReadStream(path.join(this.dir(snapshotId), 'backup.xbstream')), meta };
  }

  localFile(snapshotId: string): LocalSnapshotFile {
    const dir = this.dir(snapshotId);
    return {
      path: path.join(dir, 'backup.xbstream'),
      committed: () => this.meta(snapshotId),
      check: async () => {
        if (!existsSync(dir)) throw new Error(`snapshot ${snapshotId} was aborted while being read`);
      },
    };
  }

  follow(snapshotId: string, opts: FollowOptions = {}) {
    const file = this.localFile(snapshotId);
    let committed: SnapshotMeta | undefined;
    const chunks = tailFile(file.path, {
      ...opts,
      done: async () => (committed = await file.committed()) !== undefined,
      check: file.check,
    });
    return {
      chunks,
      meta: async () => {
        if (!committed) throw new Error(`snapshot ${snapshotId} has not been read to its end`);
        return committed;
      },
    };
  }

  /**
   * Gone at once (one rename into the trash); its space is freed in the background. Freeing
   * a GiB of blocks takes ~0.3 s, and while it runs the filesystem's journal holds back every
   * fsync on the disk: a replica attaching at that moment waited ~0.2 s for one commit
   * (bench/improvements.md §6).
   */
  async delete(snapshotId: string): Promise<boolean> {
    const dir = this.dir(snapshotId);
    if (!existsSync(dir)) return false;
    await fs.mkdir(this.trash, { recursive: true });
    await fs.rename(dir, path.join(this.trash, `${snapshotId}.${randomUUID()}`));
    this.reclaim().catch(() => undefined); // what stays in the trash, the next reclaim frees
    return true;
  }

  /**
   * Frees what deleted snapshots held, until the trash is empty; settles when it is. The
   * process that owns the store also runs it at start, for a reclaim a crash cut short.
   */
  reclaim(): Promise<void> {
    this.reclaiming ??= (async () => {
      try {
        for (let left = await this.trashed(); left.length > 0; left = await this.trashed()) {
          for (const entry of left) await fs.rm(path.join(this.trash, entry), { recursive: true, force: true });
        }
      } finally {
        this.reclaiming = undefined;
      }
    })();
    return this.reclaiming;
  }

  private reclaiming?: Promise<void>;

  private get trash(): string {
    return path.join(this.root, '.trash');
  }

  private async trashed(): Promise<string[]> {
    return fs.readdir(this.trash).catch(() => []);
  }

  async list(): Promise<string[]> {
    return existsSync(this.root) ? (await fs.readdir(this.root)).filter((f) => SNAPSHOT_ID.test(f)) : [];
  }
}
