// Sections 3 (failover) and 4 (switchover) under a steady writer. Failover: the source's
// server is killed through Nova (SIGKILL of its process group) with automatic failover on,
// semi-sync off and on; detection = crash to the start of the automatic eject, recovery =
// crash to the first write acknowledged by another member; lost = acknowledged writes the
// new source lacks. After each trial the fenced old source is deleted and a new replica
// built, so every trial starts from a source and two replicas. Switchover: the longest
// time without an acknowledged write while promoteToReplicaSource runs.
import { createConnection } from 'mysql2/promise';
import { workflowIds } from '../lib/names';
import type { CreateReplicasResult, OperationProgress } from '../lib/schemas';
import { adminQuery } from '../test/helpers/mysql';
import { eventually, sleep, startTestStack, type TestStack } from '../test/helpers/stack';
import type { BenchOptions } from './run';
import { apiOk, member, showInstance, waitIdle, type Member } from './lib/api';
import { table, type Section } from './lib/report';
import { formatSummary, summarize } from './lib/stats';
import { SteadyWriter } from './lib/writer';
import { eventKind, timeMs } from './overhead/history';
import { failoverMilestones, milestoneTable, type Milestones } from './lib/failover-timeline';

const APP = { user: 'app', password: 'bench-app-2', database: 'shop' };
const FAILOVER_AFTER_S = 1;

interface FailoverTrial {
  semiSync: boolean;
  detectionS: number;
  crashToWriteS: number;
  /** The same, for a client that finds the source through the REST API (issue 17). */
  apiCrashToWriteS?: number;
  acked: number;
  lost: number;
  /** Where the time went: milestones in ms after the crash (bench/lib/failover-timeline.ts). */
  milestones?: Milestones;
}

/** The set as the registry has it once every member is idle: source first. */
async function settledSet(env: TestStack, sourceId: string): Promise<Member[]> {
  const src = await waitIdle(env, sourceId);
  const replicaIds: string[] = (src.replicas ?? []).map((r: { id: string }) => r.id);
  for (const r of replicaIds) await waitIdle(env, r);
  return Promise.all([sourceId, ...replicaIds].map((id) => member(env, id)));
}

async function replicate(env: TestStack, sourceId: string, count: number): Promise<void> {
  const res = await apiOk(env, 'POST', `/v1.0/proj-a/instances/${sourceId}/action`, { replicate: { count } });
  const result = (await env.temporal.workflow.getHandle(res.operation.id).result()) as CreateReplicasResult;
  // A replica that failed to build would leave the next trial a member short.
  const failed = result.replicas.filter((r) => r.status !== 'ACTIVE');
  if (failed.length) throw new Error(`replicate ${res.operation.id}: ${failed.length} of ${count} replica(s) failed: ${failed.map((r) => r.error).join('; ')}`);
}

/** The trial starts once the monitor has applied the setting to every member. */
async function semiSyncActive(env: TestStack, set: Member[], on: boolean): Promise<void> {
  const status = async (m: Member, name: string) =>
    (await adminQuery<{ Value: string }>(env.dataDir, m.novaServerId, `SHOW GLOBAL STATUS LIKE '${name}'`))[0]?.Value === 'ON';
  await eventually(`semi-sync ${on ? 'on' : 'off'} on every member`, async () => {
    const [source, ...replicas] = set;
    if ((await status(source!, 'Rpl_semi_sync_master_status')) !== on) return false;
    for (const r of replicas) if ((await status(r, 'Rpl_semi_sync_slave_status')) !== on) return false;
    return true;
  }, 60_000);
}

async function idsOn(ip: string, from: number): Promise<Set<number>> {
  const c = await createConnection({ host: ip, port: 3306, ...APP });
  try {
    const [rows] = await c.query('SELECT id FROM writes WHERE id >= ?', [from]);
    return new Set((rows as { id: number }[]).map((r) => r.id));
  } finally {
    await c.end();
  }
}

