-- TLS replication, per set: the set's certificate authority (its certificate in clear, its
-- private key sealed with the deployment key: only the orchestrator's signing activity
-- unseals it) and whether every link of the set runs TLS. Both go with the set's row.
ALTER TABLE replication_sets
  ADD COLUMN tls TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN ca_certificate TEXT NULL,
  ADD COLUMN sealed_ca_key TEXT NULL;
