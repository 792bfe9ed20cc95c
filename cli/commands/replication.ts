// Replication commands: replicate (the seed spec's action) and detach_replication
// (troveclient's name; detach-replica is the shorter alias).
import type { Command } from 'commander';
import type { InstanceView } from '../api-client';
import { CliFailure, parseBoolean, parseWholeNumber, type CliContext } from '../context';
import { json } from '../format';
import { finishReplicas } from '../replicas';
import { waitForInstance } from '../wait';
import { addWaitOptions, printInstance } from './instances';

interface ReplicateOptions {
  readOnly: boolean;
  name?: string;
  flavor?: string;
  size?: number;
  availability_zone?: string;
  tls?: boolean;
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

/** Detach is over once the replica stands alone and its detach operation has ended. */
const detached = (v: InstanceView) => !v.replica_of && !v.operation;

/** Follows a detach (detach_replication, update --detach-replica-source) until the replica stands alone. */
export async function waitDetached(ctx: CliContext, id: string, timeoutSeconds: number): Promise<InstanceView> {
  const result = await waitForInstance({ api: ctx.api(), id, until: detached, intervalMs: ctx.pollIntervalMs, timeoutMs: timeoutSeconds * 1000, log: ctx.err });
  if (!result.ok) throw new CliFailure(result.message);
  return result.instance!;
}

export function registerReplicationCommands(program: Command, ctx: CliContext): void {
  addWaitOptions(
    program
      .command('replicate')
      .description('Creates read replicas of an instance (each gets <name>-1, <name>-2... when there are several).')
      .argument('<master>', 'ID or name of the source instance')
      .argument('<count>', 'number of replicas to create', parseWholeNumber('count', 1))
      .option('--read-only <bool>', 'whether the replicas refuse writes: true or false', parseBoolean, true)
      .option('--name <name>', 'name of the replica(s) (default: <master name>-replica-1, -2...)')
      .option('--flavor <flavor>', 'flavor ID of the replicas (default: the source flavor)')
      .option('--size <GB>', 'volume size of the replicas in GB (default: the source size)', parseWholeNumber('size', 1))
      .option('--availability_zone <az>', 'availability zone of the replicas')
      .option('--tls', "replicate over verified TLS from the first replica on (a set with no replica yet, or already TLS)"),
  )
    .option('--json', 'print the API JSON only')
    .action(async (master: string, count: number, opts: ReplicateOptions) => {
      // Only what was given goes into the template: the API fills the rest from the source.
      const instance: Record<string, unknown> = {};
      if (opts.name !== undefined) instance.name = opts.name;
      if (opts.flavor !== undefined) instance.flavorRef = opts.flavor;
      if (opts.size !== undefined) instance.volume = { size: opts.size };
      if (opts.availability_zone !== undefined) instance.availability_zone = opts.availability_zone;
      const answer = await ctx.api().replicate(master, { count, instance, topology: { read_only: opts.readOnly }, ...(opts.tls ? { replication: { tls: true } } : {}) });
      await finishReplicas(ctx, answer, opts);
    });

  addWaitOptions(
    program
      .command('detach_replication')
      .alias('detach-replica')
      .description('Detaches a replica from its source: it stops replicating and becomes a standalone, writable instance.')
      .argument('<replica>', 'ID or name of the replica'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: { wait?: boolean; timeout: number; json?: boolean }) => {
      const api = ctx.api();
      // Poll by id, as delete does: the reference given may be a name.
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      const answer = await api.detachReplica(id);
      if (!opts.wait) {
        if (opts.json) return ctx.out(json(answer));
        return ctx.out(`Request to detach replica ${ref} has been accepted (operation ${answer.operation?.id ?? 'unknown'}).`);
      }
      printInstance(ctx, await waitDetached(ctx, id, opts.timeout), !!opts.json);
    });
}
