// monitorReplicationSet: one long-running workflow per replication set. Every few seconds
// it observes each member (the orchestrator's own probe of MariaDB, and the guest agent's
// replication status), stores the health in the registry, shows it in the Web UI and
// answers it as a query; keeps semi-sync roles as the set's settings ask; and, when
// automatic failover is on, starts ejectReplicaSource itself on holistic evidence that
// the source is gone. It continues as new to keep its history short, and ends when the
// set is dissolved.
import { continueAsNew, defineQuery, makeContinueAsNewFunc, ParentClosePolicy, patched, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { SetView } from '../activities/registry/views';
import type { DeadRelay } from '../lib/dead-relays';
import { instanceNameAttribute, workflowIds } from '../lib/names';
import { nextPollDelayMs, type AutoFailoverDecision } from '../lib/failover';
import { judgePoll, setMembers, type SemiSyncFix } from '../lib/monitor-poll';
import { failoverOperationFor } from '../lib/pair-failover';
import { operationMetadata } from '../lib/summaries';
import { linkTls } from '../lib/link-tls';
import { textTable } from '../lib/text-table';
import { monitorInput, type MemberHealth, type MonitorInput } from '../lib/schemas';
import { computeProbe, guestProbe, guestUpkeep, parseInput, registry, tagReplicationSet } from './common';
import { ejectReplicaSource } from './eject-replica-source';
import { failOverPair } from './fail-over-pair';
import { MONITOR_BECOMES_WATCH_PATCH, RELAY_RECOVERY_PATCH } from './patches';
import { recoverDeadRelay } from './recover-dead-relay';
import type { watchReplicationSet } from './watch-replication-set';
import { Progress } from './progress';

export interface MonitorState {
  setId: string;
  health: MemberHealth[];
  decision: AutoFailoverDecision | null;
  automaticFailovers: string[];
  /** Relays whose replicas this run moved up (recoverDeadRelay started). */
  relayRecoveries: string[];
}

export const healthQuery = defineQuery<MonitorState>('health');

/** The set's members as the last look saw them; each member's replication error, below the table. */
export function renderHealth(h: MemberHealth[]): string {
  // Nothing read yet: no empty table (the first look fills it).
  if (h.length === 0) return '';
  const yn = (v: boolean | null) => (v === null ? '-' : v ? 'yes' : 'no');
  const rows = h.map((m) => [
    m.name,
    m.role,
    `${yn(m.reachable)}${m.agentAnswered ? '' : ' (agent silent)'}`,
    m.role === 'replica' ? `${yn(m.ioRunning)} / ${yn(m.sqlRunning)}` : '-',
    m.role === 'replica' ? `${m.transactionsBehind ?? '?'} trx / ${m.secondsBehind ?? '?'} s` : '-',
    linkTls(m),
  ]);
  const errors = h.filter((m) => m.lastIoError || m.lastSqlError).map((m) => `- \`${m.name}\`: ${m.lastIoError ?? m.lastSqlError}`);
  return [textTable(['member', 'role', 'reachable', 'IO / SQL', 'behind', 'link TLS'], rows), ...errors].join('\n');
}

export async function monitorReplicationSet(raw: MonitorInput): Promise<string> {
  const input = parseInput(monitorInput, raw);
  const state: MonitorState = { setId: input.setId, health: [], decision: null, automaticFailovers: [], relayRecoveries: [] };
  const progress = new Progress('monitorReplicationSet', () => `${renderHealth(state.health)}\n\n${state.decision ? `automatic failover: **${state.decision.action}** (${state.decision.reason})` : ''}`);
  setHandler(healthQuery, () => state);
  tagReplicationSet(input.setId);
  let sourceDownSince = input.sourceDownSince;
  // Not carried over a continue-as-new: a relay still gone is seen again within failover_after.
  let relaysDownSince: Record<string, string> = {};
  // The operation that starts a monitor has just verified the set and still holds its lock:
  // looking now would race its last steps and find the set busy.
  if (input.waitBeforeFirstPoll) await sleep(input.pollSeconds * 1000);

  for (let i = 0; i < input.iterationsPerRun; i++) {
    const view = await registry.describeSet(input.setId);
    if (!view || view.replicas.length === 0) {
      progress.phase('set dissolved');
      return `replication set ${input.setId} has no replicas any more`;
    }
    const members = [view.source, ...view.replicas];
    // A source is judged down as of the moment it was probed, not when the slowest probe gave up.
    const observedAt = new Date().toISOString();
    const [probes, statuses] = await Promise.all([
      computeProbe.probeMembers(members.map((m) => ({ instanceId: m.id, address: m.address!, port: m.port ?? 3306 }))),
      Promise.all(members.map((m) => guestProbe(m.novaServerId!, '1s').replicationStatus().catch(() => null))),
    ]);
    const judged = judgePoll(view, { probes, statuses: Object.fromEntries(members.map((m, j) => [m.id, statuses[j]])), observedAt }, { sourceDownSince, relaysDownSince });
    state.health = judged.health;
    await registry.recordHealth({ setId: input.setId, health: state.health });
    // Keep the semi-sync roles the settings ask for (skipped while an operation reshapes the set).
    await fixSemiSync(judged.semiSyncFixes);

    state.decision = judged.decision;
    sourceDownSince = judged.memory.sourceDownSince;
    if (state.decision.action === 'failover') {
      state.automaticFailovers.push(await startAutomaticFailover(view, observedAt));
      sourceDownSince = null;
    }
    // A relay of a cascade that is gone: its replicas move up (recoverDeadRelay). Pure until a
    // relay is judged dead, which no 0.1.0 set (no cascades) ever was: old histories never ask the patch.
    relaysDownSince = judged.memory.relaysDownSince;
    if (judged.relayRecoveries.length > 0 && patched(RELAY_RECOVERY_PATCH)) {
      state.relayRecoveries.push(...(await startRelayRecoveries(view, judged.relayRecoveries, observedAt)));
    }
    progress.phase(state.decision.action === 'none' ? 'healthy' : `source trouble: ${state.decision.action}`);
    if (workflowInfo().continueAsNewSuggested) break;
    // A source that looks down is looked at again as soon as failover_after has passed, not a poll later.
    await sleep(nextPollDelayMs({ pollSeconds: input.pollSeconds, failoverAfterSeconds: view.settings.failoverAfterSeconds, sourceDownSince, observedAt, now: new Date().toISOString() }));
  }
  // 0.2.0: a set is watched by watchReplicationSet (polling inside one heartbeating activity);
  // a run of this type moves there at its next continue-as-new, keeping its workflow id.
  if (patched(MONITOR_BECOMES_WATCH_PATCH)) {
    return makeContinueAsNewFunc<typeof watchReplicationSet>({ workflowType: 'watchReplicationSet' })({ setId: input.setId, projectId: input.projectId, pollSeconds: input.pollSeconds, sourceDownSince });
  }
  return continueAsNew<typeof monitorReplicationSet>({ ...input, sourceDownSince, waitBeforeFirstPoll: false });
}

/** Semi-sync roles back to what the settings ask: one short try each, retried at the next look. */
export async function fixSemiSync(fixes: SemiSyncFix[]): Promise<void> {
  await Promise.all(fixes.map((f) => guestUpkeep(f.novaServerId).configureSemiSync({ role: f.role }).catch(() => undefined)));
}

/**
 * Records the automatic failover (for the quiet period) and starts ejectReplicaSource, abandoned
 * to run on its own. The 0.1.0 monitor records first, then starts (its histories say so); the
 * watch (0.2.0) does both in one workflow task, so the eject does not wait for the record's
 * round trip through Temporal (nothing in the eject reads it).
 */
export async function startAutomaticFailover(view: SetView, observedAt: string, order: 'record-first' | 'together' = 'record-first'): Promise<string> {
  // A pair fails over to its other side (lib/pair-failover.ts); no 0.1.0 set was a pair.
  const operation = failoverOperationFor(view.topology);
  const workflowId = `${operation === 'failOverPair' ? 'pair-failover' : 'eject'}-automatic-${view.setId}-${observedAt.replace(/[:.]/g, '')}`;
  const record = () => registry.recordAutomaticFailover({ setId: view.setId, operationId: workflowId });
  const ejectInput = { instanceId: view.source.id, projectId: view.projectId, automatic: true, flipSourceEarly: true };
  const start = () =>
    startChild(operation === 'failOverPair' ? failOverPair : ejectReplicaSource, {
      workflowId,
      args: [ejectInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: instanceNameAttribute(view.source.name),
      // Metadata on the command, not part of it: 0.1.0 histories replay without it.
      ...operationMetadata(operation, ejectInput, { name: view.source.name }),
    });
  if (order === 'together') await Promise.all([record(), start()]);
  else {
    await record();
    await start();
  }
  return workflowId;
}

/** Starts recoverDeadRelay for each relay judged dead; returns their ids. */
export async function startRelayRecoveries(view: SetView, dead: DeadRelay[], observedAt: string): Promise<string[]> {
  for (const d of dead) {
    const recoverInput = { instanceId: d.relayId, projectId: view.projectId };
    const name = setMembers(view).find((m) => m.id === d.relayId)?.name;
    await startChild(recoverDeadRelay, {
      workflowId: workflowIds.recoverDeadRelay(d.relayId, observedAt),
      args: [recoverInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: instanceNameAttribute(name),
      ...operationMetadata('recoverDeadRelay', recoverInput, { name }),
    });
  }
  return dead.map((d) => d.relayId);
}
