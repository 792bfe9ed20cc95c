// Section "resume" (issue 17): an operation whose orchestrator worker is SIGKILLed in the
// middle of one of its activities, and restarted by the stack's supervisor (as systemd or
// Kubernetes would). Each trial starts a replica build and kills the worker while the
// build's waitForServerActive (an orchestrator activity, polling Nova) runs. Figures: kill →
// the restarted worker polls Temporal (the process's start: node, tsx, the workflow bundle),
// and the restarted worker polling → the operation picked up again (the first workflow or
// activity task of the operation the new worker starts: the interrupted activity's retry or
// a workflow task): the "within 5 s of the restart".
import type { Client } from '@temporalio/client';
import { ORCHESTRATOR_TASK_QUEUE, workflowIds } from '../lib/names';
import { eventually, sleep, startTestStack, type TestStack } from '../test/helpers/stack';
import type { BenchOptions } from './run';
import { apiOk, waitIdle } from './lib/api';
import { table, type Section } from './lib/report';
import { formatSummary, summarize } from './lib/stats';
import { num, timeMs, type RawEvent } from './overhead/history';

interface ResumeTrial {
  /** The activity running when the worker was killed. */
  interrupted: string;
  /** The supervisor's backoff (1 s, doubling for a part restarted within a minute). */
  killToRestartS: number;
  /** The new process polls Temporal (node, tsx, the registry migrations, the workflow bundle). */
  restartToPollingS: number;
  /** The new process starts a task of the operation: the "within 5 s of the restart". */
  restartToResumedS: number;
  /** What the new worker did first for the operation. */
  resumedBy: string;
  /** The new process runs the interrupted activity again (its retry). */
  restartToActivityAgainS: number;
}

const interruptAt = 'waitForServerActive';
/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW and PendingActivityState.STARTED. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const PENDING_STARTED = 2;

async function pollerUp(env: TestStack, pid: number): Promise<boolean> {
  const res = await env.connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: ORCHESTRATOR_TASK_QUEUE }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW });
  return (res.pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
}

