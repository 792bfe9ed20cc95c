// Where a snapshot's pieces live in Swift, and the Static Large Object manifest that joins
// its segments; pure, so the naming and the manifest's shape are table-tested.
//
// In the snapshots container (SWIFT_CONTAINER), per snapshot:
//   <id>/writer            the token of the backup writing it now (one per attempt)
//   <id>/backup.xbstream   the SLO manifest: GET reads the whole stream
//   <id>/meta.json         the seed spec's metadata; present = committed
// In <container>_segments:  <id>/<token>/00000000 ... the data, in order, and
//                           <id>/<token>/manifest-0000 ... sub-manifests of a large one.
// A retried backup writes under a new token, so a reader of the old attempt's segments
// never reads the new one's as if they continued the same stream.

export const SEGMENTS_SUFFIX = '_segments';

export const snapshotObjects = (snapshotId: string) => ({
  writer: `${snapshotId}/writer`,
  manifest: `${snapshotId}/backup.xbstream`,
  meta: `${snapshotId}/meta.json`,
});

/** Zero-padded, so a listing's (lexicographic) order is the stream's. */
export const segmentName = (snapshotId: string, token: string, index: number): string => `${snapshotId}/${token}/${String(index).padStart(8, '0')}`;

export const subManifestName = (snapshotId: string, token: string, index: number): string => `${snapshotId}/${token}/manifest-${String(index).padStart(4, '0')}`;

/** What the writer learnt of each segment it stored (Swift's ETag is its MD5). */
export interface StoredSegment {
  etag: string;
  bytes: number;
}

/** One entry of an SLO manifest (Swift's `multipart-manifest=put` body). */
export interface ManifestEntry {
  path: string;
  etag: string | null;
  size_bytes: number | null;
}

export interface ManifestPlan {
  /** Written first, in the segments container: each joins up to maxPerManifest segments. */
  subManifests: { object: string; entries: ManifestEntry[] }[];
  /** The snapshot's own manifest. */
  top: ManifestEntry[];
}

/**
 * The manifests that join `segments` into one object. Swift refuses a manifest of more than
 * max_manifest_segments entries (1000 by default: 16 GB of 16 MiB segments), so a longer
 * stream is joined in two levels (a manifest of manifests: 1000² segments).
 */
export function manifestPlan(o: { segmentsContainer: string; snapshotId: string; token: string; segments: StoredSegment[]; maxPerManifest: number }): ManifestPlan {
  const { segmentsContainer, snapshotId, token, segments, maxPerManifest } = o;
  if (segments.length === 0) throw new Error('a manifest joins at least one segment');
  const entries = segments.map((s, i) => ({ path: `/${segmentsContainer}/${segmentName(snapshotId, token, i)}`, etag: s.etag, size_bytes: s.bytes }));
  if (entries.length <= maxPerManifest) return { subManifests: [], top: entries };
  const subManifests: ManifestPlan['subManifests'] = [];
  for (let i = 0; i < entries.length; i += maxPerManifest) {
    subManifests.push({ object: subManifestName(snapshotId, token, subManifests.length), entries: entries.slice(i, i + maxPerManifest) });
  }
  if (subManifests.length > maxPerManifest) {
    throw new Error(`the snapshot has ${segments.length} segments, more than two levels of manifests join (${maxPerManifest}²): raise SWIFT_SEGMENT_MB`);
  }
  // Swift checks a sub-manifest's size and ETag itself (null: taken from the object).
  return { subManifests, top: subManifests.map((m) => ({ path: `/${segmentsContainer}/${m.object}`, etag: null, size_bytes: null })) };
}

/** The snapshot ids among a container's listing (its first path components, once each). */
export function snapshotIdsIn(names: string[], isSnapshotId: (s: string) => boolean): string[] {
  return [...new Set(names.map((n) => n.split('/')[0]!))].filter(isSnapshotId);
}

/**
 * The order in which a snapshot's objects are deleted: its metadata first (it is then no
 * longer committed), its writer token next (a follower then stops: the snapshot is gone),
 * then the manifests, then the data; so no reader ever sees a committed snapshot with
 * pieces missing, and a delete cut short leaves nothing a reader would take for a snapshot.
 */
export function deletionOrder(snapshotId: string, objects: { container: string; name: string }[]): { container: string; name: string }[] {
  const o = snapshotObjects(snapshotId);
  const rank = (name: string) => (name === o.meta ? 0 : name === o.writer ? 1 : name === o.manifest ? 2 : /\/manifest-\d+$/.test(name) ? 3 : 4);
  return [...objects].sort((a, b) => rank(a.name) - rank(b.name));
}
