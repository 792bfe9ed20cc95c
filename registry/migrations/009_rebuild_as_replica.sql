-- Restoring the master side (issue 18, B3): a source that a failover fenced remembers the
-- member that replaced it (set by the eject), so rebuildAsReplica knows which set it may
-- rejoin; and the transactions it had that the set lacked (errant GTIDs), reported by the
-- rebuild before they were discarded, stay on the instance for `show`.
ALTER TABLE instances
  ADD COLUMN replaced_by CHAR(36) NULL,
  ADD COLUMN errant_gtids JSON NULL;
