// Issue 17's scale rows: how many sets one orchestrator worker watches (detection p99 <= 2 s on
// <= 1 core), and how fast every set is watched again when one of two workers is SIGKILLed.
// Every member is a MySQL-protocol stand-in (bench/lib/mysql-standin.ts: greeting, the
// monitoring account's reads, scripted state), all in one process of their own; the sets
// are written straight into the registry (no servers built); the watches are the real
// watchReplicationSet workflows on the real Temporal dev server, run by real orchestrator
// worker processes (workers/orchestrator.ts) started here.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorWorkflowId, ORCHESTRATOR_TASK_QUEUE } from '../lib/names';
import { ORCHESTRATOR_NODE_FLAGS } from '../workers/node-flags';
import { parseSecretKey, sealSecret } from '../lib/secrets';
import { sleep, startTestStack, type TestStack } from '../test/helpers/stack';
import type { BenchOptions } from './run';
import { table, type Section } from './lib/report';
import { percentile } from './lib/stats';
import { treeCpuMs } from './lib/procfs';
import { eventKind, timeMs } from './overhead/history';

const REPO = path.join(__dirname, '..');
const PROJECT = 'proj-bench';
const ACTION_KINDS = new Set(['activityTaskScheduled', 'timerStarted', 'startChildWorkflowExecutionInitiated', 'signalExternalWorkflowExecutionInitiated', 'workflowExecutionStarted', 'workflowExecutionContinuedAsNew', 'workflowExecutionSignaled']);
/** Events and actions of the hourly checkpoint round (bench/watch.ts). */
const CHECKPOINT_EVENTS = 6;
const CHECKPOINT_ACTIONS = 1;

export interface BenchSet {
  setId: string;
  sourceId: string;
  replicaId: string;
}

