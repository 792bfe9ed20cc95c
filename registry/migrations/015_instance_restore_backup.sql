-- The backup an instance is being restored from (create with restorePoint). While its
-- provisionInstance holds the instance, the backup is read and cannot be deleted
-- (lib/rules.ts checkDeleteBackup): deleting it failed the restore.
ALTER TABLE instances ADD COLUMN restore_backup_id CHAR(36) NULL, ADD INDEX instances_restore_backup (restore_backup_id);
