// Orchestration overhead: what createReplicas (N = 1) costs when nothing but orchestration
// happens. A real stack (Temporal dev server, registry MariaDB, orchestrator worker) with
// Nova's `fake` driver (servers are ACTIVE at once, no process runs) and guest agents that
// answer every activity at once (bench/noop-guest.ts). Measured:
//   - the yardstick: one empty activity round trip (bench/empty-workflow.ts);
//   - the round trips one operation makes, from its histories;
//   - latency p50/p99 one operation at a time, and operations/s at 1, 10, 50 concurrent
//     operations (a closed loop: each of C clients runs operations back to back on its own
//     source, since createReplicas holds its replication set's lock).
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { monitorWorkflowId, workflowIds } from '../lib/names';
import type { CreateReplicasResult } from '../lib/schemas';
import { startCreateReplicas, startDeleteInstance, startProvisionInstance } from '../lib/start';
import { ALL_PARTS } from '../scripts/stack/stack';
import { payloadDataConverter } from '../lib/payload-codec';
import { startTestStack, type TestStack } from '../test/helpers/stack';
import type { emptyActivities } from './empty-workflow';
import { treeCpuMs } from './lib/procfs';
import { table, type Section } from './lib/report';
import { formatSummary, median, percentile, summarize, type Summary } from './lib/stats';
import { NoopGuests } from './noop-guest';
import { countRoundTrips, ownTime, stepLabel, stepTime, timeline, type RoundTrips, type Step, type Timeline } from './overhead/history';
import { floors, overheadPlan, TARGET_FACTOR, targetMet, type Floors, type OverheadPlan, runRatios } from './overhead/plan';
import type { BenchOptions } from './run';

const PROJECT = 'proj-a';

interface Source {
  id: string;
  name: string;
}

interface OpRecord {
  workflowId: string;
  replicaId: string;
  sourceId: string;
  ms: number;
}

interface LevelRun {
  concurrency: number;
  ops: number;
  wallMs: number;
  opsPerSecond: number;
  latenciesMs: number[];
}

const elapsed = (t0: number) => performance.now() - t0;
/** One figure of every sample, in the order they were taken. */
const column = (ys: YardstickSample[], k: keyof YardstickSample) => ys.map((y) => y[k]);
const isGuest = (s: Step) => s.kind === 'activity' && Boolean(s.taskQueue?.startsWith('guest-'));

function installQuietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
    });
  } catch {
    /* another section already installed a runtime: keep it */
  }
}

/** Runs fn over items with at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

// ---- CPU ------------------------------------------------------------------------------

/** CPU time (ms) by process: the stack's parts, and this process (noop guests, yardstick workers, client). */
type Cpu = Record<string, number>;

function cpuNow(env: TestStack): Cpu {
  const own = process.cpuUsage();
  return { ...treeCpuMs(Object.fromEntries(ALL_PARTS.map((n) => [n, env.stack.parts.get(n)?.pid]))), benchmark: (own.user + own.system) / 1000 };
}

/** (after − before) / per, process by process. */
function cpuSpent(before: Cpu, after: Cpu, per: number): Cpu {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k]! - (before[k] ?? 0)) / per]));
}

const cpuTotal = (c: Cpu) => Object.values(c).reduce((a, b) => a + b, 0);

// ---- the yardstick --------------------------------------------------------------------

interface YardstickSample {
  /** Per activity, the activity on the workflow's own task queue (as registry and Nova activities). */
  sameQueueMs: number;
  /** Per activity, the activity on another worker's task queue (as guest activities). */
  otherQueueMs: number;
  /** An empty workflow, start to result on the client. */
  emptyWorkflowMs: number;
}

interface Yardstick {
  /** Measured before any operation, `runs` times in a row. */
  before: YardstickSample[];
  /** Measured right before each run of operations one at a time (C = 1). */
  beside: YardstickSample[];
  /** Measured right after each of those runs (before its replicas are deleted). */
  after: YardstickSample[];
}

/** The samples that bracket the runs of one operation at a time: the target's yardstick. */
const bracketing = (y: Yardstick): YardstickSample[] => [...y.beside, ...y.after];

/**
 * The empty-activity workflow and its workers, up for the whole section so that the
 * yardstick can be measured again right before each run it is compared with: on this VM it
 * moved 6.5–13.5 ms from one run to the next (bench/improvements.md §6).
 */
