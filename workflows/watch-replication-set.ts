// watchReplicationSet (0.2.0): a replication set's monitor that costs nothing while nothing
// happens. The polling runs inside one long-running activity (watchSet, on the
// orchestrator) that heartbeats and completes only when this workflow must act: start an
// automatic failover or a relay's recovery, make members' monitoring accounts or fix
// semi-sync roles, a change of the set, or the hourly checkpoint. A healthy set's history
// is a handful of events an hour. Same workflow id as monitorReplicationSet, which
// continues as new into this type; the same judgement (lib/monitor-poll.ts).
import { continueAsNew, defineQuery, ParentClosePolicy, proxyActivities, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { WatchActivities, WatchOutcome } from '../activities/control/watch';
import { NON_RETRYABLE } from '../lib/errors';
import { semiSyncKey, type PollMemory } from '../lib/monitor-poll';
import { watchInput, type WatchSetInput } from '../lib/schemas';
import { guestUpkeep, parseInput, registry, tagReplicationSet } from './common';
import { fixSemiSync, healthQuery, renderHealth, startAutomaticFailover, startRelayRecoveries, type MonitorState } from './monitor-replication-set';
import { operationMetadata } from '../lib/summaries';
import { enableReplicationTls } from './enable-replication-tls';
import { Progress } from './progress';

/** An automatic certificate renewal is started at most this often (one that failed is tried again after it). */
const RENEWAL_QUIET_MS = 300_000;
/** Semi-sync roles a member refused (its agent down) are asked again after this long, not every poll. */
const UPKEEP_QUIET_MS = 30_000;
/** A member's monitoring account is tried again after 5 s (a replica being built answers within seconds), doubling up to 5 min for a member that keeps refusing. */
const accountRetryMs = (failures: number) => Math.min(300_000, 5_000 * 2 ** Math.max(0, failures - 1));

/**
 * The watch: a dead worker's watch is failed by a survivor once the worker has been absent
 * from the registry for 2 s (workers/watch-handover.ts) and retried after the first retry
 * interval (the issue's goal: every set watched again within 5 s). The heartbeat timeout is
 * only the fallback when the hand-over cannot run: long, so few heartbeats reach the server
 * (each is a request to it, and a billed action on Temporal Cloud).
 * It retries for as long as it takes (a registry that is down): its attempts are not events.
 */
function watcher(checkpointSeconds: number, heartbeatSeconds: number) {
  return proxyActivities<WatchActivities>({
    startToCloseTimeout: `${checkpointSeconds + 300}s`,
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

/** certificateRenewals: the automatic certificate renewals this run started (their workflow ids). */
export type WatchState = MonitorState & { lastWake: WatchOutcome['kind'] | null; certificateRenewals: string[] };
export const watchStateQuery = defineQuery<WatchState>('watch');

export async function watchReplicationSet(raw: WatchSetInput): Promise<string> {
  const input = parseInput(watchInput, raw);
  const state: WatchState = { setId: input.setId, health: [], decision: null, automaticFailovers: [], relayRecoveries: [], lastWake: null, certificateRenewals: [] };
  const progress = new Progress('watchReplicationSet', () => `${renderHealth(state.health)}\n\n${state.decision ? `automatic failover: **${state.decision.action}** (${state.decision.reason})` : ''}`);
  // The same query as the 0.1.0 monitor's, so the API and tools that ask it need not know which type runs.
  setHandler(healthQuery, () => state);
  setHandler(watchStateQuery, () => state);
  tagReplicationSet(input.setId);
  // The operation that starts a watch has just verified the set and still holds its lock.
  if (input.waitBeforeFirstPoll) await sleep(input.pollSeconds * 1000);

  let memory: PollMemory = { sourceDownSince: input.sourceDownSince, relaysDownSince: input.relaysDownSince };
  let membership: string | null = null;
  let semiSyncQuietUntil: Record<string, string> = {};
  let accountsQuietUntil: Record<string, string> = {};
  let accountFailures: Record<string, number> = {};
  let renewalQuietUntil: string | undefined;
  const watch = watcher(input.checkpointSeconds, input.heartbeatSeconds);
  for (let round = 0; round < input.roundsPerRun; round++) {
    const o: WatchOutcome = await watch.watchSet({ setId: input.setId, pollSeconds: input.pollSeconds, membership, memory, semiSyncQuietUntil, accountsQuietUntil, ...(renewalQuietUntil ? { renewalQuietUntil } : {}), shown: state.health.map((h) => h.instanceId), checkpointSeconds: input.checkpointSeconds, leaseSeconds: input.leaseSeconds });
    state.lastWake = o.kind;
    if (o.kind === 'dissolved') {
      progress.phase('set dissolved');
      return `replication set ${input.setId} has no replicas any more`;
    }
    ({ memory, membership } = o);
    if (o.health.length) state.health = o.health;
    state.decision = o.decision;
    if (o.kind === 'failover') {
      state.automaticFailovers.push(await startAutomaticFailover(o.view, o.observedAt, 'together'));
      memory = { ...memory, sourceDownSince: null };
    } else if (o.kind === 'relays') {
      state.relayRecoveries.push(...(await startRelayRecoveries(o.view, o.dead, o.observedAt)));
    } else if (o.kind === 'upkeep') {
      if (o.accounts.length) {
        const made = new Set(await makeMonitorAccounts(o.accounts));
        // Only members still in the set are remembered.
        const inSet = (id: string) => o.health.length === 0 || o.health.some((h) => h.instanceId === id);
        accountFailures = Object.fromEntries(Object.entries(accountFailures).filter(([id]) => inSet(id) && !made.has(id)));
        for (const a of o.accounts) if (!made.has(a.instanceId)) accountFailures[a.instanceId] = (accountFailures[a.instanceId] ?? 0) + 1;
        accountsQuietUntil = Object.fromEntries([
          ...Object.entries(accountsQuietUntil).filter(([id]) => inSet(id)),
          ...o.accounts.map((a) => [a.instanceId, new Date(Date.now() + accountRetryMs(accountFailures[a.instanceId] ?? 1)).toISOString()]),
        ]);
      }
      if (o.certificatesDue?.length) {
        state.certificateRenewals.push(await startCertificateRenewal(input.setId, input.projectId, o.certificatesDue[0]!));
        renewalQuietUntil = new Date(Date.now() + RENEWAL_QUIET_MS).toISOString();
      }
      if (o.semiSyncFixes.length) {
        await fixSemiSync(o.semiSyncFixes);
        const until = new Date(Date.now() + UPKEEP_QUIET_MS).toISOString();
        semiSyncQuietUntil = Object.fromEntries([...Object.entries(semiSyncQuietUntil).filter(([, t]) => t > new Date().toISOString()), ...o.semiSyncFixes.map((f) => [semiSyncKey(f), until])]);
      }
    }
    progress.phase(!state.decision || state.decision.action === 'none' ? 'healthy' : `source trouble: ${state.decision.action}`);
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof watchReplicationSet>({ ...input, sourceDownSince: memory.sourceDownSince, relaysDownSince: memory.relaysDownSince, waitBeforeFirstPoll: false });
}

/** Renews the set's certificates (enableReplicationTls with renew), abandoned to run on its own under the set's lock. */
async function startCertificateRenewal(setId: string, projectId: string, memberId: string): Promise<string> {
  const renewInput = { instanceId: memberId, projectId, renew: true as const };
  const workflowId = `renew-certificates-automatic-${setId}-${new Date().toISOString().replace(/[:.]/g, '')}`;
  await startChild(enableReplicationTls, { workflowId, args: [renewInput], parentClosePolicy: ParentClosePolicy.ABANDON, ...operationMetadata('enableReplicationTls', renewInput, {}) });
  return workflowId;
}

/** Each member's monitoring account: its password issued (sealed) in the registry, made by its agent, then marked ready. Best effort: retried at the next upkeep. */
async function makeMonitorAccounts(members: { instanceId: string; novaServerId: string }[]): Promise<string[]> {
  const made = await Promise.all(
    members.map(async (m) => {
      try {
        const { sealedPassword } = await registry.monitorCredential({ instanceId: m.instanceId });
        await guestUpkeep(m.novaServerId).ensureMonitorAccount({ sealedPassword });
        return m.instanceId;
      } catch {
        return null;
      }
    }),
  );
  const ready = made.filter((id): id is string => id !== null);
  if (ready.length) await registry.monitorAccountsReady({ instanceIds: ready });
  return ready;
}
