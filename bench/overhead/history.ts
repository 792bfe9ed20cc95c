// Reading a workflow's history as the steps it waited for: activities, child workflows and
// signals to other workflows, each a round trip through the Temporal server. Pure (events
// in, numbers out), so the counting rules are pinned down by test/unit/bench-overhead.test.ts.
//
// Events are Temporal's history events as fetchHistory() gives them (protobuf objects whose
// int64 fields are Long) or plain objects with numbers in the same shape.

/** One history event, loosely typed: only the fields read below matter. */
export type RawEvent = Record<string, any>;

export type StepKind = 'activity' | 'child' | 'signal';

export interface Step {
  kind: StepKind;
  /** Activity type, child workflow type or signal name. */
  name: string;
  /** The activity's task queue (activities only). */
  taskQueue?: string;
  /** The workflow task whose completion issued the command: steps of one batch run concurrently. */
  batch: number;
  scheduledMs: number;
  /** Activity picked up by a worker; child workflow started; absent for signals. */
  startedMs?: number;
  /** Activity closed, child workflow closed (or started, for a child nobody waits for), signal delivered. */
  closedMs?: number;
  /** The child's workflow id. */
  workflowId?: string;
}

export interface Timeline {
  startedMs: number;
  closedMs?: number;
  /** Every completed workflow task: scheduled, picked up by a worker, completed. */
  workflowTasks: { scheduledMs: number; startedMs: number; completedMs: number }[];
  steps: Step[];
}

/** A number out of a number, a numeric string or a Long. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v ?? NaN);
}

/** Milliseconds since the epoch of a protobuf Timestamp ({seconds, nanos}), a Date or a number. */
export function timeMs(t: unknown): number {
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  const ts = t as { seconds?: unknown; nanos?: number } | undefined;
  if (!ts) return NaN;
  return num(ts.seconds ?? 0) * 1000 + (ts.nanos ?? 0) / 1e6;
}

const CLOSED_ACTIVITY = ['activityTaskCompletedEventAttributes', 'activityTaskFailedEventAttributes', 'activityTaskTimedOutEventAttributes', 'activityTaskCanceledEventAttributes'];
const CLOSED_CHILD = [
  'childWorkflowExecutionCompletedEventAttributes',
  'childWorkflowExecutionFailedEventAttributes',
  'childWorkflowExecutionCanceledEventAttributes',
  'childWorkflowExecutionTimedOutEventAttributes',
  'childWorkflowExecutionTerminatedEventAttributes',
  'startChildWorkflowExecutionFailedEventAttributes',
];
const CLOSED_SIGNAL = ['externalWorkflowExecutionSignaledEventAttributes', 'signalExternalWorkflowExecutionFailedEventAttributes'];
const CLOSED_WORKFLOW = [
  'workflowExecutionCompletedEventAttributes',
  'workflowExecutionFailedEventAttributes',
  'workflowExecutionCanceledEventAttributes',
  'workflowExecutionTerminatedEventAttributes',
  'workflowExecutionTimedOutEventAttributes',
  'workflowExecutionContinuedAsNewEventAttributes',
];

const has = (e: RawEvent, key: string) => e[key] !== undefined && e[key] !== null;

/** What an event is, e.g. 'activityTaskScheduled': the name of the attributes it carries. */
export function eventKind(e: RawEvent): string {
  return Object.keys(e).find((k) => k.endsWith('EventAttributes') && has(e, k))?.replace(/EventAttributes$/, '') ?? '?';
}

/** The steps of one workflow run, in the order they were scheduled. */
export function timeline(events: RawEvent[]): Timeline {
  const byId = new Map<number, Step>();
  const steps: Step[] = [];
  let startedMs = NaN;
  let closedMs: number | undefined;
  const workflowTasks: Timeline['workflowTasks'] = [];
  const wtScheduled = new Map<number, number>();
  const wtStarted = new Map<number, { scheduledMs: number; startedMs: number }>();
  for (const e of events) {
    const id = num(e.eventId);
    const at = timeMs(e.eventTime);
    if (has(e, 'workflowExecutionStartedEventAttributes')) startedMs = at;
    if (CLOSED_WORKFLOW.some((k) => has(e, k))) closedMs = at;
    if (has(e, 'workflowTaskScheduledEventAttributes')) wtScheduled.set(id, at);
    const wts = e.workflowTaskStartedEventAttributes;
    if (wts) wtStarted.set(id, { scheduledMs: wtScheduled.get(num(wts.scheduledEventId)) ?? at, startedMs: at });
    const wtc = e.workflowTaskCompletedEventAttributes;
    if (wtc) {
      const st = wtStarted.get(num(wtc.startedEventId));
      workflowTasks.push({ scheduledMs: st?.scheduledMs ?? at, startedMs: st?.startedMs ?? at, completedMs: at });
    }

    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) {
      const s: Step = { kind: 'activity', name: sched.activityType?.name ?? '?', taskQueue: sched.taskQueue?.name, batch: num(sched.workflowTaskCompletedEventId), scheduledMs: at };
      byId.set(id, s);
      steps.push(s);
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const s = byId.get(num(started.scheduledEventId));
      if (s) s.startedMs = at;
    }
    for (const k of CLOSED_ACTIVITY) {
      if (!has(e, k)) continue;
      const s = byId.get(num(e[k].scheduledEventId));
      if (s) s.closedMs = at;
    }

    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child) {
      const s: Step = { kind: 'child', name: child.workflowType?.name ?? '?', workflowId: child.workflowId, batch: num(child.workflowTaskCompletedEventId), scheduledMs: at };
      byId.set(id, s);
      steps.push(s);
    }
    const childStarted = e.childWorkflowExecutionStartedEventAttributes;
    if (childStarted) {
      const s = byId.get(num(childStarted.initiatedEventId));
      if (s) s.startedMs = at;
    }
    for (const k of CLOSED_CHILD) {
      if (!has(e, k)) continue;
      const s = byId.get(num(e[k].initiatedEventId));
      if (s) s.closedMs = at;
    }

    const signal = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
    if (signal) {
      const s: Step = { kind: 'signal', name: signal.signalName ?? '?', batch: num(signal.workflowTaskCompletedEventId), scheduledMs: at };
      byId.set(id, s);
      steps.push(s);
    }
    for (const k of CLOSED_SIGNAL) {
      if (!has(e, k)) continue;
      const s = byId.get(num(e[k].initiatedEventId));
      if (s) s.closedMs = at;
    }
  }
  // A child the workflow only started (ParentClosePolicy.ABANDON, not awaited) was done once started.
  for (const s of steps) if (s.kind === 'child' && s.closedMs === undefined) s.closedMs = s.startedMs;
  return { startedMs, closedMs, workflowTasks, steps };
}

