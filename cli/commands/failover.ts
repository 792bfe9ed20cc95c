// Failover commands (troveclient names): promote-to-replica-source (planned switchover),
// eject-replica-source (failover off a failed source), rebuild-as-replica (the fenced former
// source rejoins as a replica) and the set's replication-settings.
import { Option, type Command } from 'commander';
import { ApiError, type InstanceView, type ReplicationSettingsPatch, type ReplicationSettingsView, type TroveApi } from '../api-client';
import { CliFailure, parseOnOff, parseWholeNumber, type CliContext } from '../context';
import { json, propertyTable } from '../format';
import { operationCameAndWent, waitForInstance } from '../wait';
import { accepted, addWaitOptions, printInstance, type WaitJsonOptions } from './instances';

const idOf = (v: unknown) => (v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : typeof v === 'string' ? v : undefined);

/** Promote is over once the instance takes writes on its own: no source, idle, ACTIVE. */
const promoted = (v: InstanceView) => v.status === 'ACTIVE' && !v.replica_of && !v.operation;

/** The eject's success leaves the old source in ERROR with a "fenced by ..." fault (a failed eject's fault starts "eject failed"). */
const fenced = (v: InstanceView) => /^fenced by /.test(String((v.fault as { message?: unknown } | undefined)?.message ?? ''));

/** A rebuild is over once the former source replicates again: a replica, idle, ACTIVE. */
const rebuilt = (v: InstanceView) => v.status === 'ACTIVE' && Boolean(v.replica_of) && !v.operation;

const faultMessage = (v: InstanceView) => String((v.fault as { message?: unknown } | undefined)?.message ?? '');

/** The rebuild's own fault (refused after the 202, or failed); the eject's "fenced by" is not it. */
const rebuildFailed = (v: InstanceView) => /^rebuild as replica /.test(faultMessage(v));

/**
 * Polls until `reached`, or until the operation shown on the instance has come and gone
 * without reaching it (refused, or failed and undone).
 */
async function waitForSetChange(
  ctx: CliContext,
  id: string,
  timeoutSeconds: number,
  reached: (v: InstanceView) => boolean,
  endsInError?: (v: InstanceView) => boolean,
): Promise<{ instance: InstanceView; reached: boolean }> {
  // No `before`: a set's operation may take only the set's lock, leaving `updated` as it was.
  const endedWithout = operationCameAndWent();
  const result = await waitForInstance({
    api: ctx.api(),
    id,
    until: (v) => reached(v) || endedWithout(v),
    endsInError,
    intervalMs: ctx.pollIntervalMs,
    timeoutMs: timeoutSeconds * 1000,
    log: ctx.err,
  });
  if (!result.ok) throw new CliFailure(result.message);
  const instance = result.instance!;
  return { instance, reached: reached(instance) || !!endsInError?.(instance) };
}

