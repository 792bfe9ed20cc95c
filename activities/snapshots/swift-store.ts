// Snapshots in OpenStack Swift, the store Trove itself keeps backups in: no disk shared
// between the source, the replicas and the orchestrator. The backup streams into segments
// of SWIFT_SEGMENT_MB as it runs (at most two in memory, one filling while the other
// uploads; nothing on local disk), a Static Large Object manifest joins them at commit,
// and a replica follows the snapshot segment by segment while it is still being written.
// Layout and manifest: swift-layout.ts.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FollowOptions, SnapshotMeta, SnapshotStore, SnapshotWriter } from './store';
import type { SwiftClient } from './swift-client';
import { deletionOrder, manifestPlan, SEGMENTS_SUFFIX, segmentName, snapshotIdsIn, snapshotObjects, type StoredSegment } from './swift-layout';

const SNAPSHOT_ID = /^[0-9a-f-]{36}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SwiftStoreOptions {
  container: string;
  segmentBytes: number;
  /** Swift's max_manifest_segments (1000 unless the operator changed it). */
  maxPerManifest?: number;
  /** How often a follower asks for the next segment while it is not there yet. */
  pollMs?: number;
}

/**
 * A Writable that stores what it is given as numbered segments. A write waits while a full
 * segment is still uploading and the next is full too: the backup is slowed to Swift's
 * pace instead of the stream piling up in memory.
 */
export class SegmentUploader extends Writable {
  readonly segments: StoredSegment[] = [];
  private buffers: Buffer[] = [];
  private current = 0;
  private filled = 0;
  private uploading: Promise<void> = Promise.resolve();
  private readonly aborted = new AbortController();

  constructor(
    private readonly segmentBytes: number,
    private readonly upload: (index: number, body: Buffer, signal: AbortSignal) => Promise<string>,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.take(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    (async () => {
      if (this.filled > 0) await this.flush();
      await this.uploading;
    })().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.aborted.abort(err ?? new Error('the snapshot upload was stopped'));
    cb(err);
  }

  private async take(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; ) {
      const buffer = (this.buffers[this.current] ??= Buffer.allocUnsafe(this.segmentBytes));
      const n = Math.min(chunk.length - offset, this.segmentBytes - this.filled);
      chunk.copy(buffer, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.segmentBytes) await this.flush();
    }
  }

  /** Uploads the current buffer once the one before has landed, and fills the other meanwhile. */
  private async flush(): Promise<void> {
    await this.uploading;
    const index = this.segments.length;
    const body = this.buffers[this.current]!.subarray(0, this.filled);
    this.segments.push({ etag: '', bytes: body.length });
    this.uploading = this.upload(index, body, this.aborted.signal).then((etag) => {
      this.segments[index] = { etag, bytes: body.length };
    });
    this.uploading.catch(() => undefined); // awaited by the next flush or by _final
    this.current = 1 - this.current;
    this.filled = 0;
  }
}

interface Committed {
  meta: SnapshotMeta;
  writer: string;
  segments: number;
}

export class SwiftSnapshotStore implements SnapshotStore {
  private containers?: Promise<void>;

  constructor(
    readonly client: SwiftClient,
    readonly o: SwiftStoreOptions,
  ) {}

  get container(): string {
    return this.o.container;
  }

  get segmentsContainer(): string {
    return `${this.o.container}${SEGMENTS_SUFFIX}`;
  }

  private check(snapshotId: string): void {
    if (!SNAPSHOT_ID.test(snapshotId)) throw new Error(`snapshotId: must be a UUID, got ${JSON.stringify(snapshotId)}`);
  }

  private ensureContainers(): Promise<void> {
    this.containers ??= Promise.all([this.client.ensureContainer(this.container), this.client.ensureContainer(this.segmentsContainer)]).then(() => undefined);
    this.containers.catch(() => (this.containers = undefined));
    return this.containers;
  }

  async create(snapshotId: string): Promise<SnapshotWriter> {
    this.check(snapshotId);
    await this.ensureContainers();
    await this.removeAll(snapshotId); // what an earlier attempt left
    const objects = snapshotObjects(snapshotId);
    const token = randomBytes(8).toString('hex');
    await this.client.put(this.container, objects.writer, token);
    let uploader: SegmentUploader | undefined;
    return {
      location: `swift://${this.container}/${objects.manifest}`,
      openStream: () =>
        (uploader = new SegmentUploader(this.o.segmentBytes, (index, body, signal) =>
          this.client.put(this.segmentsContainer, segmentName(snapshotId, token, index), body, { signal }),
        )),
      commit: async (meta: SnapshotMeta) => {
        const segments = uploader?.segments ?? [];
        await this.putManifest(snapshotId, token, segments);
        await this.client.put(this.container, objects.meta, JSON.stringify(meta, null, 2), {
          headers: { 'Content-Type': 'application/json', 'X-Object-Meta-Trove-Writer': token, 'X-Object-Meta-Trove-Segments': String(segments.length) },
        });
      },
      abort: async () => {
        uploader?.destroy();
        await this.removeAll(snapshotId);
      },
    };
  }

  private async putManifest(snapshotId: string, token: string, segments: StoredSegment[]): Promise<void> {
    const manifest = snapshotObjects(snapshotId).manifest;
    // Swift refuses a manifest of nothing; an empty stream is an empty object.
    if (segments.length === 0) {
      await this.client.put(this.container, manifest, '');
      return;
    }
    const plan = manifestPlan({ segmentsContainer: this.segmentsContainer, snapshotId, token, segments, maxPerManifest: this.o.maxPerManifest ?? 1000 });
    const asManifest = { query: { 'multipart-manifest': 'put' }, headers: { 'Content-Type': 'application/octet-stream' } };
    for (const sub of plan.subManifests) await this.client.put(this.segmentsContainer, sub.object, JSON.stringify(sub.entries), asManifest);
    await this.client.put(this.container, manifest, JSON.stringify(plan.top), asManifest);
  }