class YardstickWorkers {
  /** CPU per empty activity (the same-queue run of every sample). */
  readonly cpuPerActivity: Cpu[] = [];

  private constructor(
    private readonly connection: NativeConnection,
    private readonly workers: Worker[],
    private readonly running: Promise<unknown>,
    private readonly client: Client,
    private readonly queue: string,
    private readonly emptyCount: number,
    private readonly cpu: () => Cpu,
  ) {}

  static async start(address: string, client: Client, emptyCount: number, cpu: () => Cpu): Promise<YardstickWorkers> {
    // The client encrypts (the stack's key): these workers decode with the same converter.
    const dataConverter = client.options.dataConverter;
    const connection = await NativeConnection.connect({ address });
    const queue = `bench-empty-${randomUUID()}`;
    const noop = { async noop() {} };
    const workers = [
      await Worker.create({ connection, dataConverter, taskQueue: queue, workflowsPath: require.resolve('./empty-workflow'), activities: noop }),
      await Worker.create({ connection, dataConverter, taskQueue: `${queue}-other`, activities: noop }),
    ];
    const y = new YardstickWorkers(connection, workers, Promise.all(workers.map((w) => w.run())), client, queue, emptyCount, cpu);
    await y.sample(); // warm: bundle loaded, connections open
    y.cpuPerActivity.length = 0;
    return y;
  }

  private async run(count: number, taskQueue?: string): Promise<number> {
    const t0 = performance.now();
    await this.client.workflow.execute<typeof emptyActivities>('emptyActivities', { taskQueue: this.queue, workflowId: `bench-empty-${randomUUID()}`, args: [count, taskQueue] });
    return elapsed(t0);
  }

  async sample(): Promise<YardstickSample> {
    const zero = await this.run(0);
    const cpu0 = this.cpu();
    const same = await this.run(this.emptyCount);
    this.cpuPerActivity.push(cpuSpent(cpu0, this.cpu(), this.emptyCount));
    const cross = await this.run(this.emptyCount, `${this.queue}-other`);
    return { emptyWorkflowMs: zero, sameQueueMs: (same - zero) / this.emptyCount, otherQueueMs: (cross - zero) / this.emptyCount };
  }

  async stop(): Promise<void> {
    for (const w of this.workers) w.shutdown();
    await this.running;
    await this.connection.close();
  }
}

// ---- operations ------------------------------------------------------------------------

async function provisionSources(client: Client, count: number, opts: BenchOptions): Promise<Source[]> {
  const t0 = performance.now();
  const sources = await pool(
    Array.from({ length: count }, (_, i) => i),
    10,
    async (i): Promise<Source> => {
      const id = randomUUID();
      const name = `overhead-src-${i + 1}`;
      const handle = await startProvisionInstance(client, { instanceId: id, projectId: PROJECT, name, flavorId: '1', volumeSizeGb: 1 });
      await handle.result();
      return { id, name };
    },
  );
  opts.log(`overhead: ${count} sources ACTIVE in ${(elapsed(t0) / 1000).toFixed(1)} s`);
  return sources;
}

class Operations {
  /** Monitor terminations and worker retirements, awaited between runs (not measured). */
  private background: Promise<unknown>[] = [];

  constructor(
    private readonly client: Client,
    private readonly guests: NoopGuests,
  ) {}

  /** One createReplicas(N = 1), start to result on the client. */
  async createOne(source: Source): Promise<OpRecord> {
    const t0 = performance.now();
    const { handle, replicaIds } = await startCreateReplicas(this.client, { sourceInstanceId: source.id, projectId: PROJECT, count: 1 });
    const result = (await handle.result()) as CreateReplicasResult;
    const ms = elapsed(t0);
    const replica = result.replicas[0];
    if (!replica || replica.status !== 'ACTIVE') throw new Error(`createReplicas ${handle.workflowId} built no replica: ${JSON.stringify(result.replicas)}`);
    // The set's monitor would poll every 2 s from now on; this benchmark measures the
    // operation, so it is ended (starting it is part of the operation and measured).
    this.background.push(
      this.client.workflow
        .getHandle(monitorWorkflowId(result.replicationSetId))
        .terminate('orchestration-overhead benchmark: monitors are not measured')
        .catch(() => undefined),
    );
    if (replica.novaServerId) this.background.push(this.guests.retire(replica.novaServerId));
    return { workflowId: handle.workflowId, replicaId: replicaIds[0]!, sourceId: source.id, ms };
  }

