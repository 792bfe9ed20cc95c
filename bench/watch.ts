// The watch's cost and its detection (issue 17): N healthy replication sets (a source and a
// replica each, real mariadbd for every member) watched by one orchestrator worker. For a
// window with nothing happening: history events and Temporal actions per set (scaled to an
// hour, plus the hourly checkpoint), and the orchestrator worker's CPU per set (the watch
// activity's worker, found by its Temporal identity pid@host). Then the sources are crashed,
// half one at a time and half at once (auto failover on, failover_after = 1 s): detection =
// crash to the start of each set's automatic eject.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { monitorWorkflowId } from '../lib/names';
import { eventually, sleep, startTestStack, type TestStack } from '../test/helpers/stack';
import type { BenchOptions } from './run';
import { apiOk, waitIdle } from './lib/api';
import { table, type Section } from './lib/report';
import { eventKind, timeMs } from './overhead/history';

/** Events of one checkpoint round (the watch activity's scheduled/started/completed, and one workflow task's three). */
const CHECKPOINT_EVENTS = 6;
/** Actions of one checkpoint round: the activity. */
const CHECKPOINT_ACTIONS = 1;
const ACTION_KINDS = new Set(['activityTaskScheduled', 'timerStarted', 'startChildWorkflowExecutionInitiated', 'signalExternalWorkflowExecutionInitiated', 'workflowExecutionStarted', 'workflowExecutionContinuedAsNew', 'workflowExecutionSignaled']);

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

async function historyOf(env: TestStack, setId: string) {
  const h = env.temporal.workflow.getHandle(monitorWorkflowId(setId));
  const events = (await h.fetchHistory()).events ?? [];
  return events.map((e) => ({ kind: eventKind(e), at: timeMs(e.eventTime) }));
}

