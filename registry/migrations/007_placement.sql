-- Placement (issue 18): an instance's Trove locality and the Nova server group its set's
-- members share (the founder's group; replicas join it), and the zone profiles an
-- administrator defines for multi-zone disaster recovery.
ALTER TABLE instances
  ADD COLUMN locality VARCHAR(16) NULL,
  ADD COLUMN server_group_id CHAR(36) NULL;

CREATE TABLE zone_profiles (
  id CHAR(36) NOT NULL PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  description VARCHAR(255) NULL,
  primary_zone VARCHAR(64) NOT NULL,
  dr_zones JSON NOT NULL,
  locality VARCHAR(16) NULL,
  semi_sync TINYINT(1) NOT NULL,
  auto_failover TINYINT(1) NOT NULL,
  created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY zone_profiles_name (name)
) ENGINE=InnoDB;

-- The profile a set follows (set by DR: dr_profile on create, dr-enable). A profile that a
-- set follows cannot be deleted (lib/zone-profiles.ts zoneProfileDeletion).
ALTER TABLE replication_sets ADD COLUMN zone_profile_id CHAR(36) NULL, ADD KEY replication_sets_profile (zone_profile_id);
