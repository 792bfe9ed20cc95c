// trove dr-enable / dr-disable: a zone profile's DR replica for a running instance (the
// API's enableDr), and its removal. `show` then says which profile the set follows and
// where each member is.
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { json, propertyTable } from '../format';

const asText = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));

export function registerDrCommands(program: Command, ctx: CliContext): void {
  const print = (answer: Record<string, unknown>, asJson?: boolean) =>
    ctx.out(asJson ? json(answer) : propertyTable(Object.fromEntries(Object.entries(answer).map(([k, v]) => [k, asText(v)])), ctx.width));

  program
    .command('dr-enable')
    .description("Adds a zone profile's DR replica to a running instance (no write outage) and has its set follow the profile.")
    .argument('<instance>', 'ID or name of the instance (a replication set\'s source or a standalone instance)')
    .requiredOption('--profile <profile>', 'ID or name of the zone profile')
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: { profile: string; json?: boolean }) => print(await ctx.api().dr('POST', ref, opts.profile), opts.json));

  program
    .command('dr-disable')
    .description('Deletes the DR replica of the instance\'s set and stops following its zone profile.')
    .argument('<instance>', 'ID or name of the set\'s source')
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: { json?: boolean }) => print(await ctx.api().dr('DELETE', ref), opts.json));
}
