-- Replication sets: a source and its replicas. The set's operation_id is the lock that
-- keeps two mutating replication operations from interleaving on one set.
CREATE TABLE replication_sets (
  id CHAR(36) NOT NULL PRIMARY KEY,
  project_id VARCHAR(64) NOT NULL,
  operation_id VARCHAR(255) NULL,
  operation_type VARCHAR(64) NULL,
  created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

ALTER TABLE instances
  ADD COLUMN replication_set_id CHAR(36) NULL,
  ADD COLUMN replica_of CHAR(36) NULL,
  ADD COLUMN read_only TINYINT(1) NOT NULL DEFAULT 0,
  ADD KEY instances_replica_of (replica_of),
  ADD KEY instances_set (replication_set_id);

-- One replication account per replica, on its source. The password is sealed with the
-- deployment key; only guest agents unseal it.
CREATE TABLE replication_users (
  replica_id CHAR(36) NOT NULL PRIMARY KEY,
  source_id CHAR(36) NOT NULL,
  user_name VARCHAR(32) NOT NULL,
  sealed_password TEXT NOT NULL,
  created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;