  /** C clients, each running `perClient` operations back to back on its own source. */
  async closedLoop(sources: Source[], perClient: number): Promise<{ wallMs: number; ops: OpRecord[] }> {
    const ops: OpRecord[] = [];
    const t0 = performance.now();
    await Promise.all(
      sources.map(async (s) => {
        for (let i = 0; i < perClient; i++) ops.push(await this.createOne(s));
      }),
    );
    const wallMs = elapsed(t0);
    await this.settle();
    return { wallMs, ops };
  }

  async settle(): Promise<void> {
    const pending = this.background;
    this.background = [];
    await Promise.all(pending);
  }

  /** Deletes the replicas made, one at a time per source (a delete takes the set's lock). */
  async deleteReplicas(ops: OpRecord[]): Promise<void> {
    const bySource = new Map<string, string[]>();
    for (const o of ops) bySource.set(o.sourceId, [...(bySource.get(o.sourceId) ?? []), o.replicaId]);
    await Promise.all(
      [...bySource.values()].map(async (ids) => {
        for (const instanceId of ids) await (await startDeleteInstance(this.client, { instanceId, projectId: PROJECT })).result();
      }),
    );
  }
}

// ---- analysis ---------------------------------------------------------------------------

interface OpAnalysis {
  clientMs: number;
  parent: Timeline;
  child: Timeline;
}

async function analyze(client: Client, ops: OpRecord[]): Promise<OpAnalysis[]> {
  return pool(ops, 4, async (o) => {
    const [p, c] = await Promise.all([
      client.workflow.getHandle(o.workflowId).fetchHistory(),
      client.workflow.getHandle(workflowIds.buildReplica(o.replicaId)).fetchHistory(),
    ]);
    return { clientMs: o.ms, parent: timeline(p.events ?? []), child: timeline(c.events ?? []) };
  });
}

interface Breakdown {
  part: string;
  ms: number[];
}

/** Where the time of each operation went: every part per operation, so medians can be taken. */
function breakdown(analyses: OpAnalysis[]): Breakdown[] {
  const parts = new Map<string, number[]>();
  const add = (part: string, i: number, ms: number) => {
    const arr = parts.get(part) ?? new Array(analyses.length).fill(0);
    arr[i] += ms;
    parts.set(part, arr);
  };
  analyses.forEach((a, i) => {
    add('client: start request and result delivery (outside the workflow)', i, a.clientMs - (a.parent.closedMs! - a.parent.startedMs));
    for (const t of [a.parent, a.child]) {
      const own = ownTime(t);
      add('between steps: workflow task scheduled → picked up by the orchestrator worker', i, own.workflowTaskQueueMs);
      add('between steps: the orchestrator worker running workflow code', i, own.workflowTaskRunMs);
      add('between steps: the rest (server bookkeeping, first and last workflow task)', i, own.totalMs - own.workflowTaskQueueMs - own.workflowTaskRunMs);
    }
    for (const t of [a.parent, a.child]) {
      for (const s of t.steps) {
        const { queueMs, runMs } = stepTime(s);
        if (s.kind === 'activity') {
          const where = isGuest(s) ? 'guest' : 'orchestrator';
          add(`${where} activities: scheduled → picked up`, i, queueMs);
          add(`${where} activities: running`, i, runMs);
        } else if (s.kind === 'signal') {
          add('signals to another workflow (snapshot ready; progress that lasted)', i, runMs);
        } else if (s.name === 'buildReplica') {
          add('child buildReplica: start', i, queueMs);
          // Its run is the child's own timeline, counted above; what is left is the hand-back.
          add('child buildReplica: result handed back to the parent', i, runMs - (a.child.closedMs! - a.child.startedMs));
        } else {
          add(`child ${s.name}: start`, i, queueMs + runMs);
        }
      }
    }
  });
  return [...parts].map(([part, ms]) => ({ part, ms }));
}

interface StepRow {
  label: string;
  perOp: number;
  queueMs: number[];
  runMs: number[];
}

