// Section 1 (replica build) and section 5 (memory). A source holding --size-mib of InnoDB
// data; createReplicas for N = 1, 2, 3 split into phases from the operations' own progress
// steps, beside the same work done by bench/baseline-replica.sh with no orchestrator, in the
// same run and interleaved with it so drift of the machine hits both alike.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { freePort } from '../scripts/stack/stack';
import { workflowIds } from '../lib/names';
import type { OperationProgress } from '../lib/schemas';
import { activityResult } from '../test/helpers/histories';
import { adminQuery } from '../test/helpers/mysql';
import { snapshotsLeft } from '../test/helpers/invariants';
import { eventually, startTestStack, type TestStack } from '../test/helpers/stack';
import type { BenchOptions } from './run';
import { peakRssMiB } from './lib/procfs';
import { apiOk, member, waitIdle, type Member } from './lib/api';
import { table, type Section } from './lib/report';
import { formatSummary, summarize } from './lib/stats';
import { timeline } from './overhead/history';

const execFileP = promisify(execFile);
const APP = { user: 'bench', password: 'bench-pass-1' };
/** m1.small: 2 GiB RAM, so a 1 GiB buffer pool on every member and in the baseline alike. */
const FLAVOR = '2';
const BUFFER_POOL_MB = 1024;
const PHASES = ['snapshot', 'provision', 'restore', 'attach', 'catch_up'] as const;
type Phase = (typeof PHASES)[number];
type Phases = Record<Phase, number>;

interface BuildRun {
  n: number;
  totalS: number;
  phases: Phases;
  snapshotBytes: number;
  /** The slowest replica's restore activity, from its own result. */
  restore?: { extract: number; prepare: number; start: number };
}

/**
 * One line per step of the operation and of its slowest child, in ms from the operation's start:
 * "name scheduled>started>closed". Logged for every build, so a slow phase can be read off
 * the run's log without opening the Web UI.
 */
async function stepsLine(env: TestStack, operationId: string, childId: string): Promise<string> {
  const [parent, child] = await Promise.all([operationId, childId].map(async (id) => timeline((await env.temporal.workflow.getHandle(id).fetchHistory()).events ?? [])));
  const t0 = parent!.startedMs;
  const at = (ms?: number) => (ms === undefined ? '-' : String(Math.round(ms - t0)));
  const line = (t: NonNullable<typeof parent>) => t.steps.filter((s) => s.kind !== 'signal').map((s) => `${s.name} ${at(s.scheduledMs)}>${at(s.startedMs)}>${at(s.closedMs)}`).join(', ');
  return `parent: ${line(parent!)} | child: ${line(child!)} | closed ${at(parent!.closedMs)}`;
}

/** pipe: the backup streamed into mbstream; file: through a snapshot file the restore follows. */
type BaselineVia = 'pipe' | 'file';

interface BaselineRun {
  via: BaselineVia;
  totalS: number;
  phases: Record<string, number>;
}

const stepAt = (p: OperationProgress, phase: string): number => {
  const step = p.steps.find((s) => s.phase === phase);
  if (!step) throw new Error(`${p.operation} has no step ${phase}: ${p.steps.map((s) => s.phase).join(', ')}`);
  return Date.parse(step.at);
};

/**
 * Phases of one createReplicas from the workflow clock: snapshot in the parent; provision,
 * restore, attach and catch-up in the slowest child (the one the operation waited for).
 */
export function phasesOf(parent: OperationProgress, children: OperationProgress[]): Phases {
  const slowest = children.reduce((a, b) => (stepAt(a, 'active') >= stepAt(b, 'active') ? a : b));
  return {
    snapshot: (stepAt(parent, 'building replicas') - stepAt(parent, 'snapshot')) / 1000,
    provision: (stepAt(slowest, 'restoring') - stepAt(slowest, 'registering')) / 1000,
    restore: (stepAt(slowest, 'attaching') - stepAt(slowest, 'restoring')) / 1000,
    attach: (stepAt(slowest, 'catching up') - stepAt(slowest, 'attaching')) / 1000,
    catch_up: (stepAt(slowest, 'active') - stepAt(slowest, 'catching up')) / 1000,
  };
}

async function provisionSource(env: TestStack): Promise<Member> {
  const created = await apiOk(env, 'POST', '/v1.0/proj-a/instances', {
    instance: { name: 'bench-source', flavorRef: FLAVOR, volume: { size: 20 }, databases: [{ name: 'bench' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'bench' }] }] },
  });
  await waitIdle(env, created.instance.id);
  return member(env, created.instance.id);
}

