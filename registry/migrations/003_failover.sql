-- Per-set failover and semi-sync settings (all off by default), the last automatic
-- failover (for the quiet period), and the latest health the monitor observed.
ALTER TABLE replication_sets
  ADD COLUMN auto_failover TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN semi_sync TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN quiet_period_s INT NOT NULL DEFAULT 600,
  ADD COLUMN failover_after_s INT NOT NULL DEFAULT 2,
  ADD COLUMN last_failover_at DATETIME(3) NULL,
  ADD COLUMN last_failover_op VARCHAR(255) NULL,
  ADD COLUMN last_failover_acked TINYINT(1) NOT NULL DEFAULT 1;

CREATE TABLE replication_health (
  instance_id CHAR(36) NOT NULL PRIMARY KEY,
  set_id CHAR(36) NOT NULL,
  health JSON NOT NULL,
  observed DATETIME(3) NOT NULL,
  KEY replication_health_set (set_id)
) ENGINE=InnoDB;
