// The snapshot store a process's configuration names: every process that touches snapshots
// (the orchestrator deletes them, guest agents write and read them) builds the same one.
import { ConfigError, snapshotDir, type SnapshotStoreConfig } from '../../lib/config';
import { FolderSnapshotStore, type SnapshotStore } from './store';
import { SwiftClient } from './swift-client';
import { SwiftSnapshotStore } from './swift-store';

export function snapshotStoreFrom(c: SnapshotStoreConfig): SnapshotStore {
  if (c.TROVE_SNAPSHOT_STORE === 'folder') return new FolderSnapshotStore(snapshotDir(c));
  const missing = (['SWIFT_AUTH_URL', 'SWIFT_USER', 'SWIFT_KEY'] as const).filter((k) => !c[k]);
  if (missing.length) throw new ConfigError(`invalid configuration:\n  ${missing.map((k) => `${k}: is required when TROVE_SNAPSHOT_STORE=swift`).join('\n  ')}`);
  const client = new SwiftClient({ authUrl: c.SWIFT_AUTH_URL!, user: c.SWIFT_USER!, key: c.SWIFT_KEY! });
  return new SwiftSnapshotStore(client, { container: c.SWIFT_CONTAINER, segmentBytes: c.SWIFT_SEGMENT_MB << 20 });
}
