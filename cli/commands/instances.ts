// Instance commands: create (also of replicas), list, show, delete (troveclient syntax).
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { InstanceView } from '../api-client';
import { CliFailure, parseSeconds, parseWholeNumber, type CliContext } from '../context';
import { fitTable, flattenView, instanceTables, json, naturalWidth, type Column } from '../format';
import { finishReplicas } from '../replicas';
import { waitForInstance } from '../wait';

interface UserSpec {
  name: string;
  password: string;
}

/** USER:PASS, split on the first colon so passwords may contain colons. */
function collectUser(value: string, previous: UserSpec[] | undefined): UserSpec[] {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError('expected USER:PASS with a non-empty user and password.');
  return [...(previous ?? []), { name: value.slice(0, at), password: value.slice(at + 1) }];
}

const nonEmpty = (v: unknown) => Array.isArray(v) && v.length > 0;

// replicates_from/replicates_to are on every view ([] when standalone); replica_of/replicas
// only when set. Either pair is enough, so older and newer API answers both get a role.
// A side of a master-master pair is shown as the API names it (active, passive).
function role(v: InstanceView): string {
  if (v.role === 'active' || v.role === 'passive') return `${v.role} (pair)`;
  if (v.replica_of || nonEmpty(v.replicates_from)) return 'replica';
  if (nonEmpty(v.replicas) || nonEmpty(v.replicates_to)) return 'primary';
  return '';
}

