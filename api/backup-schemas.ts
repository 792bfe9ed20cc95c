// Trove's /backups bodies, as python-troveclient 8.11.0 sends them (`backup-create`,
// `openstack database backup create`): name and instance; `incremental` always (0 unless
// asked); what cannot be honoured here is refused naming the field.
import { z } from 'zod';

const notHere = (why: string) => z.unknown().refine((v) => v === undefined || v === null, why).optional();

export const createBackupBody = z
  .object({
    backup: z
      .object({
        name: z.string().min(1).max(255),
        /** The instance's id or name. */
        instance: z.string().min(1).max(255),
        description: z.string().max(255).nullish(),
        incremental: z
          .union([z.literal(0), z.literal(1), z.boolean()])
          .refine((v) => !v, 'incremental backups are not supported (every backup is a full snapshot); omit it or send 0')
          .optional(),
        parent_id: notHere('incremental backups are not supported; omit parent_id'),
        storage_driver: notHere('backups are kept in the deployment\'s snapshot store; omit storage_driver'),
        swift_container: notHere('backups are kept in the deployment\'s snapshot store, not Swift; omit swift_container'),
        restore_from: notHere('importing a backup from elsewhere is not supported; omit restore_from'),
      })
      .strict(),
  })
  .strict();
export type CreateBackupBody = z.infer<typeof createBackupBody>;

/** Trove's restorePoint on an instance create: the backup the new instance is built from. */
export const restorePoint = z.object({ backupRef: z.string().uuid('must be a backup id') }).strict();