/** What a stuck trial looks like, for the error message. */
async function diagnose(env: TestStack, set: Member[], writer: SteadyWriter) {
  const members = await Promise.all(
    set.map(async (m) => {
      const view = await showInstance(env, m.id);
      const db = await adminQuery(env.dataDir, m.novaServerId, "SELECT @@global.read_only AS ro, @@global.rpl_semi_sync_master_enabled AS ssm, @@global.rpl_semi_sync_slave_enabled AS sss, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS') AS ss_status").catch((e) => String(e));
      const processes = await adminQuery(env.dataDir, m.novaServerId, "SELECT USER, STATE, LEFT(INFO, 60) AS info FROM information_schema.PROCESSLIST WHERE USER IN ('app', 'system user') OR USER LIKE 'repl%'").catch(() => []);
      return { id: m.id, status: view?.status, writable: view?.writable, replicaOf: view?.replica_of?.id, db, processes };
    }),
  );
  const ops = await env.temporal.workflow.list({ query: `WorkflowType = 'ejectReplicaSource'` });
  const ejects: unknown[] = [];
  for await (const w of ops) ejects.push({ id: w.workflowId, status: w.status.name, start: w.startTime });
  // The monitor decides the failover: is it running, and what does it see?
  const monitors: unknown[] = [];
  for await (const w of env.temporal.workflow.list({ query: `WorkflowType IN ('monitorReplicationSet', 'watchReplicationSet')` })) {
    const handle = env.temporal.workflow.getHandle(w.workflowId, w.runId);
    const health = await handle.query<{ decision: unknown; health: unknown }>('health').catch((e: unknown) => String(e));
    const events = (await handle.fetchHistory().catch(() => ({ events: [] }))).events ?? [];
    const last = events.slice(-6).map(eventKind);
    const pending = ((await handle.describe().catch(() => undefined))?.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt }));
    monitors.push({ id: w.workflowId, runId: w.runId, status: w.status.name, start: w.startTime, health, lastEvents: last, pending });
  }
  return { lastAcks: writer.acks.slice(-2), members, ejects, monitors };
}

/** The running monitor's steps (activities, timers) between two moments, for a slow detection. */
async function monitorSteps(env: TestStack, fromMs: number, toMs: number): Promise<string> {
  const steps: string[] = [];
  for await (const w of env.temporal.workflow.list({ query: `WorkflowType IN ('monitorReplicationSet', 'watchReplicationSet') AND ExecutionStatus = 'Running'` })) {
    const history = await env.temporal.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const names = new Map<string, string>();
    for (const e of history.events ?? []) {
      const at = timeMs(e.eventTime);
      const id = String(e.eventId);
      const sched = e.activityTaskScheduledEventAttributes;
      if (sched) names.set(id, `${sched.activityType?.name}@${sched.taskQueue?.name?.slice(0, 14)}`);
      if (at < fromMs || at > toMs) continue;
      const kind = eventKind(e);
      // An activity's later events name it by the event that scheduled it.
      const ref = (e as Record<string, { scheduledEventId?: unknown } | undefined>)[`${kind}EventAttributes`]?.scheduledEventId;
      steps.push(`${((at - fromMs) / 1000).toFixed(2)}s ${kind} ${names.get(sched ? id : String(ref)) ?? ''}`);
    }
  }
  return steps.join(' | ');
}

/**
 * A client that finds the source through the REST API: every 100 ms it asks the API for the
 * set's members and writes to the one named source (no replica_of) other than the crashed
 * one; the time of its first accepted write. Ids from `firstId` down, apart from the writer's.
 */
async function apiDiscoveringWrite(env: TestStack, set: Member[], oldSourceId: string, firstId: number, deadline: number): Promise<{ namedAt: number; writeAt: number }> {
  let namedAt = NaN;
  for (let id = firstId; Date.now() < deadline; id--) {
    const views = await Promise.all(set.filter((m) => m.id !== oldSourceId).map(async (m) => ({ m, v: await showInstance(env, m.id).catch(() => undefined) })));
    // Not its status: members show the operation (EJECT) until it ends, while the new source takes writes.
    const named = views.find(({ v }) => v && !v.replica_of);
    if (named) {
      if (Number.isNaN(namedAt)) namedAt = Date.now();
      const c = await createConnection({ host: named.m.ip, port: 3306, ...APP, connectTimeout: 500 }).catch(() => undefined);
      if (c) {
        const ok = await c.query({ sql: 'INSERT INTO writes (id, v) VALUES (?, ?)', values: [id, 'api'], timeout: 1000 }).then(() => true, () => false);
        c.destroy();
        if (ok) return { namedAt, writeAt: Date.now() };
      }
    }
    await sleep(100);
  }
  throw new Error('the API named no writable source in time');
}

