-- A zone profile may rebuild the master side by itself: once the zone lost by a failover is
-- back (Nova reports it available), its fenced members are rebuilt as replicas of the new
-- source (rebuildAsReplica), with no user request. Off by default, as for existing profiles.
ALTER TABLE zone_profiles ADD COLUMN auto_rebuild TINYINT(1) NOT NULL DEFAULT 0;