/** Per step name (in first-seen order): calls per operation and the time of each call. */
function stepRows(analyses: OpAnalysis[]): StepRow[] {
  const rows = new Map<string, StepRow>();
  for (const a of analyses) {
    for (const [wf, t] of [['createReplicas', a.parent], ['buildReplica', a.child]] as const) {
      for (const s of t.steps) {
        const label = `${wf}: ${stepLabel(s)}${s.kind === 'activity' ? (isGuest(s) ? ' (guest)' : ' (orchestrator)') : ''}`;
        const row = rows.get(label) ?? { label, perOp: 0, queueMs: [], runMs: [] };
        const { queueMs, runMs } = stepTime(s);
        row.perOp++;
        row.queueMs.push(queueMs);
        row.runMs.push(runMs);
        rows.set(label, row);
      }
    }
  }
  for (const r of rows.values()) r.perOp /= analyses.length;
  return [...rows.values()];
}

// ---- the section ------------------------------------------------------------------------

const ms = (v: number, digits = 1) => `${v.toFixed(digits)} ms`;
const fmtMs = (s: Summary) => formatSummary(s, 'ms', 1);

export async function benchOverhead(opts: BenchOptions): Promise<Section[]> {
  const plan = overheadPlan(opts);
  installQuietRuntime();
  opts.log('overhead: starting the stack (Nova fake driver)');
  const env: TestStack = await startTestStack({ extraEnv: { NOVA_DRIVER: 'fake' } });
  let guests: NoopGuests | undefined;
  let yardWorkers: YardstickWorkers | undefined;
  try {
    const client = env.temporal;
    guests = await NoopGuests.start({ temporalAddress: env.stack.env.TEMPORAL_ADDRESS!, novaUrl: env.stack.env.NOVA_URL!, novaToken: env.stack.env.NOVA_TOKEN!, dataConverter: payloadDataConverter(env.stack.env), log: opts.log });

    opts.log(`overhead: yardstick, ${opts.runs} x ${plan.emptyCount} empty activities`);
    yardWorkers = await YardstickWorkers.start(env.stack.env.TEMPORAL_ADDRESS!, client, plan.emptyCount, () => cpuNow(env));
    const yard: Yardstick = { before: [], beside: [], after: [] };
    for (let r = 0; r < opts.runs; r++) yard.before.push(await yardWorkers.sample());
    opts.log(`overhead: one empty activity ${fmtMs(summarize(column(yard.before, 'sameQueueMs')))}; on another worker's queue ${fmtMs(summarize(column(yard.before, 'otherQueueMs')))}`);

    const maxC = Math.max(...plan.levels);
    const sources = await provisionSources(client, maxC, opts);
    const ops = new Operations(client, guests);

    const warm: OpRecord[] = [];
    for (let i = 0; i < plan.warmup; i++) warm.push(await ops.createOne(sources[i % sources.length]!));
    await ops.settle();
    await ops.deleteReplicas(warm);

    const runs: LevelRun[] = [];
    const single: OpRecord[] = [];
    /** CPU per operation, each C = 1 run (its monitors' termination and guests' retirement included). */
    const cpuPerOp: Cpu[] = [];
    for (const c of plan.levels) {
      for (let r = 0; r < opts.runs; r++) {
        // The yardstick again right before each run it is held against.
        if (c === 1) yard.beside.push(await yardWorkers.sample());
        const cpu0 = cpuNow(env);
        const { wallMs, ops: done } = await ops.closedLoop(sources.slice(0, c), plan.opsPerClient[c]!);
        if (c === 1) cpuPerOp.push(cpuSpent(cpu0, cpuNow(env), done.length));
        // ...and right after it: the machine drifts within minutes, so each run is held
        // against the mean of the two samples that bracket it.
        if (c === 1) yard.after.push(await yardWorkers.sample());
        const run: LevelRun = { concurrency: c, ops: done.length, wallMs, opsPerSecond: done.length / (wallMs / 1000), latenciesMs: done.map((o) => o.ms) };
        runs.push(run);
        if (c === 1) single.push(...done);
        opts.log(`overhead: C=${c} run ${r + 1}/${opts.runs}: ${done.length} ops in ${(wallMs / 1000).toFixed(2)} s = ${run.opsPerSecond.toFixed(2)} ops/s, p50 ${ms(percentile(run.latenciesMs, 50))}`);
        // Every run starts from the same world: the sources alone.
        await ops.deleteReplicas(done);
      }
    }

    opts.log(`overhead: reading ${single.length} histories`);
    const analyses = await analyze(client, single);
    const trips = countRoundTrips([analyses[0]!.parent, analyses[0]!.child]);
    const tripsAll = analyses.map((a) => countRoundTrips([a.parent, a.child]));
    const sameEverywhere = tripsAll.every((t) => t.total === trips.total && t.sequential === trips.sequential);
    const singleMs = single.map((o) => o.ms);
    const p50 = percentile(singleMs, 50);
    const p99 = percentile(singleMs, 99);
    const guestActivities = [analyses[0]!.parent, analyses[0]!.child].flatMap((t) => t.steps).filter(isGuest).length;
    const empty = summarize(column(bracketing(yard), 'sameQueueMs'));
    const other = summarize(column(bracketing(yard), 'otherQueueMs'));
    const floor = floors(trips, guestActivities, empty.median, other.median);
    const ratio = p50 / floor.plainMs;
    const met = targetMet(p50, floor.plainMs);
    const perRun = runRatios(
      runs.filter((r) => r.concurrency === 1).map((r) => percentile(r.latenciesMs, 50)),
      column(yard.beside, 'sameQueueMs'),
      column(yard.after, 'sameQueueMs'),
      trips.total,
    );

    const cpu = { perOp: cpuPerOp, perActivity: yardWorkers.cpuPerActivity };
    const body = render({ plan, opts, yard, empty, other, perRun, trips, guestActivities, sameEverywhere, singleMs, runs, analyses, floor, guests, sources: sources.length, cpu });
    return [
      {
        id: 'overhead',
        title: 'Orchestration overhead',
        body,
        targets: [
          {
            what: `createReplicas(N=1) p50 latency <= ${TARGET_FACTOR} x round trips x empty activity`,
            measured:
              `p50 ${ms(p50, 0)} = ${ratio.toFixed(2)} x floor (${trips.total} round trips x ${ms(empty.median)} = ${ms(floor.plainMs, 0)}); ` +
              `${(p50 / floor.sequentialMs).toFixed(2)} x with concurrent steps counted once (${trips.sequential}); ` +
              `${(p50 / floor.byKindMs).toFixed(2)} x the floor with each round trip at its own kind's cost (${ms(floor.byKindMs, 0)}); ` +
              `run by run, each against its own yardstick: ${perRun.map((r) => r.toFixed(2)).join(', ')}`,
            met,
          },
        ],
        raw: {
          plan,
          runs: opts.runs,
          yardstick: yard,
          roundTrips: trips,
          roundTripsSameInEveryOperation: sameEverywhere,
          singleLatenciesMs: singleMs,
          p50Ms: p50,
          p99Ms: p99,
          guestActivities,
          floorMs: floor.plainMs,
          floorSequentialMs: floor.sequentialMs,
          floorByKindMs: floor.byKindMs,
          ratio,
          ratioPerRun: perRun,
          levels: runs,
          guestWorkerStartMs: guests.startMs,
          cpuPerOperationMs: cpu.perOp,
          cpuPerEmptyActivityMs: cpu.perActivity,
        },
      },
    ];
  } finally {
    await yardWorkers?.stop().catch((err: unknown) => opts.log(`overhead: stopping the yardstick workers: ${String(err)}`));
    await guests?.stop().catch((err: unknown) => opts.log(`overhead: stopping the noop guests: ${String(err)}`));
    await env.stop();
  }
}

