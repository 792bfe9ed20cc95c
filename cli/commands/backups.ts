// trove backup-create / backup-list / backup-show / backup-delete (troveclient's names):
// backups kept in the snapshot store; `trove create --backup <id>` builds an instance from one.
import type { Command } from 'commander';
import { CliFailure, type CliContext } from '../context';
import { json, listTable, propertyTable } from '../format';
import { addWaitOptions } from './instances';

interface BackupView {
  id: string;
  name: string;
  description: string | null;
  status: string;
  instance_id: string;
  size: number | null;
  locationRef: string | null;
  fail_reason?: string;
  created: string;
  updated: string;
}

function backupTable(b: BackupView, width: number): string {
  return propertyTable(
    {
      id: b.id,
      name: b.name,
      ...(b.description ? { description: b.description } : {}),
      status: b.status,
      instance_id: b.instance_id,
      size: b.size === null ? '' : `${b.size} GB`,
      locationRef: b.locationRef ?? '',
      ...(b.fail_reason ? { fail_reason: b.fail_reason } : {}),
      created: b.created,
      updated: b.updated,
    },
    width,
  );
}

const END_STATES = ['COMPLETED', 'FAILED'];

export function registerBackupCommands(program: Command, ctx: CliContext): void {
  addWaitOptions(
    program
      .command('backup-create')
      .description('Backs up an instance: a snapshot kept in the snapshot store until the backup is deleted.')
      .argument('<instance>', 'ID or name of the instance')
      .argument('<name>', 'name of the backup')
      .option('--description <text>', 'what the backup is for'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (instance: string, name: string, opts: { description?: string; wait?: boolean; timeout: number; json?: boolean }) => {
      const api = ctx.api();
      let { backup: b } = (await api.backups('POST', undefined, { backup: { name, instance, ...(opts.description ? { description: opts.description } : {}) } })) as { backup: BackupView };
      if (opts.wait) {
        const deadline = Date.now() + opts.timeout * 1000;
        let last = '';
        while (!END_STATES.includes(b.status)) {
          if (b.status !== last) ctx.err(b.status);
          last = b.status;
          if (Date.now() > deadline) throw new CliFailure(`timed out after ${opts.timeout}s waiting for backup ${b.id} (last seen ${b.status}); it goes on in the background`);
          await new Promise((r) => setTimeout(r, ctx.pollIntervalMs));
          b = ((await api.backups('GET', b.id)) as { backup: BackupView }).backup;
        }
        if (b.status === 'FAILED') throw new CliFailure(`backup ${b.id} FAILED: ${b.fail_reason ?? 'see the operation'}`);
      }
      ctx.out(opts.json ? json(b) : backupTable(b, ctx.width));
    });

  program
    .command('backup-list')
    .description('Lists the backups.')
    .option('--instance <id>', "only this instance's backups")
    .option('--json', 'print the API JSON only')
    .action(async (opts: { instance?: string; json?: boolean }) => {
      const query = opts.instance ? `?instance_id=${encodeURIComponent(opts.instance)}` : '';
      const { backups } = (await ctx.api().backups('GET', undefined, undefined, query)) as { backups: BackupView[] };
      if (opts.json) return ctx.out(json(backups));
      const rows = backups.map((b) => [b.id, b.instance_id, b.name, b.status, b.size === null ? '' : String(b.size), b.updated]);
      ctx.out(listTable(['ID', 'Instance ID', 'Name', 'Status', 'Size (GB)', 'Updated'], rows, ctx.width));
    });

  program
    .command('backup-show')
    .description('Shows a backup.')
    .argument('<backup>', 'ID of the backup')
    .option('--json', 'print the API JSON only')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { backup: b } = (await ctx.api().backups('GET', id)) as { backup: BackupView };
      ctx.out(opts.json ? json(b) : backupTable(b, ctx.width));
    });

  program
    .command('backup-delete')
    .description('Deletes a backup and its snapshot (refused while it is being created).')
    .argument('<backup>', 'ID of the backup')
    .action(async (id: string) => {
      await ctx.api().backups('DELETE', id);
    });
}