/** Fills bench.data until its tablespace holds sizeMiB, in 64k-row statements. */
async function fill(ip: string, datadir: string, sizeMiB: number, log: (l: string) => void): Promise<number> {
  const c = await createConnection({ host: ip, port: 3306, ...APP, database: 'bench' });
  try {
    await c.query('CREATE TABLE data (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, pad VARCHAR(800) NOT NULL, KEY (k)) ENGINE=InnoDB');
    const file = path.join(datadir, 'bench', 'data.ibd');
    for (;;) {
      const size = statSync(file).size / 2 ** 20;
      if (size >= sizeMiB) {
        log(`source holds ${size.toFixed(0)} MiB in bench.data`);
        return size;
      }
      // Random text: no page compresses away, and every row differs.
      await c.query('INSERT INTO data (k, pad) SELECT FLOOR(RAND() * 1e9), REPEAT(MD5(RAND()), 25) FROM seq_1_to_32768');
    }
  } finally {
    await c.end();
  }
}

/** One at a time: deleting a replica holds its set's lock, so a second delete would be refused. */
async function deleteAll(env: TestStack, ids: string[]): Promise<void> {
  for (const id of ids) {
    await apiOk(env, 'DELETE', `/v1.0/proj-a/instances/${id}`);
    // The operation's end, not the 404: the set lock is released after the row is gone.
    await env.temporal.workflow.getHandle(workflowIds.deleteInstance(id)).result();
  }
}

async function buildOnce(env: TestStack, sourceId: string, n: number, peaks: { guest: number[] }, log: (line: string) => void): Promise<BuildRun> {
  const started = Date.now();
  const res = await apiOk(env, 'POST', `/v1.0/proj-a/instances/${sourceId}/action`, { replicate: { count: n, instance: { flavorRef: FLAVOR } } });
  const handle = env.temporal.workflow.getHandle(res.operation.id);
  const result = (await handle.result()) as { snapshotBytes: number; replicas: { replicaId: string; status: string; novaServerId?: string; error?: string }[] };
  const totalS = (Date.now() - started) / 1000;
  const failed = result.replicas.filter((r) => r.status !== 'ACTIVE');
  if (failed.length) throw new Error(`createReplicas(${n}) left failed replicas: ${JSON.stringify(failed)}`);
  const parent = await handle.query<OperationProgress>('progress');
  const children = await Promise.all(result.replicas.map((r) => env.temporal.workflow.getHandle(workflowIds.buildReplica(r.replicaId)).query<OperationProgress>('progress')));
  for (const r of result.replicas) {
    const pid = Number(readFileSync(path.join(env.dataDir, 'servers', r.novaServerId!, 'guest.pid'), 'utf8'));
    const peak = peakRssMiB(pid);
    if (peak !== undefined) peaks.guest.push(peak);
  }
  const slowest = children.reduce((a, b, i) => (stepAt(b, 'active') > stepAt(children[a]!, 'active') ? i : a), 0);
  const slowestChild = workflowIds.buildReplica(result.replicas[slowest]!.replicaId);
  const restore = (await activityResult<{ seconds?: BuildRun['restore'] }>(env.temporal, slowestChild, 'restoreSnapshot'))?.seconds;
  log(`createReplicas(${n}) steps (ms): ${await stepsLine(env, res.operation.id, slowestChild)}`);
  await deleteAll(env, result.replicas.map((r) => r.replicaId));
  // The store frees the deleted snapshot in the background: the next measurement must not share the machine with it.
  const left = await snapshotsLeft(env.dataDir);
  if (left.length) throw new Error(`snapshots not freed after the build: ${left.join(', ')}`);
  return { n, totalS, phases: phasesOf(parent, children), snapshotBytes: result.snapshotBytes, restore };
}