function procStat(pid: number): { cpuS: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS: (Number(f[11]) + Number(f[12])) / 100, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');

export class StandInProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(logFile: string): Promise<StandInProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'lib', 'standin-server.ts')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.pipe(createWriteStream(logFile, { flags: 'a' }));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /standins (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`stand-ins exited with ${code}`)));
    });
    return new StandInProcess(child, `http://127.0.0.1:${port}`);
  }

  async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await fetch(this.url + url, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`stand-ins ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/** An orchestrator worker process (node --import tsx, so the pid is the worker's own). */
export function startWorker(env: TestStack, logFile: string, profileDir?: string): { child: ChildProcess; polling: Promise<void> } {
  // WATCH_SCALE_WORKER_FLAGS: node flags for the workers (--trace-gc, a heap size), for a diagnosis.
  const flags = process.env.WATCH_SCALE_WORKER_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...ORCHESTRATOR_NODE_FLAGS, ...flags, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', path.join(REPO, 'workers', 'orchestrator.ts')], {
    cwd: REPO,
    env: { ...process.env, ...env.stack.env, TROVE_ORCHESTRATOR_METRICS_PORT: '0', TROVE_ORCHESTRATOR_SDK_METRICS_PORT: '0', TROVE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr!.pipe(log);
  const polling = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      if (out.length < 100_000) out += d.toString();
      if (out.includes('orchestrator worker polling')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`orchestrator exited with ${code} (log: ${logFile})`)));
  });
  return { child, polling };
}

/** Writes the sets straight into the registry: a source and one replica each, auto failover on, failover_after 1 s, monitoring accounts ready. */
export async function registerSets(env: TestStack, standIns: StandInProcess, count: number, offset: number): Promise<BenchSet[]> {
  const sets: BenchSet[] = Array.from({ length: count }, () => ({ setId: randomUUID(), sourceId: randomUUID(), replicaId: randomUUID() }));
  const sealed = sealSecret(parseSecretKey(env.stack.env.TROVE_SECRET_KEY!), 'stand-in');
  const pool = env.registry!.pool;
  for (let i = 0; i < sets.length; i += 200) {
    const chunk = sets.slice(i, i + 200);
    const members = chunk.flatMap((s, j) => [
      { id: s.sourceId, port: 0, serverId: 2 * (offset + i + j) + 1 },
      { id: s.replicaId, port: 0, serverId: 2 * (offset + i + j) + 2, sourceId: s.sourceId },
    ]);
    const { ports } = await standIns.call<{ ports: number[] }>('POST', '/members', members);
    await pool.query('INSERT INTO replication_sets (id, project_id, auto_failover, failover_after_s) VALUES ?', [chunk.map((s) => [s.setId, PROJECT, 1, 1])]);
    await pool.query(
      `INSERT INTO instances (id, project_id, name, status, flavor_id, volume_size, nova_server_id, address, port, replication_set_id, read_only, monitor_secret, monitor_ready) VALUES ?`,
      [
        chunk.flatMap((s, j) => [
          [s.sourceId, PROJECT, `scale-${offset + i + j}`, 'ACTIVE', '1', 1, randomUUID(), '127.0.0.1', ports[2 * j], s.setId, 0, sealed, 1],
          [s.replicaId, PROJECT, `scale-${offset + i + j}-r`, 'ACTIVE', '1', 1, randomUUID(), '127.0.0.1', ports[2 * j + 1], s.setId, 1, sealed, 1],
        ]),
      ],
    );
    await pool.query('INSERT INTO server_ids (instance_id) VALUES ?', [chunk.flatMap((s) => [[s.sourceId], [s.replicaId]])]);
    await pool.query('INSERT INTO replication_links (replica_id, source_id, set_id) VALUES ?', [chunk.map((s) => [s.replicaId, s.sourceId, s.setId])]);
  }
  return sets;
}

async function inParallel<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function startWatches(env: TestStack, sets: BenchSet[]): Promise<void> {
  await inParallel(sets, 20, async (s) => {
    await env.temporal.workflow.start('watchReplicationSet', { taskQueue: ORCHESTRATOR_TASK_QUEUE, workflowId: monitorWorkflowId(s.setId), args: [{ setId: s.setId, projectId: PROJECT }] });
  });
}

/** Every set's health is in the registry (its watch polled it at least once), or the time is up: how many are, and when. */
export async function waitWatched(env: TestStack, sets: BenchSet[], timeoutMs: number): Promise<{ watched: number; seconds: number }> {
  const started = Date.now();
  for (;;) {
    const [rows] = (await env.registry!.pool.query('SELECT COUNT(DISTINCT set_id) AS n FROM replication_health WHERE set_id IN (?)', [sets.map((s) => s.setId)])) as unknown as [{ n: number }[]];
    const watched = Number(rows[0]!.n);
    if (watched >= sets.length || Date.now() - started > timeoutMs) return { watched, seconds: (Date.now() - started) / 1000 };
    await sleep(1000);
  }
}

async function historyOf(env: TestStack, setId: string) {
  const events = (await env.temporal.workflow.getHandle(monitorWorkflowId(setId)).fetchHistory()).events ?? [];
  return events.map((e) => ({ kind: eventKind(e), at: timeMs(e.eventTime) }));
}

interface Window {
  sets: number;
  members: number;
  windowS: number;
  cpuCorePct: number;
  cpuPerSetPct: number;
  /** The Temporal dev server's CPU over the same window (its heartbeats' cost, chiefly). */
  serverCpuCorePct: number;
  rssMiB: number;
  eventsPerSetHour: number;
  actionsPerSetHour: number;
  eventsInWindow: number;
  sampledSets: number;
  readsPerMemberSecond: number;
  /** The probe's fresh connection every 5 s is 0.2; more: reads that failed and reconnected, members probed every poll. */
  connectionsPerMemberSecond: number;
  load: string;
}

async function measureWindow(env: TestStack, standIns: StandInProcess, pid: number, sets: BenchSet[], windowS: number, log: (l: string) => void): Promise<Window> {
  const { reads: q0, connections: c0 } = await standIns.call<{ reads: number; connections: number }>('GET', '/stats');
  const serverCpuMs = () => treeCpuMs({ temporal: env.stack.parts.get('temporal')?.pid }).temporal!;
  const s0 = procStat(pid);
  const server0 = serverCpuMs();
  const t0 = Date.now();
  let rssMiB = s0.rssMiB;
  const loadAt = load();
  for (let waited = 0; waited < windowS; waited += 5) {
    await sleep(Math.min(5, windowS - waited) * 1000);
    rssMiB = Math.max(rssMiB, procStat(pid).rssMiB);
  }
  const s1 = procStat(pid);
  const server1 = serverCpuMs();
  const t1 = Date.now();
  const { reads: q1, connections: c1 } = await standIns.call<{ reads: number; connections: number }>('GET', '/stats');
  const seconds = (t1 - t0) / 1000;
  // History of a sample of the sets (reading a thousand histories would load the machine the window measures).
  const sample = sets.filter((_, i) => i % Math.max(1, Math.floor(sets.length / 100)) === 0);
  let events = 0;
  let actions = 0;
  for (const s of sample) {
    const inWindow = (await historyOf(env, s.setId)).filter((e) => e.at >= t0 && e.at <= t1);
    events += inWindow.length;
    actions += inWindow.filter((e) => ACTION_KINDS.has(e.kind)).length;
  }
  const cpuCorePct = ((s1.cpuS - s0.cpuS) / seconds) * 100;
  const w: Window = {
    sets: sets.length,
    members: sets.length * 2,
    windowS: Math.round(seconds),
    cpuCorePct,
    cpuPerSetPct: cpuCorePct / sets.length,
    serverCpuCorePct: (server1 - server0) / 10 / seconds,
    rssMiB,
    eventsInWindow: events,
    sampledSets: sample.length,
    eventsPerSetHour: (events / sample.length) * (3600 / seconds) + CHECKPOINT_EVENTS,
    actionsPerSetHour: (actions / sample.length) * (3600 / seconds) + CHECKPOINT_ACTIONS,
    // Two statements per member per poll.
    readsPerMemberSecond: (q1 - q0) / (sets.length * 2) / seconds,
    connectionsPerMemberSecond: (c1 - c0) / (sets.length * 2) / seconds,
    load: loadAt,
  };
  log(`${sets.length} sets: worker CPU ${cpuCorePct.toFixed(1)} % of a core (Temporal dev server ${w.serverCpuCorePct.toFixed(1)} %), RSS ${rssMiB.toFixed(0)} MiB, ${w.readsPerMemberSecond.toFixed(2)} reads and ${w.connectionsPerMemberSecond.toFixed(2)} new connections per member per second, ${events} events in the window over ${sample.length} sets (load ${loadAt})`);
  return w;
}

/** Flips sources dead one at a time at random moments; detection = flip to the start of that set's automatic eject. */
async function measureDetection(env: TestStack, standIns: StandInProcess, sets: BenchSet[], flips: number, log: (l: string) => void): Promise<{ detections: number[]; decided: number[]; missing: number; load: string; flipped: string[] }> {
  const chosen = [...sets].sort(() => Math.random() - 0.5).slice(0, flips);
  const flippedAt = new Map<string, number>();
  const loadAt = load();
  for (const s of chosen) {
    // A random moment of the poll interval (and a little more), so the flips do not line up with the sets' phases.
    await sleep(200 + Math.random() * 1000);
    const { at } = await standIns.call<{ at: number }>('POST', '/state', { id: s.sourceId, state: 'dead' });
    flippedAt.set(s.setId, at);
  }
  log(`${flips} sources flipped dead; waiting for their automatic ejects`);
  const found = new Map<string, number>();
  const deadline = Date.now() + 120_000;
  while (found.size < chosen.length && Date.now() < deadline) {
    for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'ejectReplicaSource'` })) {
      const s = chosen.find((c) => w.workflowId.startsWith(`eject-automatic-${c.setId}`));
      if (s && !found.has(s.setId)) {
        found.set(s.setId, w.startTime.getTime());
        // The eject would fence through Nova, which this bench does not run: it is stopped here.
        await env.temporal.workflow.getHandle(w.workflowId).terminate('bench: detection measured').catch(() => undefined);
      }
    }
    await sleep(1000);
  }
  const detected = chosen.filter((s) => found.has(s.setId));
  const detections = detected.map((s) => (found.get(s.setId)! - flippedAt.get(s.setId)!) / 1000);
  // Where each detection's time went: the watch deciding (flip -> its activity completed with the
  // failover) and the workflow acting on it (-> the eject started; a replay first if evicted).
  const decided: number[] = [];
  for (const s of detected) {
    const events = await historyOf(env, s.setId);
    const done = events.filter((e) => e.kind === 'activityTaskCompleted' && e.at <= found.get(s.setId)!).pop();
    if (done) decided.push((done.at - flippedAt.get(s.setId)!) / 1000);
  }
  return { detections, decided, missing: chosen.length - detections.length, load: loadAt, flipped: chosen.map((s) => s.setId) };
}

