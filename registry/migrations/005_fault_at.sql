-- When the instance's fault was recorded (Trove shows it as fault.created). Set whenever the
-- fault changes; a fault kept from before takes the record's last change as its time
-- (assigning updated to itself keeps ON UPDATE from moving it to now).
ALTER TABLE instances ADD COLUMN fault_at DATETIME(3) NULL AFTER fault;

UPDATE instances SET fault_at = updated, updated = updated WHERE fault IS NOT NULL;