async function failoverTrial(env: TestStack, sourceId: string, semiSync: boolean, firstId: number, log: (l: string) => void): Promise<{ trial: FailoverTrial; newSourceId: string }> {
  const set = await settledSet(env, sourceId);
  if (set.length !== 3) throw new Error(`the trial needs a source and two replicas; the set of ${sourceId} has ${set.length} member(s)`);
  const source = set[0]!;
  await apiOk(env, 'PATCH', `/v1.0/proj-a/instances/${sourceId}/replication`, { replication: { auto_failover: true, failover_after: FAILOVER_AFTER_S, semi_sync: semiSync, acknowledge_failover: true } });
  await semiSyncActive(env, set, semiSync);
  const writer = new SteadyWriter(Object.fromEntries(set.map((m) => [m.id, m.ip])), APP, source.id, firstId);
  writer.start();
  await sleep(2000);
  const crashAt = Date.now();
  await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${source.novaServerId}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  const viaApi = apiDiscoveringWrite(env, set, source.id, firstId + 999_999, crashAt + 60_000).catch(() => ({ namedAt: NaN, writeAt: NaN }));
  const first = await eventually('first write on another member', async () => writer.firstAckOn((m) => m !== source.id, crashAt), 60_000).catch(async (err) => {
    await writer.stop();
    throw new Error(`${(err as Error).message}; ${JSON.stringify(await diagnose(env, set, writer))}`);
  });
  await sleep(1000);
  await writer.stop();
  const settings = (await apiOk(env, 'GET', `/v1.0/proj-a/instances/${first.member}/replication`)).replication;
  const eject = await env.temporal.workflow.getHandle(settings.last_failover.operation).describe();
  const present = await idsOn(set.find((m) => m.id === first.member)!.ip, firstId);
  const acked = writer.acks.filter((a) => a.member === source.id);
  const api = await viaApi;
  await env.temporal.workflow.getHandle(settings.last_failover.operation).result();
  const milestones = await failoverMilestones(env.temporal, settings.last_failover.operation, crashAt, { directWriteAt: first.at, apiNamedAt: api.namedAt, apiWriteAt: api.writeAt }).catch((err: Error) => {
    log(`no timeline: ${err.message}`);
    return undefined;
  });
  const trial: FailoverTrial = {
    semiSync,
    detectionS: (eject.startTime.getTime() - crashAt) / 1000,
    crashToWriteS: (first.at - crashAt) / 1000,
    apiCrashToWriteS: (api.writeAt - crashAt) / 1000,
    acked: acked.length,
    lost: acked.filter((a) => !present.has(a.id)).length,
    milestones,
  };
  log(`failover semi-sync ${semiSync ? 'on' : 'off'}: ${JSON.stringify({ ...trial, milestones: undefined })}`);
  if (milestones) log(`timeline: ${milestones.map(([l, ms]) => `${ms} ${l}`).join(' | ')}`);
  if (trial.detectionS > 4.5) log(`slow detection; the monitor from 2 s before the crash: ${await monitorSteps(env, crashAt - 2000, eject.startTime.getTime())}`);
  if (trial.crashToWriteS - trial.detectionS > 3) {
    // A slow recovery after the decision: say where the eject spent its time.
    const steps = await env.temporal.workflow.getHandle(settings.last_failover.operation).query<OperationProgress>('progress').catch(() => undefined);
    log(`slow recovery; eject steps: ${JSON.stringify(steps?.steps)}`);
  }
  // Back to three members: the fenced old source goes, a new replica comes.
  await env.temporal.workflow.getHandle(settings.last_failover.operation).result();
  await apiOk(env, 'DELETE', `/v1.0/proj-a/instances/${source.id}`);
  await env.temporal.workflow.getHandle(workflowIds.deleteInstance(source.id)).result();
  await replicate(env, first.member, 1);
  return { trial, newSourceId: first.member };
}

