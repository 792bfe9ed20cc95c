// The Swift snapshot store's pure parts: where each piece lives, the manifest(s) that join
// the segments (two levels past Swift's 1000 entries), the order a delete takes, and the
// uploader that cuts a stream into segments without holding more than two.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deletionOrder, manifestPlan, segmentName, snapshotIdsIn, snapshotObjects, subManifestName } from '../../activities/snapshots/swift-layout';
import { SegmentUploader } from '../../activities/snapshots/swift-store';

const ID = '0b6a5c1e-7d0f-4c39-9a53-3f2f1c1d2e3f';

test.each([
  [0, `${ID}/t1/00000000`],
  [7, `${ID}/t1/00000007`],
  [12345678, `${ID}/t1/12345678`],
])('segment %i is named %s (zero-padded: a listing is in stream order)', (index, name) => {
  expect(segmentName(ID, 't1', index)).toBe(name);
});

test('a listing sorted by name is the stream order', () => {
  const names = [10, 2, 100, 1].map((i) => segmentName(ID, 't', i));
  expect([...names].sort()).toEqual([1, 2, 10, 100].map((i) => segmentName(ID, 't', i)));
});

test('the snapshot\'s own objects', () => {
  expect(snapshotObjects(ID)).toEqual({ writer: `${ID}/writer`, manifest: `${ID}/backup.xbstream`, meta: `${ID}/meta.json` });
});

const segs = (n: number) => Array.from({ length: n }, (_, i) => ({ etag: `e${i}`, bytes: 100 + i }));

test.each([
  { segments: 1, max: 1000, subs: 0, top: 1 },
  { segments: 1000, max: 1000, subs: 0, top: 1000 },
  { segments: 1001, max: 1000, subs: 2, top: 2 },
  { segments: 7, max: 3, subs: 3, top: 3 },
  { segments: 4, max: 2, subs: 2, top: 2 },
])('$segments segments, $max per manifest: $subs sub-manifests, $top entries on top', ({ segments, max, subs, top }) => {
  const plan = manifestPlan({ segmentsContainer: 'c_segments', snapshotId: ID, token: 't', segments: segs(segments), maxPerManifest: max });
  expect(plan.subManifests).toHaveLength(subs);
  expect(plan.top).toHaveLength(top);
  // Every segment appears once, in order, with what Swift said of it.
  const flat = subs ? plan.subManifests.flatMap((m) => m.entries) : plan.top;
  expect(flat).toEqual(segs(segments).map((s, i) => ({ path: `/c_segments/${segmentName(ID, 't', i)}`, etag: s.etag, size_bytes: s.bytes })));
  for (const m of plan.subManifests) expect(m.entries.length).toBeLessThanOrEqual(max);
  if (subs) expect(plan.top).toEqual(plan.subManifests.map((m, i) => ({ path: `/c_segments/${subManifestName(ID, 't', i)}`, etag: null, size_bytes: null })));
});

test('a manifest needs a segment, and more than two levels is refused with what to change', () => {
  expect(() => manifestPlan({ segmentsContainer: 'c', snapshotId: ID, token: 't', segments: [], maxPerManifest: 2 })).toThrow(/at least one segment/);
  expect(() => manifestPlan({ segmentsContainer: 'c', snapshotId: ID, token: 't', segments: segs(4), maxPerManifest: 2 })).not.toThrow();
  expect(() => manifestPlan({ segmentsContainer: 'c', snapshotId: ID, token: 't', segments: segs(5), maxPerManifest: 2 })).toThrow(/SWIFT_SEGMENT_MB/);
});

test('a delete takes the metadata first, the writer token, the manifests, the data last', () => {
  const o = snapshotObjects(ID);
  const objects = [
    { container: 's', name: segmentName(ID, 't', 0) },
    { container: 'c', name: o.manifest },
    { container: 's', name: subManifestName(ID, 't', 0) },
    { container: 'c', name: o.writer },
    { container: 'c', name: o.meta },
  ];
  expect(deletionOrder(ID, objects).map((x) => x.name)).toEqual([o.meta, o.writer, o.manifest, subManifestName(ID, 't', 0), segmentName(ID, 't', 0)]);
});

test('snapshot ids in a listing: once each, and only ids', () => {
  const isId = (s: string) => /^[0-9a-f-]{36}$/.test(s);
  expect(snapshotIdsIn([`${ID}/writer`, `${ID}/meta.json`, 'stray', 'other/x'], isId)).toEqual([ID]);
});

describe('SegmentUploader', () => {
  async function upload(data: Buffer, chunk: number, segmentBytes: number, store = new Map<number, Buffer>()) {
    let inFlight = 0;
    let most = 0;
    const uploader = new SegmentUploader(segmentBytes, async (index, body) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      store.set(index, Buffer.from(body));
      inFlight--;
      return `etag-${index}`;
    });
    const chunks = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk));
    await pipeline(Readable.from(chunks), uploader);
    return { uploader, store, most };
  }

  test.each([
    { size: 10, chunk: 3, segment: 4, segments: 3 },
    { size: 12, chunk: 5, segment: 4, segments: 3 },
    { size: 1000, chunk: 64, segment: 100, segments: 10 },
    { size: 3, chunk: 10, segment: 4, segments: 1 },
    { size: 0, chunk: 1, segment: 4, segments: 0 },
  ])('$size bytes written $chunk at a time in segments of $segment: $segments segments, the same bytes', async ({ size, chunk, segment, segments }) => {
    const data = Buffer.from(Array.from({ length: size }, (_, i) => i % 251));
    const { uploader, store, most } = await upload(data, chunk, segment);
    expect(uploader.segments).toHaveLength(segments);
    expect(uploader.segments.map((s) => s.etag)).toEqual(Array.from({ length: segments }, (_, i) => `etag-${i}`));
    expect(Buffer.concat([...store.keys()].sort((a, b) => a - b).map((k) => store.get(k)!))).toEqual(data);
    expect(uploader.segments.reduce((n, s) => n + s.bytes, 0)).toBe(size);
    // One upload at a time: a segment's buffer is never refilled while it is being sent.
    expect(most).toBeLessThanOrEqual(1);
  });

  test('a failed upload fails the stream', async () => {
    const uploader = new SegmentUploader(4, async (index) => {
      if (index === 1) throw new Error('Swift answered 503');
      return 'e';
    });
    await expect(pipeline(Readable.from([Buffer.alloc(20)]), uploader)).rejects.toThrow(/503/);
  });
});
