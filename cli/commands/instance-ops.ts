// Instance maintenance (troveclient names): restart, resize-volume, resize-instance (alias
// resize-flavor), update (rename, detach from the replica source) and reset-status.
import { Option, type Command } from 'commander';
import type { InstanceView, OperationRef } from '../api-client';
import { CliFailure, parseWholeNumber, type CliContext } from '../context';
import { json } from '../format';
import { operationCameAndWent, waitForInstance } from '../wait';
import { accepted, addWaitOptions, printInstance, type WaitJsonOptions } from './instances';
import { waitDetached } from './replication';

const flavorOf = (v: InstanceView) => String((v.flavor as { id?: unknown } | undefined)?.id ?? '?');
const sizeOf = (v: InstanceView) => (v.volume as { size?: unknown } | undefined)?.size;

interface Maintenance {
  /** The accepted line's words: "restart instance db1". */
  request: string;
  start: (id: string) => Promise<{ operation?: OperationRef }>;
  /** What the instance shows instead of the operation's result, or undefined when it shows it. */
  missing?: (v: InstanceView) => string | undefined;
}

/** Starts an operation on one instance and, with --wait, follows it until it has come and gone. */
async function maintain(ctx: CliContext, ref: string, opts: WaitJsonOptions, m: Maintenance): Promise<void> {
  const api = ctx.api();
  // Poll by id, as a name may change meanwhile; the view from before the request tells an
  // operation that already ended from one that has not begun (see operationCameAndWent).
  const before = opts.wait ? await api.getInstance(ref) : undefined;
  const answer = await m.start(before?.id ?? ref);
  const operation = answer.operation?.id ?? 'unknown';
  const line = `Request to ${m.request} has been accepted (operation ${operation}).`;
  if (!before) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
  accepted(ctx, line, opts);
  const result = await waitForInstance({
    api,
    id: before.id,
    until: operationCameAndWent(before),
    intervalMs: ctx.pollIntervalMs,
    timeoutMs: opts.timeout * 1000,
    log: ctx.err,
  });
  if (!result.ok) throw new CliFailure(result.message);
  const after = result.instance!;
  // Success clears the fault, so one left behind says why the operation failed (a resize
  // reverted, replicas that did not resume) although the instance is ACTIVE.
  const fault = (after.fault as { message?: unknown } | undefined)?.message;
  if (fault) throw new CliFailure(String(fault));
  const missing = m.missing?.(after);
  if (missing) throw new CliFailure(`the resize did not happen (operation ${operation} ended; ${missing})`);
  printInstance(ctx, after, !!opts.json);
}

interface UpdateOptions extends WaitJsonOptions {
  name?: string;
  detachReplicaSource?: boolean;
  detach_replica_source?: boolean;
}

export function registerInstanceOpsCommands(program: Command, ctx: CliContext): void {
  addWaitOptions(
    program
      .command('restart')
      .description('Restarts the database of an instance (the server keeps running, the data stays).')
      .argument('<instance>', 'ID or name of the instance'),
  )
    .option('--json', 'print the API JSON only')
    .action((ref: string, opts: WaitJsonOptions) => maintain(ctx, ref, opts, { request: `restart instance ${ref}`, start: (id) => ctx.api().restartInstance(id) }));

  addWaitOptions(
    program
      .command('resize-volume')
      .description("Grows the volume of an instance (a source's smaller replicas grow with it).")
      .argument('<instance>', 'ID or name of the instance')
      .argument('<size>', 'new size of the volume in GB, larger than the current one', parseWholeNumber('size', 1)),
  )
    .option('--json', 'print the API JSON only')
    .action((ref: string, size: number, opts: WaitJsonOptions) =>
      maintain(ctx, ref, opts, {
        request: `resize the volume of instance ${ref} to ${size} GB`,
        start: (id) => ctx.api().resizeInstance(id, { volume: { size } }),
        missing: (v) => (sizeOf(v) === size ? undefined : `instance ${ref} still has a ${String(sizeOf(v))} GB volume`),
      }),
    );

  addWaitOptions(
    program
      .command('resize-instance')
      .alias('resize-flavor')
      .description('Resizes an instance to a new flavor (reverted if the database does not come back).')
      .argument('<instance>', 'ID or name of the instance')
      .argument('<flavor>', 'ID of the new flavor'),
  )
    .option('--json', 'print the API JSON only')
    .action((ref: string, flavor: string, opts: WaitJsonOptions) =>
      maintain(ctx, ref, opts, {
        request: `resize instance ${ref} to flavor ${flavor}`,
        start: (id) => ctx.api().resizeInstance(id, { flavorRef: flavor }),
        // The API takes a flavor's URL too, and shows its id.
        missing: (v) => (flavorOf(v) === flavor.split('/').pop() ? undefined : `instance ${ref} still has flavor ${flavorOf(v)}`),
      }),
    );

  addWaitOptions(
    program
      .command('update')
      .description('Renames an instance, or detaches a replica from its source, or both.')
      .argument('<instance>', 'ID or name of the instance')
      .option('--name <name>', 'new name of the instance')
      .option('--detach-replica-source', 'detach the replica from its source: it becomes a standalone, writable instance')
      // troveclient's other spelling of it.
      .addOption(new Option('--detach_replica_source').hideHelp()),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: UpdateOptions, cmd: Command) => {
      const detach = !!(opts.detachReplicaSource || opts.detach_replica_source);
      if (opts.name === undefined && !detach) {
        cmd.error('error: nothing to update: give --name <name>, --detach-replica-source, or both', { exitCode: 2, code: 'trove.usage' });
      }
      const api = ctx.api();
      // Resolve to the id before a rename: polling by the old name would find nothing.
      const id = opts.wait && detach ? (await api.getInstance(ref)).id : ref;
      const answer = await api.updateInstance(id, { ...(opts.name !== undefined ? { name: opts.name } : {}), ...(detach ? { replica_of: null } : {}) });
      // A rename alone is done at once, and answers the renamed instance.
      if (!detach && answer.instance) return printInstance(ctx, answer.instance, !!opts.json);
      if (!detach) return ctx.out(opts.json ? json(answer) : `Instance ${ref} renamed to ${opts.name}.`);
      const renamed = opts.name !== undefined ? `rename instance ${ref} to ${opts.name} and detach it from its source` : `detach replica ${ref}`;
      const line = `Request to ${renamed} has been accepted (operation ${answer.operation?.id ?? 'unknown'}).`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      printInstance(ctx, await waitDetached(ctx, id, opts.timeout), !!opts.json);
    });

  program
    .command('reset-status')
    .description("Resets an instance's status: here only checks that no operation holds it (409 names one).")
    .argument('<instance>', 'ID or name of the instance')
    .action(async (ref: string) => {
      await ctx.api().resetStatus(ref);
      ctx.out(`Request to reset the status of instance ${ref} has been accepted (no operation holds it: nothing to reset).`);
    });
}
