-- TLS certificate renewal: each member's current server certificate from its set's CA, as
-- the signing activity issued it (public facts only: serial and expiry), so `show` can say
-- when each expires and a renewal can be seen to have replaced it. Goes with the instance.
CREATE TABLE server_certificates (
  instance_id CHAR(36) NOT NULL PRIMARY KEY,
  set_id CHAR(36) NOT NULL,
  serial VARCHAR(64) NOT NULL,
  not_after DATETIME NOT NULL,
  issued DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT server_certificates_instance FOREIGN KEY (instance_id) REFERENCES instances (id) ON DELETE CASCADE
) ENGINE=InnoDB;