const CPU_PROCESSES: Record<string, string> = {
  temporal: 'Temporal dev server',
  orchestrator: 'orchestrator worker (workflows; registry, Nova and snapshot activities)',
  benchmark: 'benchmark process (no-op guest agents, yardstick workers, client)',
  nova: 'mock Nova',
  registry: 'registry MariaDB',
  api: 'REST API (idle)',
};

function renderCpu(cpu: { perOp: Cpu[]; perActivity: Cpu[] }): string {
  const of = (samples: Cpu[], k: string) => summarize(samples.map((c) => c[k] ?? 0));
  return table(
    ['process', 'CPU per operation (C = 1), per run', 'CPU per empty activity (yardstick), per sample'],
    [
      ...Object.entries(CPU_PROCESSES).map(([k, label]) => [label, fmtMs(of(cpu.perOp, k)), fmtMs(of(cpu.perActivity, k))]),
      ['**all**', fmtMs(summarize(cpu.perOp.map(cpuTotal))), fmtMs(summarize(cpu.perActivity.map(cpuTotal)))],
    ],
  );
}

interface RenderInput {
  plan: OverheadPlan;
  opts: BenchOptions;
  yard: Yardstick;
  /** The target's yardstick (beside the runs): on the workflow's own queue, on another worker's. */
  empty: Summary;
  other: Summary;
  perRun: number[];
  trips: RoundTrips;
  guestActivities: number;
  sameEverywhere: boolean;
  singleMs: number[];
  runs: LevelRun[];
  analyses: OpAnalysis[];
  floor: Floors;
  guests: NoopGuests;
  sources: number;
  cpu: { perOp: Cpu[]; perActivity: Cpu[] };
}