/** Two workers; the one running every watch is SIGKILLed: how long until each set is read again by the survivor. */
async function measureWorkerLoss(env: TestStack, standIns: StandInProcess, sets: BenchSet[], first: ChildProcess, logDir: string, log: (l: string) => void) {
  const second = startWorker(env, path.join(logDir, 'orchestrator-2.log'));
  await second.polling;
  await sleep(5000);
  const loadAt = load();
  const killAt = Date.now();
  await standIns.call('POST', '/mark', { at: killAt });
  first.kill('SIGKILL');
  log(`worker ${first.pid} SIGKILLed; waiting for worker ${second.child.pid} to read every set again`);
  const ids = sets.flatMap((s) => [s.sourceId, s.replicaId]);
  let marked: Record<string, number> = {};
  const deadline = killAt + 90_000;
  while (Date.now() < deadline) {
    await sleep(1000);
    marked = await standIns.call<Record<string, number>>('GET', '/marked');
    if (ids.every((id) => marked[id] !== undefined)) break;
  }
  const again = sets.filter((s) => marked[s.sourceId] !== undefined && marked[s.replicaId] !== undefined).map((s) => (Math.max(marked[s.sourceId]!, marked[s.replicaId]!) - killAt) / 1000);
  return { second: second.child, again, missing: sets.length - again.length, load: loadAt };
}

