-- A killed worker's watches handed over in well under a second (issue 17): each worker holds
-- a named lock (GET_LOCK) on the registry connection that writes its presence, and the
-- registry frees it the moment that session ends. lock_host names the registry server that
-- holds it (named locks are one server's, not a cluster's or a proxy's other backends'): a
-- judge on another server, or a worker that holds no lock, is judged by presence age alone.
ALTER TABLE orchestrator_workers
  ADD COLUMN lock_host VARCHAR(255) NULL;