async function switchoverTrial(env: TestStack, sourceId: string, firstId: number): Promise<{ gapMs: number; operationS: number; newSourceId: string }> {
  const set = await settledSet(env, sourceId);
  const candidate = set[1]!;
  const writer = new SteadyWriter(Object.fromEntries(set.map((m) => [m.id, m.ip])), APP, sourceId, firstId);
  writer.start();
  await sleep(1500);
  const started = Date.now();
  const res = await apiOk(env, 'POST', `/v1.0/proj-a/instances/${candidate.id}/action`, { promote_to_replica_source: {} });
  await env.temporal.workflow.getHandle(res.operation.id).result();
  const ended = Date.now();
  await eventually('a write on the new source', async () => writer.firstAckOn((m) => m === candidate.id, started), 30_000).catch(async (err) => {
    await writer.stop();
    const views = await Promise.all(set.map(async (m) => ({ id: m.id, ip: m.ip, writable: (await showInstance(env, m.id))?.writable })));
    throw new Error(`${(err as Error).message}; candidate ${candidate.id}; last acks ${JSON.stringify(writer.acks.slice(-2))} of ${writer.acks.length}; members ${JSON.stringify(views)}`);
  });
  await sleep(500);
  await writer.stop();
  return { gapMs: writer.longestGapMs(started, Date.now()), operationS: (ended - started) / 1000, newSourceId: candidate.id };
}

