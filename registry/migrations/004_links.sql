-- Replication links stored explicitly: a replica replicates from its source. A member has
-- at most one upstream (so replica_id is the key); a master-master pair is two links. A
-- link without a set is a replica recorded ahead of its build (the API answers with it at
-- once); its build puts it in the set. Carries every replica_of over, then drops it.
CREATE TABLE replication_links (
  replica_id CHAR(36) NOT NULL PRIMARY KEY,
  source_id CHAR(36) NOT NULL,
  set_id CHAR(36) NULL,
  KEY replication_links_source (source_id),
  KEY replication_links_set (set_id),
  CONSTRAINT replication_links_replica FOREIGN KEY (replica_id) REFERENCES instances (id) ON DELETE CASCADE
) ENGINE=InnoDB;

INSERT INTO replication_links (replica_id, source_id, set_id)
  SELECT id, replica_of, replication_set_id FROM instances WHERE replica_of IS NOT NULL;

ALTER TABLE instances DROP KEY instances_replica_of, DROP COLUMN replica_of;

-- Health rows of instances that left their set (detach) were kept and shown: drop them.
DELETE h FROM replication_health h LEFT JOIN instances i ON i.id = h.instance_id
  WHERE i.id IS NULL OR i.replication_set_id IS NULL OR i.replication_set_id <> h.set_id;
