-- Instances as the API shows them. operation_id is the lock that keeps two mutating
-- operations from interleaving on one instance (see registry/store.ts acquireOperation).
CREATE TABLE instances (
  id CHAR(36) NOT NULL PRIMARY KEY,
  project_id VARCHAR(64) NOT NULL,
  name VARCHAR(64) NOT NULL,
  status VARCHAR(16) NOT NULL,
  flavor_id VARCHAR(16) NOT NULL,
  volume_size INT NOT NULL,
  availability_zone VARCHAR(64) NULL,
  datastore VARCHAR(32) NOT NULL DEFAULT 'mariadb',
  datastore_version VARCHAR(32) NOT NULL DEFAULT '10.11',
  nova_server_id CHAR(36) NULL,
  address VARCHAR(64) NULL,
  port INT NULL,
  operation_id VARCHAR(255) NULL,
  operation_type VARCHAR(64) NULL,
  fault TEXT NULL,
  created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY instances_project (project_id, created)
) ENGINE=InnoDB;

CREATE TABLE instance_databases (
  instance_id CHAR(36) NOT NULL,
  name VARCHAR(64) NOT NULL,
  PRIMARY KEY (instance_id, name),
  CONSTRAINT instance_databases_instance FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE instance_users (
  instance_id CHAR(36) NOT NULL,
  name VARCHAR(32) NOT NULL,
  host VARCHAR(64) NOT NULL,
  PRIMARY KEY (instance_id, name, host),
  CONSTRAINT instance_users_instance FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- server_id is allocated once per instance and never reused, even after deletion, so no
-- two members of any replication set can ever share one (Trove hashed ids and collided).
CREATE TABLE server_ids (
  server_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  instance_id CHAR(36) NOT NULL UNIQUE,
  allocated DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB AUTO_INCREMENT=101;
