-- Watching sets cheaply (issue 17). Each member's monitoring account (replication status
-- only; its random password sealed with the deployment's key), which the orchestrator's
-- watch reads directly instead of asking the guest agent every poll; ready once the
-- member's agent made the account. And how long the health stored for a member is vouched
-- for: the watch writes health only when it changes, and renews this lease slowly.
ALTER TABLE instances
  ADD COLUMN monitor_secret TEXT NULL,
  ADD COLUMN monitor_ready TINYINT(1) NOT NULL DEFAULT 0;

ALTER TABLE replication_health ADD COLUMN confirmed_until DATETIME(3) NULL;
