-- Restoring the master side (issue 18, B3): a source that a failover fenced remembers the
-- member that replaced it (set by the eject), so rebuildAsReplica knows which set it may
-- rejoin; and the transactions it had that the set lacked (errant GTIDs), reported by the
-- rebuild before they were discarded, stay on the instance for `show`.
ALTER TABLE instances
  ADD COLUMN replaced_by CHAR(36) NULL,
  ADD COLUMN errant_gtids JSON NULL;

-- Backups (Trove's /backups): a snapshot kept in the snapshot store (its id is the backup's)
-- until the backup is deleted; `trove create --backup` builds a new master from it.
CREATE TABLE backups (
  id CHAR(36) NOT NULL PRIMARY KEY,
  project_id VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  description VARCHAR(255) NULL,
  instance_id CHAR(36) NOT NULL,
  status VARCHAR(16) NOT NULL,
  size_bytes BIGINT NULL,
  gtid VARCHAR(1024) NULL,
  datastore VARCHAR(32) NOT NULL,
  datastore_version VARCHAR(32) NOT NULL,
  fail_reason TEXT NULL,
  created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY backups_project (project_id, created)
) ENGINE=InnoDB;