export async function benchFailover(opts: BenchOptions): Promise<Section[]> {
  const trials = opts.quick ? 3 : Math.max(5, opts.runs);
  const env = await startTestStack();
  const failovers: FailoverTrial[] = [];
  const switchovers: { gapMs: number; operationS: number }[] = [];
  const failures: string[] = [];
  try {
    const created = await apiOk(env, 'POST', '/v1.0/proj-a/instances', {
      instance: { name: 'bench-ha', flavorRef: '1', volume: { size: 1 }, databases: [{ name: APP.database }], users: [{ name: APP.user, password: APP.password, databases: [{ name: APP.database }] }] },
    });
    let sourceId: string = created.instance.id;
    await settledSet(env, sourceId);
    const c = await createConnection({ host: (await member(env, sourceId)).ip, port: 3306, ...APP });
    await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64), at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))');
    await c.end();
    await replicate(env, sourceId, 2);
    let nextId = 1;
    for (let t = 0; t < Math.max(3, opts.runs); t++) {
      const s = await switchoverTrial(env, sourceId, nextId);
      opts.log(`switchover ${t + 1}: longest gap ${s.gapMs} ms, operation ${s.operationS.toFixed(2)} s`);
      switchovers.push(s);
      sourceId = s.newSourceId;
      nextId += 1_000_000;
    }
    trials: for (const semiSync of [false, true]) {
      for (let t = 0; t < trials; t++) {
        try {
          const r = await failoverTrial(env, sourceId, semiSync, nextId, opts.log);
          failovers.push(r.trial);
          sourceId = r.newSourceId;
        } catch (err) {
          // A trial without recovery is a result, not a crash of the benchmark; the set is
          // in an unknown state afterwards, so the remaining trials are skipped.
          failures.push(`semi-sync ${semiSync ? 'on' : 'off'}, trial ${t + 1}: ${(err as Error).message}`);
          opts.log(`failover trial failed: ${failures.at(-1)}`);
          break trials;
        }
        nextId += 1_000_000;
      }
    }
  } finally {
    await env.stop();
  }

  const fmt = (v: number[], unit: 's' | 'ms' | '' = 's', digits = 2) => formatSummary(summarize(v), unit, digits);
  const of = (semi: boolean) => failovers.filter((f) => f.semiSync === semi);
  const rows = [false, true].map((semi) => {
    const f = of(semi);
    if (!f.length) return [semi ? 'on' : 'off', '—', '—', '—', '—', '—', '—'];
    const api = f.map((x) => x.apiCrashToWriteS ?? NaN).filter((v) => !Number.isNaN(v));
    return [semi ? 'on' : 'off', fmt(f.map((x) => x.detectionS)), fmt(f.map((x) => x.crashToWriteS)), `${Math.max(...f.map((x) => x.crashToWriteS)).toFixed(2)} s`, api.length ? `${fmt(api)}; worst ${Math.max(...api).toFixed(2)} s` : '—', f.map((x) => x.lost).join(', '), fmt(f.map((x) => x.acked), '', 0)];
  });
  const all = failovers.map((f) => f.crashToWriteS);
  const medianAll = all.length ? summarize(all).median : NaN;
  const apiAll = failovers.map((f) => f.apiCrashToWriteS ?? NaN).filter((v) => !Number.isNaN(v));
  const worst = all.length ? Math.max(...all) : NaN;
  const lostSemi = of(true).reduce((n, f) => n + f.lost, 0);
  const gaps = switchovers.map((s) => s.gapMs);
  const failoverBody = [
    `${trials} trials per mode. A source and two replicas (m1.tiny), automatic failover on with failover_after = ${FAILOVER_AFTER_S} s; a writer inserts one row at a time into whichever member accepts it (persistent connections, ~1 ms per write). The source's server is killed through Nova (\`POST /_faults/servers/{id}/crash\`: SIGKILL of the whole process group, as a host dying). After each trial the fenced old source is deleted and a new replica built.`,
    '',
    table(['Semi-sync', 'Detection (crash → automatic eject starts)', 'Crash → first write on the new source (writer trying every member)', 'Worst', 'Same, client finding the source through the REST API', 'Acknowledged writes lost, per trial', 'Writes acknowledged by the old source'], rows),
    '',
    '- Detection is measured to the start of the eject workflow the monitor starts (its Temporal start time); the rest of crash → write is the eject itself: fence the old server through Nova, choose the most advanced replica, let it apply its relay log, make it writable, move the other replica.',
    '- The API-discovering client asks `GET /instances/{id}` for the members every 100 ms and writes (a new connection) to the one named source (no `replica_of`) other than the crashed one.',
    '',
    'Where the time goes: each milestone in ms after the crash, over every trial (bench/lib/failover-timeline.ts, from the deciding watch round\'s outcome, the eject\'s history and the two clients). Steps issued together and of one type count as one.',
    '',
    table(['Milestone', 'ms after the crash'], milestoneTable(failovers.flatMap((f) => (f.milestones ? [f.milestones] : [])))),
    '',
    '- With semi-sync off, a write acknowledged by the old source but not yet received by any replica is lost by design; the count says how often that happened.',
    ...(failures.length ? ['', '**Trials without recovery** (the remaining trials were skipped):', '', ...failures.map((f) => `- ${f.slice(0, 2000)}`)] : []),
  ].join('\n');
  const switchBody = [
    `${switchovers.length} promotions back and forth under the same writer (source and two replicas, semi-sync as left by the previous section's setup: off).`,
    '',
    table(['Figure', 'Value'], [
      ['Longest time without an acknowledged write', fmt(gaps, 'ms', 0)],
      ['promoteToReplicaSource, start to result', fmt(switchovers.map((s) => s.operationS))],
    ]),
    '',
    '- The window runs from the old source turning read-only until the candidate, caught up, turns writable; the rest of the operation (moving the other replicas, the registry) happens while writes flow again.',
  ].join('\n');
  return [
    {
      id: 'failover',
      title: 'Failover',
      body: failoverBody,
      targets: [
        { what: 'crash → first write, median <= 5 s', measured: `${medianAll.toFixed(2)} s`, met: medianAll <= 5 },
        { what: 'crash → first write, writer trying every member, median <= 1.5 s (issue 17)', measured: `${medianAll.toFixed(2)} s`, met: medianAll <= 1.5 },
        { what: 'crash → first write, worst <= 10 s', measured: failures.length ? `${failures.length} trial(s) without recovery` : `${worst.toFixed(2)} s`, met: worst <= 10 && !failures.length },
        { what: '0 acknowledged writes lost with semi-sync on', measured: String(lostSemi), met: lostSemi === 0 },
        { what: 'crash → first write through the API, median <= 2 s, worst <= 4 s (issue 17)', measured: apiAll.length ? `${summarize(apiAll).median.toFixed(2)} s, worst ${Math.max(...apiAll).toFixed(2)} s` : 'not measured', met: apiAll.length > 0 && summarize(apiAll).median <= 2 && Math.max(...apiAll) <= 4 },
      ],
      raw: failovers,
    },
    {
      id: 'switchover',
      title: 'Switchover',
      body: switchBody,
      targets: [{ what: 'longest window without an accepted write <= 1 s', measured: `${summarize(gaps).median.toFixed(0)} ms (median; worst ${Math.max(...gaps)} ms)`, met: Math.max(...gaps) <= 1000 }],
      raw: switchovers,
    },
  ];
}
