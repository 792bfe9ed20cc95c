// Snapshot housekeeping run by the orchestrator: deleting a snapshot is always possible,
// whatever happened to the source that wrote it.
import type { SnapshotStore } from './store';

export function createSnapshotActivities(store: SnapshotStore) {
  return {
    async deleteSnapshot(snapshotId: string): Promise<boolean> {
      return store.delete(snapshotId);
    },
  };
}

export type SnapshotActivities = ReturnType<typeof createSnapshotActivities>;