interface CreateOptions {
  size: number;
  databases?: string[];
  users?: UserSpec[];
  availability_zone?: string;
  locality?: string;
  drProfile?: string;
  pair?: boolean;
  pairName?: string;
  replica_of?: string;
  slave_of?: string;
  replica_count?: number;
  backup?: string;
  tls?: boolean;
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

/** A replica copies its source's data and accounts, so the API refuses both for replicas. */
const notForReplicas = (option: Option) => option.conflicts(['replica_of', 'slave_of']);

/** The instance's own fields as a Property/Value table, then its set's topology and health tables. */
export function printInstance(ctx: CliContext, v: InstanceView, asJson: boolean): void {
  ctx.out(asJson ? json(v) : instanceTables(v, ctx.width));
}

// Shared by every command that takes --wait (replicate, detach, promote, eject...).
export function addWaitOptions(cmd: Command): Command {
  return cmd
    .option('--wait', 'follow the operation until it ends, printing its progress to stderr')
    .option('--timeout <seconds>', 'give up waiting after this many seconds', parseSeconds, 900);
}

export interface WaitJsonOptions {
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

/** With --json, stdout holds only JSON, so the accepted line moves to stderr. */
export function accepted(ctx: CliContext, line: string, opts: WaitJsonOptions): void {
  if (opts.json) ctx.err(line);
  else ctx.out(line);
}

export async function waitActive(ctx: CliContext, initial: InstanceView, timeoutSeconds: number): Promise<InstanceView> {
  const result = await waitForInstance({
    api: ctx.api(),
    id: initial.id,
    until: 'active',
    intervalMs: ctx.pollIntervalMs,
    timeoutMs: timeoutSeconds * 1000,
    log: ctx.err,
    initial,
  });
  if (!result.ok) throw new CliFailure(result.message);
  return result.instance!;
}

/**
 * create --dr-profile --wait: done when the set follows the profile (enableDr records it last,
 * once the DR replica is built) and no operation runs; a fault the build left ends the wait.
 */
export const drSetReady = (v: InstanceView): 'ready' | 'failed' | 'waiting' =>
  (v.fault as { message?: string } | undefined)?.message ? 'failed' : v.status === 'ACTIVE' && v.zone_profile && !v.operation ? 'ready' : 'waiting';

async function waitDrReady(ctx: CliContext, initial: InstanceView, timeoutSeconds: number): Promise<InstanceView> {
  const result = await waitForInstance({ api: ctx.api(), id: initial.id, until: (v) => drSetReady(v) !== 'waiting', intervalMs: ctx.pollIntervalMs, timeoutMs: timeoutSeconds * 1000, log: ctx.err, initial });
  if (!result.ok) throw new CliFailure(result.message);
  if (drSetReady(result.instance!) === 'failed') throw new CliFailure((result.instance!.fault as { message: string }).message);
  return result.instance!;
}

export function registerInstanceCommands(program: Command, ctx: CliContext): void {
  addWaitOptions(
    program
      .command('create')
      .description('Creates a new instance.')
      .argument('<name>', 'name of the instance')
      .argument('<flavor>', 'flavor ID')
      .requiredOption('--size <GB>', 'size of the instance volume in GB', parseWholeNumber('size', 1))
      .addOption(notForReplicas(new Option('--databases <name...>', 'databases to create on the instance')))
      .addOption(notForReplicas(new Option('--users <USER:PASS...>', 'users to create, with access to all of --databases').argParser(collectUser)))
      .option('--availability_zone <az>', 'availability zone of the instance')
      // troveclient's rule: replicas join their source's server group.
      .addOption(notForReplicas(new Option('--locality <policy>', "server-group policy of the instance and the replicas it will have").choices(['affinity', 'anti-affinity'])))
      // troveclient's --backup: Trove's restorePoint {backupRef}; the databases and users are the backup's.
      .addOption(notForReplicas(new Option('--backup <id>', 'build the instance from this backup (its data, databases and users)').conflicts(['databases', 'users'])))
      .addOption(notForReplicas(new Option('--dr-profile <profile>', "zone profile: the instance in its primary zone and, from one snapshot, a replica in its DR zone").conflicts(['availability_zone', 'locality'])))
      .addOption(notForReplicas(new Option('--pair', 'a master-master pair (needs --locality anti-affinity): the instance, then its second master from one snapshot on another host of its zone').conflicts(['drProfile'])))
      .addOption(notForReplicas(new Option('--pair-name <name>', "with --pair: the second master's name")))
      .addOption(new Option('--replica_of <id|name>', 'create read replica(s) of this instance instead').conflicts('slave_of'))
      .option('--slave_of <id|name>', 'older name of --replica_of')
      .option('--replica_count <N>', 'number of replicas to create (with --replica_of; default 1)', parseWholeNumber('replica_count', 1))
      .option('--tls', 'with --replica_of: replicate over verified TLS from the first replica on'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (name: string, flavor: string, opts: CreateOptions, cmd: Command) => {
      const source = opts.replica_of ?? opts.slave_of;
      if (source === undefined && opts.replica_count !== undefined) {
        cmd.error("error: option '--replica_count <N>' needs --replica_of <id|name>", { exitCode: 2, code: 'trove.usage' });
      }
      if (source === undefined && opts.tls) cmd.error("error: option '--tls' needs --replica_of <id|name> (a set's TLS starts with its first replica)", { exitCode: 2, code: 'trove.usage' });
      if (source !== undefined) {
        // --slave_of is sent as replica_of too: one spelling on the wire, the API takes both.
        const body: Record<string, unknown> = { name, replica_of: source, flavorRef: flavor, volume: { size: opts.size } };
        if (opts.replica_count !== undefined) body.replica_count = opts.replica_count;
        if (opts.tls) body.replication = { tls: true };
        if (opts.availability_zone) body.availability_zone = opts.availability_zone;
        return finishReplicas(ctx, await ctx.api().createReplicas(body), opts);
      }
      const databases = (opts.databases ?? []).map((db) => ({ name: db }));
      const body: Record<string, unknown> = { name, flavorRef: flavor, volume: { size: opts.size } };
      if (opts.availability_zone) body.availability_zone = opts.availability_zone;
      if (opts.locality) body.locality = opts.locality;
      if (opts.backup) body.restorePoint = { backupRef: opts.backup };
      if (opts.drProfile) body.dr_profile = opts.drProfile;
      if (opts.pairName && !opts.pair) cmd.error("error: option '--pair-name <name>' needs --pair", { exitCode: 2, code: 'trove.usage' });
      if (opts.pair) body.replication = { mode: 'master-master', ...(opts.pairName ? { peer_name: opts.pairName } : {}) };
      if (databases.length) body.databases = databases;
      if (opts.users?.length) body.users = opts.users.map((u) => ({ name: u.name, password: u.password, databases }));
      const created = await ctx.api().createInstance(body);
      if (opts.wait && opts.drProfile) return printInstance(ctx, await waitDrReady(ctx, created, opts.timeout), !!opts.json);
      printInstance(ctx, opts.wait ? await waitActive(ctx, created, opts.timeout) : created, !!opts.json);
    });

  program
    .command('list')
    .description('Lists all the instances.')
    .option('--json', 'print the API JSON only')
    .action(async (opts: { json?: boolean }) => {
      const instances = await ctx.api().listInstances();
      if (opts.json) return ctx.out(json(instances));
      const full = instances.map((v) => {
        const f = flattenView(v);
        return [v.id, v.name, f.datastore ?? '', f.datastore_version ?? '', v.status, f.flavor ?? '', f.volume ?? '', role(v)];
      });
      // Ids stay whole (they are what commands take) and names wrap before anything is cut;
      // when all eight columns cannot fit, the datastore pair goes (`show` has it).
      const all: Column[] = [{ head: 'ID', min: 36 }, { head: 'Name', min: 12 }, ...['Datastore', 'Datastore Version', 'Status', 'Flavor ID', 'Size', 'Role'].map((head) => ({ head }))];
      const keep = naturalWidth(all, full) <= ctx.width ? all.map((_, i) => i) : [0, 1, 4, 5, 6, 7];
      ctx.out(fitTable(keep.map((i) => all[i]!), full.map((row) => keep.map((i) => row[i]!)), ctx.width));
    });

  program
    .command('show')
    .description('Shows details of an instance.')
    .argument('<instance>', 'ID or name of the instance')
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: { json?: boolean }) => {
      printInstance(ctx, await ctx.api().getInstance(ref), !!opts.json);
    });

  addWaitOptions(program.command('delete').description('Deletes an instance.').argument('<instance>', 'ID or name of the instance')).action(
    async (ref: string, opts: { wait?: boolean; timeout: number }) => {
      const api = ctx.api();
      // Resolve a name to its id first: once deletion starts, the name may be reused.
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      await api.deleteInstance(id);
      ctx.out(`Request to delete instance ${ref} has been accepted.`);
      if (!opts.wait) return;
      const result = await waitForInstance({ api, id, until: 'deleted', intervalMs: ctx.pollIntervalMs, timeoutMs: opts.timeout * 1000, log: ctx.err });
      if (!result.ok) throw new CliFailure(result.message);
      ctx.err(`instance ${ref} deleted`);
    },
  );
}
