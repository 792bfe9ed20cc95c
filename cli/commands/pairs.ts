// Master-master pair commands: create-pair (the instance becomes the active side of a new
// pair) and switch-active (the side named takes writes).
import type { Command } from 'commander';
import type { InstanceView } from '../api-client';
import { CliFailure, type CliContext } from '../context';
import { json } from '../format';
import { operationCameAndWent, waitForInstance } from '../wait';
import { accepted, addWaitOptions, printInstance, type WaitJsonOptions } from './instances';

async function waitFor(ctx: CliContext, id: string, timeoutSeconds: number, reached: (v: InstanceView) => boolean): Promise<InstanceView> {
  const endedWithout = operationCameAndWent();
  const result = await waitForInstance({ api: ctx.api(), id, until: (v) => reached(v) || endedWithout(v), intervalMs: ctx.pollIntervalMs, timeoutMs: timeoutSeconds * 1000, log: ctx.err });
  if (!result.ok) throw new CliFailure(result.message);
  return result.instance!;
}

const isSide = (role: string) => (v: InstanceView) => v.status === 'ACTIVE' && v.role === role && !v.operation;

export function registerPairCommands(program: Command, ctx: CliContext): void {
  addWaitOptions(
    program
      .command('create-pair')
      .description('Makes a master-master pair of an instance (created with --locality anti-affinity): its second master is built from one snapshot on another host of its zone and stays read-only until switch-active.')
      .argument('<instance>', 'ID or name of the instance (it stays the active side)')
      .option('--name <name>', 'name of the second master'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions & { name?: string }) => {
      const answer = await ctx.api().createPair(ref, opts.name);
      const line = `Request to make a pair of instance ${ref} has been accepted: its second master is ${answer.instance.name} (${answer.instance.id}), operation ${answer.operation?.id ?? 'unknown'}.`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      const end = await waitFor(ctx, answer.instance.id, opts.timeout, isSide('passive'));
      if (end.role !== 'passive') throw new CliFailure(`the pair was not made (operation ${answer.operation?.id ?? 'unknown'} ended; see the fault of ${ref})`);
      printInstance(ctx, end, !!opts.json);
    });

  addWaitOptions(program.command('break-pair').description('Breaks a master-master pair: its active side stays the source, the passive side its read-only replica.').argument('<instance>', 'ID or name of either side'))
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions) => {
      const api = ctx.api();
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      const answer = await api.breakPair(id);
      const line = `Request to break the pair of instance ${ref} has been accepted (operation ${answer.operation?.id ?? 'unknown'}).`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      const end = await waitFor(ctx, id, opts.timeout, (v) => v.status === 'ACTIVE' && !v.operation && v.role !== 'active' && v.role !== 'passive');
      if (end.role === 'active' || end.role === 'passive') throw new CliFailure(`the pair was not broken (operation ${answer.operation?.id ?? 'unknown'} ended)`);
      printInstance(ctx, end, !!opts.json);
    });

  addWaitOptions(program.command('switch-active').description('Switches the active side of a master-master pair to the side named: writes are fenced on the other side, this one catches up and opens.').argument('<instance>', 'ID or name of the passive side'))
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions) => {
      const api = ctx.api();
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      const answer = await api.switchActive(id);
      const line = `Request to make instance ${ref} the active side of its pair has been accepted (operation ${answer.operation?.id ?? 'unknown'}).`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      const end = await waitFor(ctx, id, opts.timeout, isSide('active'));
      if (end.role !== 'active') throw new CliFailure(`the switch did not happen (operation ${answer.operation?.id ?? 'unknown'} ended; ${ref} is still passive)`);
      printInstance(ctx, end, !!opts.json);
    });

  addWaitOptions(
    program
      .command('rejoin-pair')
      .description("Brings a pair's side that a failover lost back as the passive side: its errant GTIDs are reported, then it is rebuilt from a fresh snapshot of the active side and the two replicate both ways again.")
      .argument('<instance>', 'ID or name of the lost side (ERROR, fenced)'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions) => {
      const api = ctx.api();
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      const answer = await api.rejoinPair(id);
      const line = `Request to bring instance ${ref} back as the passive side of its pair has been accepted (operation ${answer.operation?.id ?? 'unknown'}).`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      const end = await waitFor(ctx, id, opts.timeout, isSide('passive'));
      if (end.role !== 'passive') throw new CliFailure(`the side did not rejoin its pair (operation ${answer.operation?.id ?? 'unknown'} ended; see the fault of ${ref})`);
      printInstance(ctx, end, !!opts.json);
    });
}