function render(x: RenderInput): string {
  const { plan, opts, yard, empty, other, perRun, trips, floor } = x;
  const p50 = percentile(x.singleMs, 50);
  const p99 = percentile(x.singleMs, 99);
  const ownQueue = trips.byKind.activity - x.guestActivities;
  const hop = median(
    x.analyses.flatMap((a) =>
      [a.parent, a.child].flatMap((t) => t.steps.filter((s) => isGuest(s) || s.kind === 'signal').map((s) => (s.kind === 'signal' ? stepTime(s).runMs : stepTime(s).queueMs))),
    ),
  );
  const guestQueue = (first: boolean) =>
    x.analyses.flatMap((a) => [a.parent, a.child].flatMap((t) => t.steps.filter((s) => isGuest(s) && (s.name === 'restoreSnapshot') === first).map((s) => stepTime(s).queueMs)));
  const firstGuest = guestQueue(true);
  const laterGuest = guestQueue(false);
  const twoHops = x.guestActivities + trips.byKind.signal + trips.byKind.child;

  const col = (ys: YardstickSample[], k: keyof YardstickSample) => fmtMs(summarize(column(ys, k)));
  const yardTable = table(
    ['yardstick', 'right before and right after each run of one operation at a time (the target\'s)', 'before any operation'],
    [
      ["empty activity on the workflow's own task queue (as the orchestrator's registry, Nova and snapshot activities)", fmtMs(empty), col(yard.before, 'sameQueueMs')],
      ["empty activity on another worker's task queue (as guest activities)", fmtMs(other), col(yard.before, 'otherQueueMs')],
      ['empty workflow, start to result on the client', col(bracketing(yard), 'emptyWorkflowMs'), col(yard.before, 'emptyWorkflowMs')],
    ],
  );

  const cpuTable = renderCpu(x.cpu);
  const opCpu = median(x.cpu.perOp.map(cpuTotal));
  const tripCpu = median(x.cpu.perActivity.map(cpuTotal));

  const tripRows = Object.entries(trips.byName)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => [name, n]);
  const tripTable = table(
    ['round trip (createReplicas + its buildReplica child)', 'per operation'],
    [
      ...tripRows,
      [`**activities** (${ownQueue} on the orchestrator's queue, ${x.guestActivities} on guest queues)`, trips.byKind.activity],
      ['**child workflow starts** (buildReplica, monitorReplicationSet)', trips.byKind.child],
      ['**signals to another workflow** (createReplicas → buildReplica: snapshot ready; a build phase that lasted 1 s → createReplicas)', trips.byKind.signal],
      ['**total**', trips.total],
      ['**one after the other** (steps issued by the same workflow task count once)', trips.sequential],
    ],
  );
  const concurrency = trips.concurrent.length
    ? `Some steps run concurrently (issued by one workflow task): ${trips.concurrent.map((g) => g.join(' + ')).join('; ')}. The target's floor counts each of them ` +
      '(the issue\'s "round trips"): a concurrent step saves the wait, not the workflow task its result wakes, and the orchestrator worker runs one ' +
      'workflow\'s tasks one at a time; counted once per group they give the lower, sequential floor.'
    : 'No two steps run concurrently: every step is issued by its own workflow task after the previous one finished (for N = 1 the parent ' +
      'only waits while its one child runs), so the sequential count equals the total. Not counted as round trips: the hand-back of the ' +
      "child's result to the parent, and the parent's workflow tasks that take the child's progress signals (they run while the child goes on).";

  const byLevel = x.plan.levels.map((c) => {
    const rs = x.runs.filter((r) => r.concurrency === c);
    const lat = rs.flatMap((r) => r.latenciesMs);
    return [
      c,
      formatSummary(summarize(rs.map((r) => r.opsPerSecond)), '', 2),
      fmtMs(summarize(rs.map((r) => percentile(r.latenciesMs, 50)))),
      ms(percentile(lat, 50), 0),
      ms(percentile(lat, 99), 0),
      `${rs[0]?.ops ?? 0} (${c} x ${plan.opsPerClient[c]})`,
    ];
  });
  const throughputTable = table(['concurrent operations', 'operations/s', 'latency p50 per run', 'latency p50, all runs', 'latency p99, all runs', 'operations per run'], byLevel);

  const parts = breakdown(x.analyses);
  const clientMedian = median(x.analyses.map((a) => a.clientMs));
  const partRows = parts
    .map((p) => ({ part: p.part, med: median(p.ms) }))
    .sort((a, b) => b.med - a.med)
    .map((p) => [p.part, ms(p.med), `${((100 * p.med) / clientMedian).toFixed(0)} %`]);
  const partsTable = table(['part of one operation (C = 1)', 'median per operation', 'of the median latency'], partRows);

  const steps = stepRows(x.analyses);
  const stepTable = table(
    ['step (C = 1, in order)', 'per operation', 'scheduled → picked up (median)', 'running (median)'],
    steps.map((s) => [s.label, s.perOp % 1 ? s.perOp.toFixed(2) : s.perOp, ms(median(s.queueMs)), ms(median(s.runMs))]),
  );

  return [
    'What createReplicas (N = 1) costs when nothing but orchestration happens: a real stack (Temporal dev server in memory, ' +
      'registry MariaDB, the orchestrator worker, mock Nova with its `fake` driver: servers are ACTIVE at once and no process runs) ' +
      'and guest agents that answer every guest activity at once with a value of the right shape (`bench/noop-guest.ts`: one activity ' +
      "worker per Nova server on `guest-<id>`, found by polling Nova's server list every 50 ms, all in the benchmark process). " +
      'Registry and Nova activities are real (SQL on the registry, HTTP to the mock Nova).',
    '',
    `**Yardstick.** A workflow calling a no-op activity ${plan.emptyCount} times in a row (\`bench/empty-workflow.ts\`, a worker in the ` +
      `benchmark process on its own task queue, same Temporal server); one activity = (wall of ${plan.emptyCount} − wall of 0) / ${plan.emptyCount}, ` +
      `measured ${opts.runs} times before any operation and again right before and right after each run of operations one at a time; the target holds ` +
      'the latency against the latter: on this VM the yardstick moved 6.5–13.5 ms from one run to the next while an operation\'s latency ' +
      'did not move with it, so a yardstick measured minutes earlier decided the target as much as the product did (bench/improvements.md §6); ' +
      'each run is held against the mean of the two samples around it (§9). ' +
      "An activity on the workflow's own queue is handed to the worker in the answer to " +
      "the workflow task (eager dispatch), so it passes through the server's task queues once (the workflow task that follows); one on " +
      'another worker\'s queue passes twice.',
    '',
    yardTable,
    '',
    `**Round trips of one operation**, counted in the histories of createReplicas and its buildReplica child ` +
      `(${x.sameEverywhere ? `the same in all ${x.analyses.length} measured operations` : `**not** the same in every operation; shown for the first of ${x.analyses.length}`}). ` +
      'An activity, a child workflow start and a signal to another workflow each count as one round trip.',
    '',
    tripTable,
    '',
    concurrency,
    '',
    `**Latency, one operation at a time** (client side, start request to result; ${x.singleMs.length} operations over ${opts.runs} runs after ${plan.warmup} unmeasured ones): ` +
      `p50 **${ms(p50, 0)}**, p99 **${ms(p99, 0)}**.`,
    '',
    `- The target's floor: ${trips.total} round trips x ${ms(empty.median)} = ${ms(floor.plainMs, 0)}; p50 is **${(p50 / floor.plainMs).toFixed(2)} x** ` +
      `that floor (target ≤ ${TARGET_FACTOR}). With concurrent steps counted once: ${trips.sequential} x ${ms(empty.median)} = ${ms(floor.sequentialMs, 0)}, ` +
      `p50 **${(p50 / floor.sequentialMs).toFixed(2)} x**. Run by run, each run's p50 against the mean of the yardsticks measured right before and right after it: ` +
      `${perRun.map((r) => `${r.toFixed(2)} x`).join(', ')}.`,
    `- The round trips are not alike: the ${ownQueue} activities on the orchestrator's queue are dispatched eagerly (scheduled → picked up ≈ 0 ms ` +
      `below, as the yardstick's first line), while the ${x.guestActivities} guest activities, ${trips.byKind.signal} signals and ${trips.byKind.child} child ` +
      "starts each pass twice through the server's task queues before the workflow goes on (as its second line). With each at its own kind's cost the " +
      `floor is ${ownQueue} x ${ms(empty.median)} + ${twoHops} x ${ms(other.median)} = ${ms(floor.byKindMs, 0)}, and p50 is **${(p50 / floor.byKindMs).toFixed(2)} x** that.`,
    '',
    `**Throughput.** A closed loop: C clients, each running createReplicas(N = 1) back to back on its own source (an operation holds its ` +
      `replication set's lock, so concurrent operations need distinct sources; ${x.sources} sources were provisioned first). operations/s = ` +
      `operations / wall time of the run; ${opts.runs} runs per level.`,
    '',
    throughputTable,
    '',
    '**Where the time goes** (C = 1, from the histories\' server timestamps; medians per operation, so the parts need not add up exactly):',
    '',
    partsTable,
    '',
    stepTable,
    '',
    `**CPU, which is what an operation waits for here.** One operation (C = 1) used ${ms(opCpu, 0)} of CPU, all processes together, in a p50 ` +
      `of ${ms(p50, 0)}: ${(opCpu / p50).toFixed(2)} cores busy on this 2-core machine. That is ${(opCpu / tripCpu).toFixed(1)} times the CPU of ` +
      `one empty activity round trip (${ms(tripCpu)}), for ${trips.total} round trips: the floor counts round trips, the machine counts work, ` +
      'and what an operation does besides its round trips (three workflow starts, signals, timers, search attributes, real registry SQL) ' +
      'is what keeps its latency above the floor. (User + system time from /proc of each part of the stack and its children, read around ' +
      'each run of one operation at a time and divided by its operations, and around each yardstick sample\'s empty activities.)',
    '',
    cpuTable,
    '',
    `**Why a round trip costs what it does here.** Every pass through the Temporal server's task queues (a workflow task or a non-eager ` +
      `activity handed to a worker, a signal delivered, a child started) took ${ms(hop)} here (median of the guest activities' "scheduled → ` +
      'picked up" and of the signals, though a signal involves no worker at all). The dev server (`temporal server start-dev`, as the stack runs it) ' +
      'has one history shard, whose transfer- and timer-queue readers poll at most 20 times a second by default (dynamic config ' +
      '`history.transferProcessorMaxPollRPS`, `history.timerProcessorMaxPollRPS`): every hop then waited up to 50 ms, and the empty activity ' +
      'cost ≈ 50 ms. The stack starts the dev server with both at 1000 (`scripts/stack/stack.ts`, improvements §1); what a round trip costs ' +
      'now is mostly the workers\' own work (the parts above). A production cluster has many shards, so these figures describe the local ' +
      'stack rather than Temporal at large.',
    '',
    'Notes:',
    '',
    "- Each createReplicas starts the set's `monitorReplicationSet` (ABANDON). Starting it is part of the operation and measured; the " +
      "monitor itself is terminated by the benchmark as soon as the operation's result arrives (otherwise every set would poll every second " +
      'and later runs would measure the monitors). It takes its first look a poll (1 s) after it starts, so it is mostly ended before ' +
      'it polls; at C > 1 one may poll before it is terminated.',
    '- After every run (and the warm-up) the replicas made are deleted (deleteInstance, not measured), so every run starts from the same ' +
      'world: the sources alone. The guest worker of a replica is stopped once its operation is done.',
    `- A new replica server waits for its no-op guest worker (Nova polled every 50 ms; creating a worker took ${fmtMs(summarize(x.guests.startMs))}); ` +
      `that wait shows in the "scheduled → picked up" of the replica's first guest activity, restoreSnapshot: ${ms(median(firstGuest))}, against ` +
      `${ms(median(laterGuest))} for the other guest activities.`,
    '- At C ≥ 10 operations mostly wait for CPU: on this 2-core machine the Temporal server and the orchestrator worker kept both cores ' +
      'busy (seen with top while writing this benchmark), so operations/s there says more about the machine than about the orchestrator.',
    '- The machine is shared (2 cores, another benchmark may run); every figure is noisy.',
  ].join('\n');
}
