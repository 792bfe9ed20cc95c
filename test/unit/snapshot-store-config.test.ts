// Which snapshot store a process builds from its configuration: the folder by default,
// Swift when asked, and a Swift without its settings refused at start naming each one.
import { snapshotStoreFrom } from '../../activities/snapshots/from-config';
import { FolderSnapshotStore } from '../../activities/snapshots/store';
import { SwiftSnapshotStore } from '../../activities/snapshots/swift-store';
import { ConfigError, loadConfig, snapshotStoreSchema } from '../../lib/config';

const load = (env: Record<string, string>) => loadConfig(snapshotStoreSchema, { TROVE_DATA_DIR: '/data', ...env });

test('the folder store is the default, under the data dir', () => {
  const store = snapshotStoreFrom(load({}));
  expect(store).toBeInstanceOf(FolderSnapshotStore);
  expect((store as FolderSnapshotStore).root).toBe('/data/snapshots');
});

test('TROVE_SNAPSHOT_STORE=swift with its settings: a Swift store, 16 MiB segments unless told', () => {
  const env = { TROVE_SNAPSHOT_STORE: 'swift', SWIFT_AUTH_URL: 'http://swift:8080/auth/v1.0', SWIFT_USER: 'trove:snapshots', SWIFT_KEY: 'k' };
  const store = snapshotStoreFrom(load(env)) as SwiftSnapshotStore;
  expect(store).toBeInstanceOf(SwiftSnapshotStore);
  expect(store.o).toEqual({ container: 'trove-snapshots', segmentBytes: 16 << 20 });
  expect(store.segmentsContainer).toBe('trove-snapshots_segments');
  expect((snapshotStoreFrom(load({ ...env, SWIFT_SEGMENT_MB: '2', SWIFT_CONTAINER: 'snaps' })) as SwiftSnapshotStore).o).toEqual({ container: 'snaps', segmentBytes: 2 << 20 });
});

test('swift without its settings is refused, naming each missing one', () => {
  expect(() => snapshotStoreFrom(load({ TROVE_SNAPSHOT_STORE: 'swift', SWIFT_USER: 'a:b' }))).toThrow(ConfigError);
  expect(() => snapshotStoreFrom(load({ TROVE_SNAPSHOT_STORE: 'swift', SWIFT_USER: 'a:b' }))).toThrow(/SWIFT_AUTH_URL: is required when TROVE_SNAPSHOT_STORE=swift\n.*SWIFT_KEY: is required/);
});

test.each([
  [{ TROVE_SNAPSHOT_STORE: 's3' }, /TROVE_SNAPSHOT_STORE/],
  [{ SWIFT_SEGMENT_MB: '0' }, /SWIFT_SEGMENT_MB: must be at least 1/],
  [{ SWIFT_SEGMENT_MB: '6000' }, /SWIFT_SEGMENT_MB: must be at most 5120/],
  [{ SWIFT_CONTAINER: 'a/b' }, /SWIFT_CONTAINER: must be 1-200 letters/],
  [{ SWIFT_AUTH_URL: 'not a url' }, /SWIFT_AUTH_URL/],
])('%j is refused: %s', (env, message) => {
  expect(() => load(env as Record<string, string>)).toThrow(message);
});