export async function benchWatchScale(opts: BenchOptions): Promise<Section[]> {
  const scales = process.env.WATCH_SCALE_SETS ? process.env.WATCH_SCALE_SETS.split(',').map(Number) : opts.quick ? [20, 100] : [100, 1000];
  /** WATCH_SCALE_PROFILE=<dir>: the first worker writes a CPU profile there, and the run ends after the windows. */
  const profile = process.env.WATCH_SCALE_PROFILE;
  const windowS = opts.quick ? 20 : 60;
  const flips = opts.quick ? 10 : 60;
  const env = await startTestStack({ parts: ['temporal', 'registry'] });
  const logDir = env.dataDir;
  const standIns = await StandInProcess.start(path.join(logDir, 'standins.log'));
  const workers: ChildProcess[] = [];
  try {
    const first = startWorker(env, path.join(logDir, 'orchestrator-1.log'), profile);
    workers.push(first.child);
    await first.polling;
    const pid = first.child.pid!;
    opts.log(`orchestrator worker ${pid} polling (logs in ${logDir})`);
    const sets: BenchSet[] = [];
    const windows: Window[] = [];
    const watchedAtStart: { watched: number; seconds: number }[] = [];
    for (const n of scales) {
      const added = await registerSets(env, standIns, n - sets.length, sets.length);
      sets.push(...added);
      await startWatches(env, added);
      const w = await waitWatched(env, sets, 240_000);
      watchedAtStart.push(w);
      opts.log(`${sets.length} sets registered, ${w.watched} watched ${w.seconds.toFixed(0)} s after their start; settling`);
      await sleep(15_000);
      windows.push(await measureWindow(env, standIns, pid, sets, windowS, opts.log));
    }
    if (profile) {
      first.child.kill('SIGINT');
      await new Promise((r) => first.child.once('exit', r));
      opts.log(`CPU profile written in ${profile}`);
      throw new Error('profile run: no figures recorded');
    }
    const detection = await measureDetection(env, standIns, sets, flips, opts.log);
    // Sets whose source is dead are not read again: the worker-loss figure is over the others.
    const flipped = new Set(detection.flipped);
    const healthy = sets.filter((s) => !flipped.has(s.setId));
    const loss = await measureWorkerLoss(env, standIns, healthy, first.child, logDir, opts.log);
    workers.push(loss.second);

    const d = [...detection.detections].sort((a, b) => a - b);
    const dd = [...detection.decided].sort((a, b) => a - b);
    if (d.length && dd.length) opts.log(`detection p50 ${percentile(d, 50).toFixed(2)} s, p99 ${percentile(d, 99).toFixed(2)} s; of which the watch deciding p50 ${percentile(dd, 50).toFixed(2)} s, p99 ${percentile(dd, 99).toFixed(2)} s`);
    const a = [...loss.again].sort((x, y) => x - y);
    const big = windows[windows.length - 1]!;
    const p99 = d.length ? percentile(d, 99) : NaN;
    const body = [
      `Sets of a source and one replica, written straight into the registry (auto failover on, failover_after = 1 s, poll 1 s, monitoring accounts ready). **Every member is a MySQL-protocol stand-in** (bench/lib/mysql-standin.ts on mysql2's server side, all ${big.members} in one process of their own, one port each), answering the watch's greeting probe and its reads (a replica's SHOW SLAVE STATUS and the gtid, read_only, server_id and semi-sync variables in one query; a source's variables alone) from a scripted state. The watches are the real watchReplicationSet workflows on the Temporal dev server, run by a real orchestrator worker process (workers/orchestrator.ts); the worker's CPU and RSS are its own process's (/proc). The dev server's CPU is what serving the watches cost Temporal in the window: no history event is written, so it is the watches' heartbeats (one per watch every 120 s) and the workers' polls. The Temporal dev server, the registry and the stand-ins ran on the same 2 cores (load average beside each figure).`,
      '',
      table(
        ['Sets (members)', 'Worker CPU (% of one core)', 'per set', 'Temporal dev server CPU', 'Worker RSS', 'Reads per member per second', 'History events / actions per set-hour', 'Load (1/5/15 min)'],
        windows.map((w, i) => [`${w.sets} (${w.members}); ${watchedAtStart[i]!.watched} watched ${watchedAtStart[i]!.seconds.toFixed(0)} s after their start`, `${w.cpuCorePct.toFixed(1)} %`, `${w.cpuPerSetPct.toFixed(3)} %`, `${w.serverCpuCorePct.toFixed(1)} %`, `${w.rssMiB.toFixed(0)} MiB`, w.readsPerMemberSecond.toFixed(2), `${w.eventsPerSetHour.toFixed(0)} / ${w.actionsPerSetHour.toFixed(0)} (${w.eventsInWindow} events in ${w.windowS} s over ${w.sampledSets} sampled sets, plus the hourly checkpoint round)`, w.load]),
      ),
      '',
      `- Detection with ${big.sets} sets watched: ${flips} sources flipped dead one after another at random moments (the stand-in closes its connections and refuses new ones, and its replica reports its IO thread reconnecting), each timed from the flip to the start of that set's automatic eject (the watch's failover decision, acted on by the workflow): **p50 ${d.length ? percentile(d, 50).toFixed(2) : '—'} s, p99 ${p99.toFixed(2)} s**, max ${d.length ? d[d.length - 1]!.toFixed(2) : '—'} s over the ${d.length} detected (of which the watch deciding, flip to its activity's completion: p50 ${dd.length ? percentile(dd, 50).toFixed(2) : '—'} s, p99 ${dd.length ? percentile(dd, 99).toFixed(2) : '—'} s; the rest is the workflow starting the eject)${detection.missing ? `, ${detection.missing} not detected within 120 s` : ''} (load ${detection.load}). The ejects were terminated at once: they would fence through Nova, which this bench does not run.`,
      `- Two workers, one SIGKILLed: a second worker was started beside the first, which held every watch; the first was SIGKILLed and each set timed until the survivor read both its members on new connections: **p50 ${a.length ? percentile(a, 50).toFixed(2) : '—'} s, p99 ${a.length ? percentile(a, 99).toFixed(2) : '—'} s, max ${a.length ? a[a.length - 1]!.toFixed(2) : '—'} s** over ${a.length} sets${loss.missing ? `, ${loss.missing} not read again within 90 s` : ''} (load ${loss.load}). The hand-over decides it (workers/watch-handover.ts): the killed worker's registry session ends and frees the named lock it held, the survivor sees that at its next beat (<= 0.4 s; a worker whose session stays open is found absent after 2 s) and fails its watches' attempts, and Temporal retries them (200 ms) on the survivor, which then starts them all at once. The watch's heartbeat timeout (150 s) is only the fallback.`,
    ].join('\n');
    const maxAgain = a.length ? a[a.length - 1]! : Infinity;
    const targets = [
      { what: `sets one worker watches, detection p99 <= 2 s, <= 1 CPU core (${big.sets} sets, ${big.members} members)`, measured: `CPU ${big.cpuCorePct.toFixed(0)} % of a core, p99 ${p99.toFixed(2)} s`, met: big.sets >= 1000 && big.cpuCorePct <= 100 && p99 <= 2 },
      { what: 'two orchestrator workers, one SIGKILLed: every set watched again within 5 s', measured: `${maxAgain.toFixed(2)} s (worst of ${a.length} sets)${loss.missing ? `, ${loss.missing} missing` : ''}`, met: loss.missing === 0 && maxAgain <= 5 },
    ];
    return [{ id: 'watch-scale', title: 'Watching many replication sets (stand-in members)', body, targets, raw: { windows, watchedAtStart, detection: { detections: detection.detections, decided: detection.decided, missing: detection.missing, load: detection.load }, workerLoss: { again: loss.again, missing: loss.missing, load: loss.load } } }];
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    standIns.stop();
    await env.stop();
  }
}