export async function benchWatch(opts: BenchOptions): Promise<Section[]> {
  // Issue 17: detection with real mariadbd for at least 20 sets.
  const sets = Number(process.env.WATCH_SETS ?? (opts.quick ? 6 : 20));
  const windowS = opts.quick ? 30 : 120;
  const env = await startTestStack();
  let body: string;
  let raw: unknown;
  const targets: Section['targets'] = [];
  try {
    opts.log(`creating ${sets} sets (source + 1 replica each)`);
    const sources: string[] = [];
    for (let i = 0; i < sets; i++) sources.push((await apiOk(env, 'POST', '/v1.0/proj-a/instances', { instance: { name: `w${i}`, flavorRef: '1', volume: { size: 1 } } })).instance.id);
    for (const s of sources) await waitIdle(env, s, 900_000);
    const ops: string[] = [];
    for (const s of sources) ops.push((await apiOk(env, 'POST', `/v1.0/proj-a/instances/${s}/action`, { replicate: { count: 1 } })).operation.id);
    for (const op of ops) await env.temporal.workflow.getHandle(op).result();
    for (const s of sources) {
      await apiOk(env, 'PATCH', `/v1.0/proj-a/instances/${s}/replication`, { replication: { auto_failover: true, failover_after: 1 } });
    }
    opts.log('waiting for every watch to read its members through their monitoring accounts');
    for (const s of sources) {
      await eventually(`set ${s} watched`, async () => {
        const h = (await env.api('GET', `/v1.0/proj-a/instances/${s}`)).body?.instance?.replication_health as any[] | undefined;
        return h?.length === 2 && h.every((m) => m.reachable && m.agent_answered) ? true : undefined;
      }, 120_000);
    }
    await sleep(3000);
    const identity = (await env.temporal.workflow.getHandle(monitorWorkflowId(sources[0]!)).describe()).raw.pendingActivities?.[0]?.lastWorkerIdentity ?? '';
    const pid = Number(identity.split('@')[0]);
    const before = await Promise.all(sources.map((s) => historyOf(env, s)));
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    opts.log(`window of ${windowS} s with nothing happening (orchestrator pid ${pid})`);
    await sleep(windowS * 1000);
    const cpu1 = cpuSeconds(pid);
    const t1 = Date.now();
    const after = await Promise.all(sources.map((s) => historyOf(env, s)));
    const inWindow = after.map((h) => h.filter((e) => e.at >= t0 && e.at <= t1));
    const eventsPerSetHour = inWindow.map((w) => (w.length * 3600) / windowS + CHECKPOINT_EVENTS);
    const actionsPerSetHour = inWindow.map((w) => (w.filter((e) => ACTION_KINDS.has(e.kind)).length * 3600) / windowS + CHECKPOINT_ACTIONS);
    const cpuPerSet = ((cpu1 - cpu0) / ((t1 - t0) / 1000) / sets) * 100; // % of one core
    const worstEvents = Math.max(...eventsPerSetHour);
    const worstActions = Math.max(...actionsPerSetHour);

    const loadAtCrash = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
    const crashAt = new Map<string, number>();
    const crash = async (s: string) => {
      const nova = (await env.registry!.instances.get(s))!.novaServerId!;
      crashAt.set(s, Date.now());
      await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${nova}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
    };
    // Half the sources fail one at a time (a server dies while the worker watches every set:
    // the goal's figure), the other half all at once (a stress figure: every eject at once on
    // the same 2 cores as every member, agent and Temporal).
    const apart = sources.slice(0, Math.ceil(sources.length / 2));
    const together = sources.slice(apart.length);
    opts.log(`crashing ${apart.length} sources one at a time, 1.5–2.5 s apart`);
    for (const s of apart) {
      await crash(s);
      await sleep(1500 + Math.random() * 1000);
    }
    await sleep(3000);
    opts.log(`crashing the other ${together.length} at once`);
    await Promise.all(together.map(crash));
    const detectionOf = async (s: string) => {
      const started = await eventually(`automatic eject of ${s}`, async () => {
        for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'ejectReplicaSource'` })) if (w.workflowId.startsWith(`eject-automatic-${s}`)) return w.startTime.getTime();
        return undefined;
      }, 120_000);
      return (started - crashAt.get(s)!) / 1000;
    };
    const detections: number[] = [];
    for (const s of apart) detections.push(await detectionOf(s));
    const atOnce: number[] = [];
    for (const s of together) atOnce.push(await detectionOf(s));
    const pctOf = (xs: number[], p: number) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
    };
    const p50 = pctOf(detections, 50);
    const p99 = pctOf(detections, 99);
    raw = { sets, windowS, pid, eventsInWindow: inWindow.map((w) => w.length), eventsBefore: before.map((h) => h.length), cpuSeconds: cpu1 - cpu0, detections, detectionsAtOnce: atOnce };
    body = [
      `${sets} replication sets, each a source and one replica: every member a real \`mariadbd\` (no protocol stand-ins at this scale), one orchestrator worker watching all of them. A window of ${windowS} s with nothing happening, then the sources crashed through Nova (\`/_faults/servers/{id}/crash\`: SIGKILL of the server's processes), auto failover on, failover_after = 1 s: ${apart.length} one at a time (1.5–2.5 s apart), then the other ${together.length} at once. Detection is timed from each crash to the start of that set's automatic eject. Load average (1/5/15 min) when the sources were crashed: ${loadAtCrash} on the 2 cores.`,
      '',
      table(['Figure', 'Per set'], [
        ['History events in the window (each set)', inWindow.map((w) => w.length).join(', ')],
        ['History events per healthy set per hour (window rate + one checkpoint round)', `${worstEvents.toFixed(0)} (worst set)`],
        ['Temporal actions per healthy set per hour (activities, timers, starts, signals)', `${worstActions.toFixed(0)} (worst set)`],
        ['Orchestrator worker CPU per set (watching, nothing happening)', `${cpuPerSet.toFixed(2)} % of one core`],
        [`Detection, crash → automatic eject starts (${apart.length} sources crashed one at a time, ${sets} sets watched)`, `p50 ${p50.toFixed(2)} s, p99 ${p99.toFixed(2)} s (${detections.length} crashes)`],
        [`Same, ${together.length} sources crashed at once`, `p50 ${pctOf(atOnce, 50).toFixed(2)} s, p99 ${pctOf(atOnce, 99).toFixed(2)} s`],
      ]),
      '',
      `- One-off costs not in the hourly figure: the set's first watch round, and each member's monitoring account (two activities per member, once): ${before.map((h) => h.length).join(', ')} events per set when the window began, since the monitor's start.`,
      '- The hourly figure is the window\'s rate (no event at all while healthy) plus one checkpoint round (the watch activity completes hourly: its 3 events and a workflow task\'s 3).',
    ].join('\n');
    targets.push(
      { what: 'history events per healthy set per hour <= 60', measured: worstEvents.toFixed(0), met: worstEvents <= 60 },
      { what: 'Temporal actions per healthy set per hour <= 30', measured: worstActions.toFixed(0), met: worstActions <= 30 },
      { what: `detection p99 <= 2 s (${sets} sets of real mariadbd watched, sources crashed one at a time)`, measured: `${p99.toFixed(2)} s (${together.length} crashed at once: p99 ${pctOf(atOnce, 99).toFixed(2)} s)`, met: p99 <= 2 },
    );
  } finally {
    await env.stop();
  }
  return [{ id: 'watch', title: 'Watching replication sets', body, targets, raw }];
}
