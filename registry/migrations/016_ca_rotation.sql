-- CA rotation: the set's next certificate authority while a rotation runs. Members trust the
-- current and the next CA (a bundle) until every member serves a certificate from the next;
-- then the next becomes the set's CA (ca_certificate / sealed_ca_key) and these are cleared.
-- A rotation that failed half-way leaves them set: asking it again finishes it with the same CA.
ALTER TABLE replication_sets
  ADD COLUMN next_ca_certificate TEXT NULL,
  ADD COLUMN next_sealed_ca_key TEXT NULL;