  private async committed(snapshotId: string): Promise<Committed | undefined> {
    const res = await this.client.get(this.container, snapshotObjects(snapshotId).meta);
    if (!res) return undefined;
    return {
      meta: (await res.json()) as SnapshotMeta,
      writer: res.headers.get('x-object-meta-trove-writer') ?? '',
      segments: Number(res.headers.get('x-object-meta-trove-segments') ?? 0),
    };
  }

  async meta(snapshotId: string): Promise<SnapshotMeta | undefined> {
    this.check(snapshotId);
    return (await this.committed(snapshotId))?.meta;
  }

  async open(snapshotId: string): Promise<{ stream: Readable; meta: SnapshotMeta }> {
    const meta = await this.meta(snapshotId);
    if (!meta) throw new Error(`snapshot ${snapshotId} does not exist or is incomplete`);
    const res = await this.client.get(this.container, snapshotObjects(snapshotId).manifest);
    if (!res?.body) throw new Error(`snapshot ${snapshotId} has metadata but no data in Swift`);
    return { stream: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meta };
  }

  private async writerToken(snapshotId: string, signal?: AbortSignal): Promise<string | undefined> {
    const res = await this.client.get(this.container, snapshotObjects(snapshotId).writer, { signal });
    return res ? (await res.text()).trim() : undefined;
  }

  follow(snapshotId: string, opts: FollowOptions = {}): { chunks: AsyncIterable<Buffer>; meta: () => Promise<SnapshotMeta> } {
    this.check(snapshotId);
    let committed: SnapshotMeta | undefined;
    return {
      chunks: this.followSegments(snapshotId, opts, (meta) => (committed = meta)),
      meta: async () => {
        if (!committed) throw new Error(`snapshot ${snapshotId} has not been read to its end`);
        return committed;
      },
    };
  }

  private async *followSegments(snapshotId: string, opts: FollowOptions, onCommitted: (meta: SnapshotMeta) => void): AsyncGenerator<Buffer> {
    const { waitMs = 600_000, onWait = () => undefined, signal } = opts;
    const pollMs = opts.pollMs ?? this.o.pollMs ?? 200;
    const deadline = Date.now() + waitMs;
    let token: string | undefined;
    while (!(token = await this.writerToken(snapshotId, signal))) {
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`snapshot ${snapshotId} did not appear in Swift within ${waitMs} ms`);
      onWait();
      await sleep(pollMs);
    }
    let missingSince: number | undefined;
    for (let index = 0; ; ) {
      const res = await this.client.get(this.segmentsContainer, segmentName(snapshotId, token, index), { signal });
      if (res?.body) {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        index++;
        missingSince = undefined;
        continue;
      }
      // No segment `index` yet: the writer is still filling it, or has committed, or is gone.
      const done = await this.committed(snapshotId);
      if (done && done.writer !== token) throw new Error(`snapshot ${snapshotId} was rewritten while being read`);
      if (done && index >= done.segments) {
        onCommitted(done.meta);
        return;
      }
      if (done) {
        // Committed with this segment: a Swift cluster may show a new object late, not for ever.
        missingSince ??= Date.now();
        if (Date.now() - missingSince > 30_000) throw new Error(`snapshot ${snapshotId} is incomplete: segment ${index} of ${done.segments} is missing in Swift`);
      } else {
        const now = await this.writerToken(snapshotId, signal);
        if (now === undefined) throw new Error(`snapshot ${snapshotId} was aborted while being read`);
        if (now !== token) throw new Error(`snapshot ${snapshotId} was rewritten while being read`);
      }
      signal?.throwIfAborted();
      onWait();
      await sleep(pollMs);
    }
  }

  /** Every object of the snapshot in both containers, in deletionOrder. */
  private async objectsOf(snapshotId: string): Promise<{ container: string; name: string }[]> {
    const prefix = `${snapshotId}/`;
    const [own, segments] = await Promise.all([this.client.list(this.container, prefix), this.client.list(this.segmentsContainer, prefix)]);
    return deletionOrder(snapshotId, [...own.map((name) => ({ container: this.container, name })), ...segments.map((name) => ({ container: this.segmentsContainer, name }))]);
  }

  private async removeAll(snapshotId: string): Promise<boolean> {
    const objects = await this.objectsOf(snapshotId);
    const head = objects.filter((o) => o.container === this.container);
    const rest = objects.filter((o) => o.container !== this.container);
    // The snapshot's own objects in order (see deletionOrder), then its segments 8 at a time.
    for (const o of head) await this.client.delete(o.container, o.name);
    for (let i = 0; i < rest.length; i += 8) await Promise.all(rest.slice(i, i + 8).map((o) => this.client.delete(o.container, o.name)));
    return objects.length > 0;
  }

  /** Unreachable once it resolves: its metadata goes first, every segment after. */
  async delete(snapshotId: string): Promise<boolean> {
    this.check(snapshotId);
    return this.removeAll(snapshotId);
  }

  async list(): Promise<string[]> {
    return snapshotIdsIn(await this.client.list(this.container, ''), (s) => SNAPSHOT_ID.test(s));
  }
}
