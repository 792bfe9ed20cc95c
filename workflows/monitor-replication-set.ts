// monitorReplicationSet: one long-running workflow per replication set. Every few seconds
// it observes each member (the orchestrator's own probe of MariaDB, and the guest agent's
// replication status), stores the health in the registry, shows it in the Web UI and
// answers it as a query; keeps semi-sync roles as the set's settings ask; and, when
// automatic failover is on, starts ejectReplicaSource itself on holistic evidence that
// the source is gone. It continues as new to keep its history short, and ends when the
// set is dissolved.
import { continueAsNew, defineQuery, ParentClosePolicy, patched, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import { deadRelays, decideRelayRecovery } from '../lib/dead-relays';
import { instanceNameAttribute, workflowIds } from '../lib/names';
import { decideAutoFailover, nextPollDelayMs, type AutoFailoverDecision } from '../lib/failover';
import { failoverOperationFor, healthRole, judgesOfSource, semiSyncRole } from '../lib/pair-failover';
import { assessSource, summarizeHealth, type ObservedStatus } from '../lib/health';
import { operationMetadata } from '../lib/summaries';
import { textTable } from '../lib/text-table';
import { monitorInput, type MemberHealth, type MonitorInput } from '../lib/schemas';
import { computeProbe, guestProbe, guestUpkeep, parseInput, registry, tagReplicationSet } from './common';
import { ejectReplicaSource } from './eject-replica-source';
import { failOverPair } from './fail-over-pair';
import { RELAY_RECOVERY_PATCH } from './patches';
import { recoverDeadRelay } from './recover-dead-relay';
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
function renderHealth(h: MemberHealth[]): string {
  const yn = (v: boolean | null) => (v === null ? '-' : v ? 'yes' : 'no');
  const rows = h.map((m) => [
    m.name,
    m.role,
    `${yn(m.reachable)}${m.agentAnswered ? '' : ' (agent silent)'}`,
    m.role === 'replica' ? `${yn(m.ioRunning)} / ${yn(m.sqlRunning)}` : '-',
    m.role === 'replica' ? `${m.transactionsBehind ?? '?'} trx / ${m.secondsBehind ?? '?'} s` : '-',
  ]);
  const errors = h.filter((m) => m.lastIoError || m.lastSqlError).map((m) => `- \`${m.name}\`: ${m.lastIoError ?? m.lastSqlError}`);
  return [textTable(['member', 'role', 'reachable', 'IO / SQL', 'behind'], rows), ...errors].join('\n');
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
    state.health = summarizeHealth(
      // Roles as the topology model derives them from the links (a relay is watched as a replica).
      // (a pair's active side is its source, although it replicates from the passive one).
      members.map((m) => ({ instanceId: m.id, name: m.name, ...healthRole(view.topology, m.id) })),
      probes,
      Object.fromEntries(members.map((m, j) => [m.id, statuses[j] as ObservedStatus | null])),
      observedAt,
    );
    await registry.recordHealth({ setId: input.setId, health: state.health });

    const busy = Boolean(view.lock.operationId);
    // Keep the semi-sync roles the settings ask for (skipped while an operation reshapes the set).
    if (!busy) {
      await Promise.all(
        members.map(async (m, j) => {
          const s = statuses[j];
          if (!s) return;
          const want = semiSyncRole(view.topology, m.id, view.settings.semiSync);
          const has = s.semiSyncSource ? 'source' : s.semiSyncReplica ? 'replica' : 'off';
          if (want !== has) await guestUpkeep(m.novaServerId!).configureSemiSync({ role: want }).catch(() => undefined);
        }),
      );
    }

    const assessment = assessSource(state.health, judgesOfSource(view.topology));
    state.decision = decideAutoFailover({ ...view.settings, ...assessment, sourceDownSince, busy, now: observedAt });
    sourceDownSince = state.decision.sourceDownSince;
    if (state.decision.action === 'failover') {
      // A pair fails over to its other side (lib/pair-failover.ts); no 0.1.0 set was a pair.
      const operation = failoverOperationFor(view.topology);
      const workflowId = `${operation === 'failOverPair' ? 'pair-failover' : 'eject'}-automatic-${input.setId}-${observedAt.replace(/[:.]/g, '')}`;
      await registry.recordAutomaticFailover({ setId: input.setId, operationId: workflowId });
      const ejectInput = { instanceId: view.source.id, projectId: view.projectId, automatic: true };
      await startChild(operation === 'failOverPair' ? failOverPair : ejectReplicaSource, {
        workflowId,
        args: [ejectInput],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: instanceNameAttribute(view.source.name),
        // Metadata on the command, not part of it: 0.1.0 histories replay without it.
        ...operationMetadata(operation, ejectInput, { name: view.source.name }),
      });
      state.automaticFailovers.push(workflowId);
      sourceDownSince = null;
    }
    // A relay of a cascade that is gone: its replicas move up (recoverDeadRelay). Pure until a
    // relay is judged dead, which no 0.1.0 set (no cascades) ever was: old histories never ask the patch.
    const relays = decideRelayRecovery(deadRelays(view.topology, state.health), relaysDownSince, observedAt, view.settings.failoverAfterSeconds);
    relaysDownSince = relays.downSince;
    if (!busy && state.decision.action !== 'failover' && relays.recover.length > 0 && patched(RELAY_RECOVERY_PATCH)) {
      for (const dead of relays.recover) {
        const recoverInput = { instanceId: dead.relayId, projectId: view.projectId };
        const name = [view.source, ...view.replicas].find((m) => m.id === dead.relayId)?.name;
        await startChild(recoverDeadRelay, {
          workflowId: workflowIds.recoverDeadRelay(dead.relayId, observedAt),
          args: [recoverInput],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: instanceNameAttribute(name),
          ...operationMetadata('recoverDeadRelay', recoverInput, { name }),
        });
        state.relayRecoveries.push(dead.relayId);
      }
    }
    progress.phase(state.decision.action === 'none' ? 'healthy' : `source trouble: ${state.decision.action}`);
    if (workflowInfo().continueAsNewSuggested) break;
    // A source that looks down is looked at again as soon as failover_after has passed, not a poll later.
    await sleep(nextPollDelayMs({ pollSeconds: input.pollSeconds, failoverAfterSeconds: view.settings.failoverAfterSeconds, sourceDownSince, observedAt, now: new Date().toISOString() }));
  }
  return continueAsNew<typeof monitorReplicationSet>({ ...input, sourceDownSince, waitBeforeFirstPoll: false });
}
