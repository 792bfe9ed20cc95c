-- Handing a dead worker's watches over in seconds (issue 17). Each orchestrator worker marks
-- itself present every 0.4 s (orchestrator_workers, the registry's clock), and each running
-- watch names its worker and its attempt's task token (watch_claims, written once per watch,
-- not per poll). A worker absent for a few seconds is dead to the others: a survivor fails its
-- watches' attempts, which Temporal retries at once on a live worker. So the watch's heartbeat
-- timeout can be long (few heartbeats for the Temporal server) without slowing the hand-over.
CREATE TABLE orchestrator_workers (
  worker_id VARCHAR(128) NOT NULL PRIMARY KEY,
  seen_at DATETIME(3) NOT NULL
);

CREATE TABLE watch_claims (
  set_id VARCHAR(64) NOT NULL PRIMARY KEY,
  worker_id VARCHAR(128) NOT NULL,
  workflow_id VARCHAR(255) NOT NULL,
  task_token VARBINARY(2048) NOT NULL,
  claimed_at DATETIME(3) NOT NULL,
  KEY watch_claims_worker (worker_id)
);