async function baselineOnce(env: TestStack, source: { ip: string; novaServerId: string }, run: number, via: BaselineVia): Promise<BaselineRun> {
  const serverDir = path.join(env.dataDir, 'servers', source.novaServerId);
  const { password } = JSON.parse(readFileSync(path.join(serverDir, 'admin.json'), 'utf8')) as { password: string };
  const target = mkdtempSync(path.join(os.tmpdir(), 'trove-baseline-'));
  const started = Date.now();
  try {
    const { stdout } = await execFileP(path.join(__dirname, 'baseline-replica.sh'), [], {
      env: {
        ...process.env,
        SRC_SOCKET: path.join(serverDir, 'run', 'mysqld.sock'),
        SRC_HOST: source.ip,
        SRC_USER: 'os_admin',
        MYSQL_PWD: password,
        REPL_USER: 'bench_baseline',
        REPL_PASSWORD: 'baseline-pass-1',
        TARGET_DIR: target,
        SERVER_ID: String(90_000 + run),
        BIND: '127.0.0.1',
        PORT: String(await freePort()),
        BUFFER_POOL_MB: String(BUFFER_POOL_MB),
        ...(via === 'file' ? { SNAPSHOT_FILE: path.join(target, 'snapshot.xbstream') } : {}),
      },
      maxBuffer: 1 << 20,
    });
    const totalS = (Date.now() - started) / 1000;
    const phases = Object.fromEntries([...stdout.matchAll(/^phase (\S+) ([\d.]+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    return { via, totalS, phases };
  } finally {
    try {
      process.kill(Number(readFileSync(path.join(target, 'mysqld.pid'), 'utf8')), 'SIGKILL');
    } catch {
      /* never started */
    }
    rmSync(target, { recursive: true, force: true });
  }
}

/** items starting at index k (mod length): run r measures the variants in order r. */
export function rotate<T>(items: readonly T[], k: number): T[] {
  const at = ((k % items.length) + items.length) % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
}

const fmt = (values: number[]) => formatSummary(summarize(values));

export async function benchReplicaBuild(opts: BenchOptions): Promise<Section[]> {
  const env = await startTestStack();
  const builds: BuildRun[] = [];
  const baselines: BaselineRun[] = [];
  const peaks = { guest: [] as number[], orchestrator: 0, sourceGuest: 0 };
  let sizeMiB: number;
  try {
    const source = await provisionSource(env);
    opts.log(`source ${source.id} ACTIVE; filling ${opts.sizeMiB} MiB`);
    sizeMiB = await fill(source.ip, path.join(env.dataDir, 'servers', source.novaServerId, 'mysql'), opts.sizeMiB, opts.log);
    // The fill leaves most of the buffer pool dirty; its background flush would slow
    // whichever run comes first. Flush now, so every run starts from the same state.
    await adminQuery(env.dataDir, source.novaServerId, 'SET GLOBAL innodb_max_dirty_pages_pct = 0');
    await eventually('dirty pages flushed', async () => {
      const [row] = await adminQuery<{ Value: string }>(env.dataDir, source.novaServerId, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
      return Number(row?.Value) < 100;
    }, 300_000);
    await adminQuery(env.dataDir, source.novaServerId, 'SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT');
    // Each measurement starts from an idle machine, and the order of the variants rotates
    // from run to run: memory freed just before a measurement is cheap to write again and
    // memory freed long ago is not (free page reporting, bench/README.md), so a fixed order
    // would hand one variant the warm memory its predecessor freed, every run.
    const settle = () => new Promise((r) => setTimeout(r, opts.settleS * 1000));
    const variants: (BaselineVia | number)[] = ['pipe', 'file', ...opts.replicaCounts];
    for (let run = 1; run <= opts.runs; run++) {
      for (const v of rotate(variants, run - 1)) {
        await settle();
        if (typeof v === 'number') {
          const r = await buildOnce(env, source.id, v, peaks, opts.log);
          opts.log(`run ${run}: createReplicas(${v}) ${r.totalS.toFixed(1)} s ${JSON.stringify(r.phases)} restore activity ${JSON.stringify(r.restore)}`);
          builds.push(r);
        } else {
          const b = await baselineOnce(env, source, run, v);
          opts.log(`run ${run}: baseline (${v}) ${b.totalS.toFixed(1)} s ${JSON.stringify(b.phases)}`);
          baselines.push(b);
        }
      }
    }
    await adminQuery(env.dataDir, source.novaServerId, "DROP USER IF EXISTS 'bench_baseline'@'%'");
    peaks.orchestrator = peakRssMiB(env.stack.parts.get('orchestrator')!.pid!) ?? NaN;
    peaks.sourceGuest = peakRssMiB(Number(readFileSync(path.join(env.dataDir, 'servers', source.novaServerId, 'guest.pid'), 'utf8'))) ?? NaN;
  } finally {
    await env.stop();
  }

  const totals = (n: number) => builds.filter((b) => b.n === n).map((b) => b.totalS);
  const via = (v: BaselineVia) => baselines.filter((b) => b.via === v);
  const base = summarize(via('pipe').map((b) => b.totalS));
  const baseFile = summarize(via('file').map((b) => b.totalS));
  // NaN when a count was not measured (--replicas): its target then reads as missed.
  const medianOf = (values: number[]) => (values.length ? summarize(values).median : NaN);
  const ratio = medianOf(totals(1)) / base.median;
  const ratioFile = medianOf(totals(1)) / baseFile.median;
  const scale = medianOf(totals(3)) / medianOf(totals(1));
  const snapshotMiB = builds[0] ? builds[0].snapshotBytes / 2 ** 20 : 0;
  const phaseRows = opts.replicaCounts.map((n) => {
    const runs = builds.filter((b) => b.n === n);
    return [`createReplicas N=${n}`, fmt(totals(n)), ...PHASES.map((p) => fmt(runs.map((r) => r.phases[p])))];
  });
  const baseRows = (['pipe', 'file'] as const).map((v) => [
    v === 'pipe' ? 'baseline script (N=1), backup piped into mbstream' : 'baseline script (N=1), backup through a snapshot file',
    fmt(via(v).map((b) => b.totalS)),
    fmt(via(v).map((b) => b.phases.snapshot_extract ?? NaN)),
    '—',
    fmt(via(v).map((b) => (b.phases.prepare ?? NaN) + (b.phases.start ?? NaN))),
    fmt(via(v).map((b) => b.phases.attach ?? NaN)),
    fmt(via(v).map((b) => b.phases.catch_up ?? NaN)),
  ]);
  const body = [
    `Source: ${sizeMiB.toFixed(0)} MiB InnoDB tablespace (bench.data, random rows), snapshot stream ${snapshotMiB.toFixed(0)} MiB; flavor m1.small (1 GiB buffer pool) for every member and the baseline. Each run measures both baselines and N = ${opts.replicaCounts.join(', ')}, in an order that rotates from run to run; replicas are deleted after each build (and the snapshot freed), and every measurement starts after ${opts.settleS} s idle, so no variant always inherits the memory another just freed (see the machine line).`,
    '',
    table(['Build', 'Total', 'Snapshot', 'Provision', 'Restore (extract+prepare+start)', 'Attach', 'Catch-up'], [...phaseRows, ...baseRows]),
    '',
    `- Phases of createReplicas come from the operation's progress steps (workflow clock): snapshot in the parent, the rest in the slowest buildReplica child. The baselines extract while the backup runs, so their "snapshot" column is snapshot + extract and their restore column is prepare + start.`,
    `- The first baseline is the issue's: the backup piped straight into mbstream. The second does by hand what createReplicas does (the backup writes a snapshot file; the restore follows it with \`tail -f\`): its difference from the first is the price of keeping the snapshot, its difference from createReplicas the price of orchestrating.`,
    `- Ratio createReplicas(N=1) / piped baseline = ${ratio.toFixed(2)}; / snapshot-file baseline = ${ratioFile.toFixed(2)}; snapshot-file / piped baseline = ${(baseFile.median / base.median).toFixed(2)} (medians); N=3 / N=1 = ${scale.toFixed(2)}.`,
  ].join('\n');
  const memBody = [
    table(['Process', 'Peak RSS (VmHWM)'], [
      ['orchestrator worker (whole section)', `${peaks.orchestrator.toFixed(0)} MiB`],
      ['guest agent of the source (snapshots of every run)', `${peaks.sourceGuest.toFixed(0)} MiB`],
      ['guest agent of a replica (restore)', formatSummary(summarize(peaks.guest), 'MiB', 0)],
    ]),
    '',
    'VmHWM from /proc/<pid>/status: the kernel\'s high-water mark of resident memory, read before each process ends. Node processes only; mariadbd is not counted.',
  ].join('\n');
  return [
    {
      id: 'build',
      title: 'Replica build',
      body,
      targets: [
        { what: `createReplicas(N=1) / piped shell baseline <= 1.2 (at ${sizeMiB.toFixed(0)} MiB; the target is set at 1 GiB)`, measured: ratio.toFixed(2), met: ratio <= 1.2 },
        { what: 'createReplicas N=3 <= 2 x N=1', measured: scale.toFixed(2), met: scale <= 2 },
      ],
      raw: { sizeMiB, builds, baselines },
    },
    { id: 'memory', title: 'Memory', body: memBody, targets: [], raw: peaks },
  ];
}