export interface RoundTrips {
  byKind: Record<StepKind, number>;
  /** "activity beginReplicas", "child buildReplica", "signal replicaProgress"... */
  byName: Record<string, number>;
  total: number;
  /** Steps one after the other: steps issued by the same workflow task count once. */
  sequential: number;
  /** Each group of steps that ran concurrently (issued by one workflow task), by name. */
  concurrent: string[][];
}

export const stepLabel = (s: Step): string => `${s.kind} ${s.name}`;

/** Round trips of an operation made of these workflow runs (a parent and the children it waited for). */
export function countRoundTrips(timelines: Timeline[]): RoundTrips {
  const byKind: Record<StepKind, number> = { activity: 0, child: 0, signal: 0 };
  const byName: Record<string, number> = {};
  let sequential = 0;
  const concurrent: string[][] = [];
  for (const t of timelines) {
    const batches = new Map<number, Step[]>();
    for (const s of t.steps) {
      byKind[s.kind]++;
      byName[stepLabel(s)] = (byName[stepLabel(s)] ?? 0) + 1;
      batches.set(s.batch, [...(batches.get(s.batch) ?? []), s]);
    }
    sequential += batches.size;
    for (const b of batches.values()) if (b.length > 1) concurrent.push(b.map(stepLabel));
  }
  return { byKind, byName, total: byKind.activity + byKind.child + byKind.signal, sequential, concurrent };
}

function batchSpans(t: Timeline): { from: number; to: number }[] {
  const spans = new Map<number, { from: number; to: number }>();
  for (const s of t.steps) {
    const end = s.closedMs ?? s.startedMs ?? s.scheduledMs;
    const b = spans.get(s.batch);
    spans.set(s.batch, b ? { from: Math.min(b.from, s.scheduledMs), to: Math.max(b.to, end) } : { from: s.scheduledMs, to: end });
  }
  return [...spans.values()];
}

export interface OwnTime {
  /** Workflow duration minus the spans of its steps (a batch of concurrent steps counts as its span). */
  totalMs: number;
  /** Of that, workflow tasks waiting to be picked up by the worker... */
  workflowTaskQueueMs: number;
  /** ...and the worker running the workflow code. */
  workflowTaskRunMs: number;
}

/**
 * Time the workflow spent outside its steps: between the end of one step and the schedule
 * of the next (the workflow task that decides what comes next), plus before the first step
 * and after the last. Workflow tasks that ran while a step was under way (a signal
 * arriving while a child runs) are off the critical path and not counted.
 */
export function ownTime(t: Timeline): OwnTime {
  if (t.closedMs === undefined) return { totalMs: NaN, workflowTaskQueueMs: NaN, workflowTaskRunMs: NaN };
  const spans = batchSpans(t);
  let inSteps = 0;
  for (const b of spans) inSteps += b.to - b.from;
  let workflowTaskQueueMs = 0;
  let workflowTaskRunMs = 0;
  for (const wt of t.workflowTasks) {
    if (spans.some((b) => wt.scheduledMs > b.from && wt.completedMs < b.to)) continue;
    workflowTaskQueueMs += wt.startedMs - wt.scheduledMs;
    workflowTaskRunMs += wt.completedMs - wt.startedMs;
  }
  return { totalMs: t.closedMs - t.startedMs - inSteps, workflowTaskQueueMs, workflowTaskRunMs };
}

export interface StepTime {
  /** Waiting to be picked up: activity scheduled to started; child initiated to started. */
  queueMs: number;
  /** Activity started to closed; child started to closed; signal initiated to delivered. */
  runMs: number;
}

export function stepTime(s: Step): StepTime {
  const closed = s.closedMs ?? s.startedMs ?? s.scheduledMs;
  const started = s.startedMs ?? s.scheduledMs;
  return { queueMs: started - s.scheduledMs, runMs: closed - started };
}
