// The orchestrator's own metrics (prom-client), beside the Temporal SDK's:
// - operations (each workflow type is one) by type and outcome, with their durations, from
//   the workflow interceptor's sink (workflows/metrics-interceptor.ts);
// - every control activity by type and outcome with its duration (Nova, registry, snapshots);
// - each replication set's members as its monitor last saw them (each watch poll, or the 0.1.0 monitor's recordHealth activity's
//   input: reachable, agent answering, replicating, lag), failovers the monitor started, and
//   what watching costs (polls, probe time).
import type { Runtime } from '@temporalio/worker';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, InjectedSinks, Next } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MemberHealth } from '../lib/schemas';
import type { MetricsSinks } from '../workflows/metrics-interceptor';

/**
 * Installs the Temporal Runtime with its Prometheus exporter on bindAddress; returns the URL
 * to read it from. A Runtime is installed once per process, before the first connection: if
 * one is there already (a caller's), the SDK's metrics are left out, the product's still served.
 */
export function installMetricsRuntime(runtime: typeof Runtime, bindAddress: string, log: { warn(o: object, msg: string): void }): string | undefined {
  try {
    runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } });
    return `http://${bindAddress}/metrics`;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'a Temporal Runtime was installed already: no SDK metrics');
    return undefined;
  }
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const MEMBER_LABELS = ['set_id', 'instance_id', 'name', 'role'] as const;

/** Every activity a worker runs, by type and outcome, with its duration. */
export class ActivityMetrics {
  readonly activities: Counter<'type' | 'outcome'>;
  readonly activitySeconds: Histogram<'type' | 'outcome'>;

  constructor(
    registry: Registry,
    /** Called with each completed activity's type, workflow type, arguments and seconds. */
    private readonly onCompleted: (type: string, workflowType: string | undefined, args: unknown[], seconds: number) => void = () => undefined,
  ) {
    this.activities = new Counter({ name: 'trove_activities_total', help: 'Activities run by this worker, by type and outcome', labelNames: ['type', 'outcome'], registers: [registry] });
    this.activitySeconds = new Histogram({ name: 'trove_activity_duration_seconds', help: 'Activity durations, by type and outcome', labelNames: ['type', 'outcome'], buckets: DURATION_BUCKETS, registers: [registry] });
  }

  interceptor(): ActivityInterceptorsFactory {
    return (ctx) => {
      const inbound: ActivityInboundCallsInterceptor = {
        execute: async (input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) => {
          const type = ctx.info.activityType;
          const started = performance.now();
          let outcome = 'failed';
          try {
            const result = await next(input);
            outcome = 'completed';
            this.onCompleted(type, ctx.info.workflowType, input.args, (performance.now() - started) / 1000);
            return result;
          } finally {
            this.activities.inc({ type, outcome });
            this.activitySeconds.observe({ type, outcome }, (performance.now() - started) / 1000);
          }
        },
      };
      return { inbound };
    };
  }
}