/** The former replica that now has no source; a vanished one is skipped. */
async function newSourceAmong(api: TroveApi, ids: string[]): Promise<InstanceView | undefined> {
  for (const id of ids) {
    try {
      const v = await api.getInstance(id);
      if (!v.replica_of) return v;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
  return undefined;
}

const onOff = (b: unknown) => (b === true ? 'on' : b === false ? 'off' : String(b));

function settingsProps(s: ReplicationSettingsView): Record<string, string> {
  const last = s.last_failover;
  return {
    replication_set_id: String(s.replication_set_id),
    auto_failover: onOff(s.auto_failover),
    semi_sync: onOff(s.semi_sync),
    tls: onOff(s.tls ?? false),
    quiet_period: String(s.quiet_period),
    failover_after: String(s.failover_after),
    last_failover: last ? `at ${last.at} by ${last.operation} (${last.acknowledged ? 'acknowledged' : 'not acknowledged'})` : '',
  };
}

interface SettingsOptions {
  autoFailover?: boolean;
  semiSync?: boolean;
  quietPeriod?: number;
  failoverAfter?: number;
  acknowledgeFailover?: boolean;
  tls?: boolean;
  renewCertificates?: boolean;
  rotateCa?: boolean;
  json?: boolean;
}

export function registerFailoverCommands(program: Command, ctx: CliContext): void {
  addWaitOptions(
    program
      .command('promote-to-replica-source')
      .description('Promotes a replica to replica source (switchover): the old source and the other replicas then replicate from it.')
      .argument('<replica>', 'ID or name of the replica'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions) => {
      const api = ctx.api();
      // Poll by id: the reference given may be a name.
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      const answer = await api.promoteToReplicaSource(id);
      const line = `Request to promote instance ${ref} to replica source has been accepted (operation ${answer.operation?.id ?? 'unknown'}).`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      const end = await waitForSetChange(ctx, id, opts.timeout, promoted);
      if (!end.reached) throw new CliFailure(`the promote did not happen (operation ${answer.operation?.id ?? 'unknown'} ended; instance ${ref} is still a replica)`);
      printInstance(ctx, end.instance, !!opts.json);
    });

  addWaitOptions(
    program
      .command('eject-replica-source')
      .description('Ejects a failed replica source (failover): it is fenced and its most advanced replica takes over. A healthy source is refused unless --force.')
      .argument('<source>', 'ID or name of the replica source')
      .option('--force', 'eject even a source that still looks healthy'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions & { force?: boolean }) => {
      const api = ctx.api();
      // The replicas are noted before the eject: afterwards the old source has none.
      const before = opts.wait ? await api.getInstance(ref) : undefined;
      const answer = await api.ejectReplicaSource(before?.id ?? ref, !!opts.force);
      const operation = answer.operation?.id ?? 'unknown';
      const line = `Request to eject replica source ${ref} has been accepted (operation ${operation}).`;
      if (!before) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      const formerReplicas = Array.isArray(before.replicas) ? before.replicas : Array.isArray(before.replicates_to) ? before.replicates_to : [];
      const end = await waitForSetChange(ctx, before.id, opts.timeout, () => false, fenced);
      if (!end.reached) {
        // The workflow refuses a healthy source; with --force only a failure is left to explain it.
        throw new CliFailure(opts.force ? `the eject did not happen (operation ${operation} failed)` : 'the eject did not happen (the source may be healthy; use --force)');
      }
      const newSource = await newSourceAmong(api, formerReplicas.map(idOf).filter((x): x is string => !!x));
      if (opts.json) return ctx.out(json({ fenced: end.instance, new_source: newSource ?? null }));
      ctx.out(`instance ${ref} was fenced; new source: ${newSource?.id ?? 'unknown'}`);
    });

  addWaitOptions(
    program
      .command('rebuild-as-replica')
      .description(
        "Rebuilds a former source that a failover fenced as a replica of its set's source, from a fresh snapshot. The transactions it had that the source lacks (errant GTIDs) are reported (show: errant_gtids) and discarded.",
      )
      .argument('<instance>', 'ID or name of the fenced former source'),
  )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: WaitJsonOptions) => {
      const api = ctx.api();
      const id = opts.wait ? (await api.getInstance(ref)).id : ref;
      const answer = await api.rebuildAsReplica(id);
      const operation = answer.operation?.id ?? 'unknown';
      const line = `Request to rebuild instance ${ref} as a replica has been accepted (operation ${operation}).`;
      if (!opts.wait) return opts.json ? ctx.out(json(answer)) : ctx.out(line);
      accepted(ctx, line, opts);
      // Fenced, it shows ERROR until the operation begins (then BUILD): wait for that first.
      const deadline = Date.now() + opts.timeout * 1000;
      for (let v = await api.getInstance(id); v.status === 'ERROR' && !v.operation && !rebuildFailed(v); v = await api.getInstance(id)) {
        if (Date.now() > deadline) throw new CliFailure(`timed out after ${opts.timeout}s waiting for operation ${operation} to begin`);
        await new Promise((r) => setTimeout(r, ctx.pollIntervalMs));
      }
      const end = await waitForSetChange(ctx, id, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)), rebuilt, rebuildFailed);
      if (!rebuilt(end.instance)) throw new CliFailure(`the rebuild did not happen (operation ${operation}): ${faultMessage(end.instance) || 'see the operation'}`);
      printInstance(ctx, end.instance, !!opts.json);
    });

  program
    .command('replication-settings')
    .description('Shows or changes the failover settings of the replication set an instance belongs to (no option: show).')
    .argument('<instance>', 'ID or name of any member of the replication set')
    .option('--auto-failover <on|off>', 'eject a failed source automatically', parseOnOff)
    .option('--semi-sync <on|off>', 'semi-synchronous replication: a commit waits for a replica to receive it', parseOnOff)
    .option('--quiet-period <seconds>', 'after an automatic failover, no other one for this long unless it is acknowledged', parseWholeNumber('quiet-period', 0))
    .option('--failover-after <seconds>', 'how long the source must look failed before an automatic failover', parseWholeNumber('failover-after', 1))
    .option('--acknowledge-failover', 'acknowledge the last automatic failover, allowing another within the quiet period')
    .option('--tls <on>', 'replicate over TLS, verifying certificates from the set\'s own CA (starts enableReplicationTls; there is no off)', parseOnOff)
    .addOption(new Option('--renew-certificates', "re-issue every member's TLS certificate from the set's CA and reload it (FLUSH SSL; no restart, links untouched)").conflicts('tls'))
    .addOption(
      new Option('--rotate-ca', "give the set a new TLS CA: members trust both, get certificates from the new one, then trust it alone (FLUSH SSL; no restart, links untouched)").conflicts(['tls', 'renewCertificates']),
    )
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: SettingsOptions) => {
      // Only what was given is sent: PATCH leaves the other settings as they are.
      const patch: ReplicationSettingsPatch = {};
      if (opts.autoFailover !== undefined) patch.auto_failover = opts.autoFailover;
      if (opts.semiSync !== undefined) patch.semi_sync = opts.semiSync;
      if (opts.quietPeriod !== undefined) patch.quiet_period = opts.quietPeriod;
      if (opts.failoverAfter !== undefined) patch.failover_after = opts.failoverAfter;
      if (opts.acknowledgeFailover) patch.acknowledge_failover = true;
      if (opts.tls !== undefined) patch.tls = opts.tls;
      if (opts.renewCertificates) patch.tls = { renew: true };
      if (opts.rotateCa) patch.tls = { rotate_ca: true };
      const api = ctx.api();
      const settings = Object.keys(patch).length ? await api.updateReplicationSettings(ref, patch) : await api.getReplicationSettings(ref);
      ctx.out(opts.json ? json(settings) : propertyTable(settingsProps(settings), ctx.width));
    });
}