/** The first task of these workflows the worker `pid` started (history), or is running (a pending activity's retry). */
async function firstPickup(client: Client, workflowIds: string[], pid: number, after: number, activity?: string): Promise<{ at: number; what: string } | undefined> {
  let best: { at: number; what: string } | undefined;
  const consider = (at: number, what: string) => {
    if (at >= after && (!best || at < best.at)) best = { at, what };
  };
  for (const id of workflowIds) {
    const handle = client.workflow.getHandle(id);
    const events = ((await handle.fetchHistory().catch(() => undefined))?.events ?? []) as RawEvent[];
    const names = new Map<number, string>();
    for (const e of events) {
      if (e.activityTaskScheduledEventAttributes) names.set(num(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      const w = e.workflowTaskStartedEventAttributes;
      if (!activity && w?.identity?.startsWith(`${pid}@`)) consider(timeMs(e.eventTime), `workflow task of ${id.split('-').slice(0, 2).join('-')}`);
      const a = e.activityTaskStartedEventAttributes;
      if (a?.identity?.startsWith(`${pid}@`) && (!activity || names.get(num(a.scheduledEventId)) === activity)) consider(timeMs(e.eventTime), `activity ${names.get(num(a.scheduledEventId))} (attempt ${a.attempt})`);
    }
    const pending = (await handle.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
    for (const p of pending) if (p.lastWorkerIdentity?.startsWith(`${pid}@`) && p.lastStartedTime && (!activity || p.activityType?.name === activity)) consider(timeMs(p.lastStartedTime), `activity ${p.activityType?.name} (attempt ${p.attempt}, retried)`);
  }
  return best;
}

async function resumeTrial(env: TestStack, sourceId: string): Promise<ResumeTrial> {
  const res = await apiOk(env, 'POST', `/v1.0/proj-a/instances/${sourceId}/action`, { replicate: { count: 1 } });
  const operationId: string = res.operation.id;
  // The build's id names the replica, which the API's answer lists.
  const replicaId: string = await eventually('the replica in the registry', async () => {
    const src = await apiOk(env, 'GET', `/v1.0/proj-a/instances/${sourceId}`);
    const ids = ((src.instance.replicas ?? []) as { id: string }[]).map((r) => r.id);
    for (const id of ids) {
      const d = await env.temporal.workflow.getHandle(workflowIds.buildReplica(id)).describe().catch(() => undefined);
      if (d?.status.name === 'RUNNING') return id;
    }
    return undefined;
  }, 60_000);
  const build = env.temporal.workflow.getHandle(workflowIds.buildReplica(replicaId));
  await eventually(`${interruptAt} running`, async () => {
    const pending = (await build.describe()).raw.pendingActivities ?? [];
    return pending.some((p) => p.activityType?.name === interruptAt && num(p.state) === PENDING_STARTED);
  }, 60_000);
  const part = env.stack.parts.get('orchestrator')!;
  const oldPid = part.pid;
  const killAt = Date.now();
  part.kill();
  // The supervisor starts a new process (after its backoff): the restart, to the millisecond.
  while (!part.pid || part.pid === oldPid) {
    if (Date.now() - killAt > 60_000) throw new Error('the orchestrator was not restarted');
    await sleep(10);
  }
  const restartAt = Date.now();
  const newPid = part.pid;
  await eventually('the restarted worker polling', () => pollerUp(env, newPid), 120_000);
  const pollingAt = Date.now();
  const picked = await eventually('the operation picked up by the restarted worker', () => firstPickup(env.temporal, [operationId, build.workflowId], newPid, killAt), 120_000);
  // The interrupted activity itself runs again once Temporal counts its attempt lost (its heartbeat timeout) and retries it.
  const again = await eventually(`${interruptAt} running again`, () => firstPickup(env.temporal, [build.workflowId], newPid, killAt, interruptAt), 120_000);
  await env.temporal.workflow.getHandle(operationId).result();
  await waitIdle(env, replicaId);
  return {
    interrupted: interruptAt,
    killToRestartS: (restartAt - killAt) / 1000,
    restartToPollingS: (Math.min(pollingAt, picked.at) - restartAt) / 1000,
    restartToResumedS: (picked.at - restartAt) / 1000,
    resumedBy: picked.what,
    restartToActivityAgainS: (again.at - restartAt) / 1000,
  };
}

export async function benchResume(opts: BenchOptions): Promise<Section[]> {
  const trials = opts.quick ? 3 : Math.max(5, opts.runs);
  // Servers take 2 s to boot (a real cloud's take tens): on a quiet machine the build's
  // waitForServerActive otherwise ends before the trial can interrupt it.
  const env = await startTestStack({ extraEnv: { NOVA_BOOT_DELAY_MS: '2000' } });
  const results: ResumeTrial[] = [];
  try {
    const created = await apiOk(env, 'POST', '/v1.0/proj-a/instances', { instance: { name: 'bench-resume', flavorRef: '1', volume: { size: 1 } } });
    const sourceId: string = created.instance.id;
    await waitIdle(env, sourceId);
    for (let t = 0; t < trials; t++) {
      const r = await resumeTrial(env, sourceId);
      opts.log(`resume ${t + 1}: ${JSON.stringify(r)}`);
      results.push(r);
      // The next trial's kill must not land on this build's tail.
      await sleep(1000);
    }
  } finally {
    await env.stop();
  }
  const fmt = (v: number[]) => formatSummary(summarize(v), 's', 2);
  const resumed = results.map((r) => r.restartToResumedS);
  const body = [
    `${results.length} trials. Each starts a replica build (\`replicate: {count: 1}\`) and SIGKILLs the orchestrator worker while the build's \`${interruptAt}\` (an orchestrator activity that polls Nova and heartbeats) runs; the stack's supervisor starts a new worker process after its backoff (1 s, doubling when restarted again within a minute), as a service manager would.`,
    '',
    table(['Figure', 'Value'], [
      ['Kill → the new process starts (the supervisor\'s backoff)', fmt(results.map((r) => r.killToRestartS))],
      ['New process → it polls Temporal (node, tsx, migrations, the workflow bundle)', fmt(results.map((r) => r.restartToPollingS))],
      ['New process → the operation picked up again', `${fmt(resumed)}; worst ${Math.max(...resumed).toFixed(2)} s`],
      ['What the restarted worker did first', [...new Set(results.map((r) => r.resumedBy))].join('; ')],
      [`New process → the interrupted ${interruptAt} runs again (its retry)`, fmt(results.map((r) => r.restartToActivityAgainS))],
    ]),
    '',
    '- "Picked up" is the first workflow task or activity task of the operation (createReplicas and its buildReplica) whose worker identity is the new process, from the histories and the pending activities (a retried activity\'s start is in its pending info until it closes). "Polls" is the first time Temporal lists the new process among the task queue\'s pollers (looked at every 250 ms), or the pick-up if that came first.',
  ].join('\n');
  return [
    {
      id: 'resume',
      title: 'Resume after the orchestrator worker is killed',
      body,
      targets: [{ what: 'an operation resumes within 5 s of the worker\'s restart (issue 17)', measured: `${summarize(resumed).median.toFixed(2)} s median, worst ${Math.max(...resumed).toFixed(2)} s after the new process starts`, met: Math.max(...resumed) <= 5 }],
      raw: results,
    },
  ];
}