export class OrchestratorMetrics {
  readonly registry = new Registry();
  readonly activities = new ActivityMetrics(this.registry, (type, workflowType, args, seconds) => this.observeActivity(type, workflowType, args, seconds));
  readonly operations = new Counter({ name: 'trove_operations_total', help: 'Operations (workflows) ended, by type and outcome (completed, failed, cancelled, continued)', labelNames: ['type', 'outcome'], registers: [this.registry] });
  readonly operationSeconds = new Histogram({ name: 'trove_operation_duration_seconds', help: 'From an operation\'s start to its end, by type and outcome', labelNames: ['type', 'outcome'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly memberReachable = new Gauge({ name: 'trove_member_reachable', help: '1 when the orchestrator reached the member\'s MariaDB at the monitor\'s last poll', labelNames: MEMBER_LABELS, registers: [this.registry] });
  readonly memberAgent = new Gauge({ name: 'trove_member_agent_answered', help: '1 when the member\'s guest agent answered the monitor\'s last poll', labelNames: MEMBER_LABELS, registers: [this.registry] });
  readonly replicaReplicating = new Gauge({ name: 'trove_replica_replicating', help: '1 when both replication threads of the replica ran at the last poll (replicas only)', labelNames: MEMBER_LABELS, registers: [this.registry] });
  readonly replicaLag = new Gauge({ name: 'trove_replica_lag_seconds', help: 'Seconds_Behind_Master the replica reported at the last poll (absent when unknown)', labelNames: MEMBER_LABELS, registers: [this.registry] });
  readonly replicaTransactionsBehind = new Gauge({ name: 'trove_replica_transactions_behind', help: 'GTID transactions the replica had yet to apply at the last poll', labelNames: MEMBER_LABELS, registers: [this.registry] });
  readonly healthObservedAt = new Gauge({ name: 'trove_set_health_observed_timestamp_seconds', help: 'When the monitor last recorded the set\'s health (unix seconds)', labelNames: ['set_id'], registers: [this.registry] });
  readonly failovers = new Counter({ name: 'trove_automatic_failovers_total', help: 'Automatic failovers the monitors started', registers: [this.registry] });
  readonly monitorPolls = new Counter({ name: 'trove_monitor_polls_total', help: 'Polls of the sets\' monitors (each probes every member and asks its guest agent)', registers: [this.registry] });
  readonly probeSeconds = new Histogram({ name: 'trove_monitor_probe_duration_seconds', help: 'Time one poll\'s probes of a set\'s members took', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly probedMembers = new Counter({ name: 'trove_monitor_probed_members_total', help: 'Members probed by the monitors (the connections watching costs)', registers: [this.registry] });
  /** Each set's member label sets, to drop a member's series once it left the set. */
  private readonly seriesOf = new Map<string, Record<(typeof MEMBER_LABELS)[number], string>[]>();
  private readonly shownOf = new Map<string, string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'trove_orchestrator_' });
  }

  operationEnded(type: string, outcome: string, seconds: number): void {
    this.operations.inc({ type, outcome });
    this.operationSeconds.observe({ type, outcome }, Math.max(0, seconds));
  }

  recordHealth(setId: string, health: MemberHealth[]): void {
    this.healthObservedAt.set({ set_id: setId }, Date.now() / 1000);
    // What the gauges show, unchanged on almost every poll: prom-client hashes the labels of
    // each set(), ten per set a poll, a few percent of the worker watching a thousand sets.
    const shown = health.map((m) => `${m.instanceId}|${m.name}|${m.role}|${m.reachable}|${m.agentAnswered}|${m.ioRunning && m.sqlRunning}|${m.secondsBehind}|${m.transactionsBehind}`).join('\n');
    if (this.shownOf.get(setId) === shown) return;
    this.shownOf.set(setId, shown);
    const gauges = [this.memberReachable, this.memberAgent, this.replicaReplicating, this.replicaLag, this.replicaTransactionsBehind];
    const series = health.map((m) => ({ set_id: setId, instance_id: m.instanceId, name: m.name, role: m.role }));
    // Every watch poll lands here (a thousand sets: a thousand a second): only a member that
    // left the set, or changed its name or role, has its series dropped, not every member's.
    const kept = new Set(series.map((l) => JSON.stringify(l)));
    for (const labels of this.seriesOf.get(setId) ?? []) if (!kept.has(JSON.stringify(labels))) for (const g of gauges) g.remove(labels);
    const setOrRemove = (g: Gauge<(typeof MEMBER_LABELS)[number]>, labels: (typeof series)[number], v: number | null) => (v === null ? g.remove(labels) : g.set(labels, v));
    health.forEach((m, i) => {
      const labels = series[i]!;
      this.memberReachable.set(labels, m.reachable ? 1 : 0);
      this.memberAgent.set(labels, m.agentAnswered ? 1 : 0);
      if (m.role !== 'replica') return;
      this.replicaReplicating.set(labels, m.ioRunning && m.sqlRunning ? 1 : 0);
      setOrRemove(this.replicaLag, labels, m.secondsBehind);
      setOrRemove(this.replicaTransactionsBehind, labels, m.transactionsBehind);
    });
    this.seriesOf.set(setId, series);
  }

  /** One poll of a set's watch (watchSet): the members' health and what the poll cost. */
  watchPolled(poll: { setId: string; health: MemberHealth[]; probed: number; probeSeconds: number }): void {
    this.recordHealth(poll.setId, poll.health);
    this.monitorPolls.inc();
    this.probedMembers.inc(poll.probed);
    this.probeSeconds.observe(poll.probeSeconds);
  }

  /** The worker's sinks: the workflow interceptor reports each end here (never on replay). */
  sinks(): InjectedSinks<MetricsSinks> {
    return { metrics: { workflowEnded: { fn: (_info, type, outcome, seconds) => this.operationEnded(type, outcome, seconds), callDuringReplay: false } } };
  }

  private observeActivity(type: string, workflowType: string | undefined, args: unknown[], seconds: number): void {
    const arg = args[0] as Record<string, unknown> | unknown[] | undefined;
    if (type === 'recordHealth' && arg && !Array.isArray(arg)) this.recordHealth(String(arg.setId), arg.health as MemberHealth[]);
    else if (type === 'recordAutomaticFailover') this.failovers.inc();
    else if (type === 'probeMembers' && workflowType === 'monitorReplicationSet') {
      // One monitor poll probes every member of its set once.
      this.monitorPolls.inc();
      this.probedMembers.inc(Array.isArray(arg) ? arg.length : 0);
      this.probeSeconds.observe(seconds);
    }
  }
}
