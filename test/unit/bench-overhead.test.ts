// The pure parts of the orchestration-overhead benchmark: reading histories as round trips,
// the time a workflow spends between its steps, the floors and the plan.
import { countRoundTrips, eventKind, num, ownTime, stepTime, timeline, timeMs, type RawEvent } from '../../bench/overhead/history';
import { floors, overheadPlan, runRatios, targetMet } from '../../bench/overhead/plan';

let nextId = 0;
const ev = (t: number, attrs: Record<string, unknown>): RawEvent => ({ eventId: ++nextId, eventTime: t, ...attrs });

/** A workflow: one activity on its own queue, two guest activities at once, a signal, a child it only starts. */
function sampleHistory(): RawEvent[] {
  nextId = 0;
  return [
    ev(0, { workflowExecutionStartedEventAttributes: {} }), // 1
    ev(0, { workflowTaskScheduledEventAttributes: {} }), // 2
    ev(1, { workflowTaskStartedEventAttributes: { scheduledEventId: 2 } }), // 3
    ev(3, { workflowTaskCompletedEventAttributes: { startedEventId: 3 } }), // 4
    ev(3, { activityTaskScheduledEventAttributes: { activityType: { name: 'a' }, taskQueue: { name: 'trove-orchestrator' }, workflowTaskCompletedEventId: 4 } }), // 5
    ev(3, { activityTaskStartedEventAttributes: { scheduledEventId: 5 } }), // 6
    ev(10, { activityTaskCompletedEventAttributes: { scheduledEventId: 5 } }), // 7
    ev(10, { workflowTaskScheduledEventAttributes: {} }), // 8
    ev(50, { workflowTaskStartedEventAttributes: { scheduledEventId: 8 } }), // 9
    ev(55, { workflowTaskCompletedEventAttributes: { startedEventId: 9 } }), // 10
    ev(55, { activityTaskScheduledEventAttributes: { activityType: { name: 'b' }, taskQueue: { name: 'guest-x' }, workflowTaskCompletedEventId: 10 } }), // 11
    ev(55, { activityTaskScheduledEventAttributes: { activityType: { name: 'c' }, taskQueue: { name: 'guest-y' }, workflowTaskCompletedEventId: 10 } }), // 12
    ev(95, { activityTaskStartedEventAttributes: { scheduledEventId: 11 } }), // 13
    ev(96, { activityTaskStartedEventAttributes: { scheduledEventId: 12 } }), // 14
    ev(100, { activityTaskCompletedEventAttributes: { scheduledEventId: 11 } }), // 15
    ev(120, { activityTaskFailedEventAttributes: { scheduledEventId: 12 } }), // 16
    ev(120, { workflowTaskScheduledEventAttributes: {} }), // 17
    ev(160, { workflowTaskStartedEventAttributes: { scheduledEventId: 17 } }), // 18
    ev(165, { workflowTaskCompletedEventAttributes: { startedEventId: 18 } }), // 19
    ev(165, { signalExternalWorkflowExecutionInitiatedEventAttributes: { signalName: 'progress', workflowTaskCompletedEventId: 19 } }), // 20
    ev(200, { externalWorkflowExecutionSignaledEventAttributes: { initiatedEventId: 20 } }), // 21
    ev(200, { workflowTaskScheduledEventAttributes: {} }), // 22
    ev(240, { workflowTaskStartedEventAttributes: { scheduledEventId: 22 } }), // 23
    ev(245, { workflowTaskCompletedEventAttributes: { startedEventId: 23 } }), // 24
    ev(245, { startChildWorkflowExecutionInitiatedEventAttributes: { workflowId: 'monitor-1', workflowType: { name: 'monitor' }, workflowTaskCompletedEventId: 24 } }), // 25
    ev(280, { childWorkflowExecutionStartedEventAttributes: { initiatedEventId: 25 } }), // 26
    ev(280, { workflowTaskScheduledEventAttributes: {} }), // 27
    ev(320, { workflowTaskStartedEventAttributes: { scheduledEventId: 27 } }), // 28
    ev(325, { workflowTaskCompletedEventAttributes: { startedEventId: 28 } }), // 29
    ev(325, { workflowExecutionCompletedEventAttributes: {} }), // 30
  ];
}

test('num and timeMs read numbers, numeric strings, Longs and protobuf timestamps', () => {
  expect(num(7)).toBe(7);
  expect(num('12')).toBe(12);
  expect(num({ toNumber: () => 42 })).toBe(42);
  expect(timeMs({ seconds: { toNumber: () => 2 }, nanos: 500_000 })).toBe(2000.5);
  expect(timeMs(new Date(1234))).toBe(1234);
  expect(timeMs(99)).toBe(99);
});

test('timeline: every activity, signal and child in schedule order, with its times', () => {
  const t = timeline(sampleHistory());
  expect(t.startedMs).toBe(0);
  expect(t.closedMs).toBe(325);
  expect(t.workflowTasks).toHaveLength(5);
  expect(t.steps.map((s) => [s.kind, s.name, s.batch])).toEqual([
    ['activity', 'a', 4],
    ['activity', 'b', 10],
    ['activity', 'c', 10],
    ['signal', 'progress', 19],
    ['child', 'monitor', 24],
  ]);
  expect(t.steps.map(stepTime)).toEqual([
    { queueMs: 0, runMs: 7 },
    { queueMs: 40, runMs: 5 },
    { queueMs: 41, runMs: 24 }, // a failed activity is closed too
    { queueMs: 0, runMs: 35 }, // a signal has no "picked up": initiated to delivered
    { queueMs: 35, runMs: 0 }, // a child only started is done once started
  ]);
  expect(t.steps[4]!.workflowId).toBe('monitor-1');
});

test('round trips: per kind and name; steps issued by one workflow task count once in the sequence', () => {
  const trips = countRoundTrips([timeline(sampleHistory())]);
  expect(trips.byKind).toEqual({ activity: 3, child: 1, signal: 1 });
  expect(trips.byName).toEqual({ 'activity a': 1, 'activity b': 1, 'activity c': 1, 'signal progress': 1, 'child monitor': 1 });
  expect(trips.total).toBe(5);
  expect(trips.sequential).toBe(4);
  expect(trips.concurrent).toEqual([['activity b', 'activity c']]);
  // A parent and its child add up.
  const both = countRoundTrips([timeline(sampleHistory()), timeline(sampleHistory())]);
  expect(both.total).toBe(10);
  expect(both.sequential).toBe(8);
});

test('own time: the workflow duration outside its steps, split into workflow tasks waiting and running', () => {
  // Steps span 7 + 65 (b and c together) + 35 + 35 = 142 of 325 ms.
  expect(ownTime(timeline(sampleHistory()))).toEqual({ totalMs: 183, workflowTaskQueueMs: 1 + 40 + 40 + 40 + 40, workflowTaskRunMs: 2 + 5 + 5 + 5 + 5 });
});

test('own time: a workflow task that runs while a step is under way is off the critical path', () => {
  nextId = 0;
  const events = [
    ev(0, { workflowExecutionStartedEventAttributes: {} }), // 1
    ev(0, { workflowTaskScheduledEventAttributes: {} }), // 2
    ev(0, { workflowTaskStartedEventAttributes: { scheduledEventId: 2 } }), // 3
    ev(2, { workflowTaskCompletedEventAttributes: { startedEventId: 3 } }), // 4
    ev(2, { startChildWorkflowExecutionInitiatedEventAttributes: { workflowId: 'build-1', workflowType: { name: 'build' }, workflowTaskCompletedEventId: 4 } }), // 5
    ev(10, { childWorkflowExecutionStartedEventAttributes: { initiatedEventId: 5 } }), // 6
    ev(50, { workflowExecutionSignaledEventAttributes: {} }), // 7: progress from the child
    ev(50, { workflowTaskScheduledEventAttributes: {} }), // 8
    ev(60, { workflowTaskStartedEventAttributes: { scheduledEventId: 8 } }), // 9
    ev(62, { workflowTaskCompletedEventAttributes: { startedEventId: 9 } }), // 10
    ev(100, { childWorkflowExecutionCompletedEventAttributes: { initiatedEventId: 5 } }), // 11
    ev(100, { workflowTaskScheduledEventAttributes: {} }), // 12
    ev(140, { workflowTaskStartedEventAttributes: { scheduledEventId: 12 } }), // 13
    ev(143, { workflowTaskCompletedEventAttributes: { startedEventId: 13 } }), // 14
    ev(143, { workflowExecutionCompletedEventAttributes: {} }), // 15
  ];
  const t = timeline(events);
  expect(stepTime(t.steps[0]!)).toEqual({ queueMs: 8, runMs: 90 });
  expect(ownTime(t)).toEqual({ totalMs: 143 - 98, workflowTaskQueueMs: 0 + 40, workflowTaskRunMs: 2 + 3 });
});

test('floors: the plain one counts every round trip as an empty activity; by kind, two-hop steps cost the cross-queue one', () => {
  const trips = { byKind: { activity: 19, child: 2, signal: 6 }, byName: {}, total: 27, sequential: 27, concurrent: [] };
  expect(floors(trips, 6, 50, 100)).toEqual({ plainMs: 1350, sequentialMs: 1350, byKindMs: 13 * 50 + 14 * 100 });
  // Concurrent steps still count one each in the target's floor; once per group in the sequential one.
  expect(floors({ ...trips, sequential: 21, concurrent: [['a', 'b']] }, 6, 50, 100)).toMatchObject({ plainMs: 1350, sequentialMs: 1050 });
  expect(targetMet(2025, 1350)).toBe(true);
  expect(targetMet(2026, 1350)).toBe(false);
});

test('plan: at least 20 single operations in all (10 quick), whatever the number of runs', () => {
  const single = (quick: boolean, runs: number) => overheadPlan({ quick, runs }).opsPerClient[1]! * runs;
  expect(single(false, 3)).toBe(24);
  expect(single(true, 3)).toBe(12);
  expect(single(false, 1)).toBe(20);
  expect(single(true, 1)).toBe(10);
  expect(single(true, 7)).toBeGreaterThanOrEqual(10);
  expect(overheadPlan({ quick: true, runs: 3 }).levels).toEqual([1, 10, 50]);
});

test("the benchmarks' CPU reading counts a process and its children, and nothing of a process not asked for", async () => {
  const { spawn } = await import('node:child_process');
  const { treeCpuMs } = await import('../../bench/lib/procfs');
  // A wrapper (sh) whose child burns 300 ms of CPU by its own count, says so and stays alive:
  // the wrapper's own time is ~0, its tree's is at least what the child burnt (no wall clock).
  const burner = 'const t = process.cpuUsage(); for (;;) { const u = process.cpuUsage(t); if (u.user + u.system >= 300000) break; } console.log("burnt"); setInterval(() => {}, 1000);';
  const wrapper = spawn('sh', ['-c', `${process.execPath} -e '${burner}' & wait`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  try {
    await new Promise<void>((resolve) => wrapper.stdout!.on('data', (d: Buffer) => d.toString().includes('burnt') && resolve()));
    const cpu = treeCpuMs({ wrapper: wrapper.pid, gone: 2 ** 22 + 7 });
    // /proc counts in clock ticks (10 ms here): allow one.
    expect(cpu.wrapper).toBeGreaterThan(150);
    expect(cpu.wrapper).toBeGreaterThanOrEqual(290);
    expect(cpu.gone).toBe(0);
  } finally {
    process.kill(-wrapper.pid!, 'SIGKILL');
    await new Promise((r) => wrapper.once('exit', r));
  }
});

test.each<[RawEvent, string]>([
  [{ eventId: 5, activityTaskScheduledEventAttributes: { activityType: { name: 'noop' } } }, 'activityTaskScheduled'],
  [{ eventId: 6, workflowTaskStartedEventAttributes: {}, activityTaskScheduledEventAttributes: null }, 'workflowTaskStarted'],
  [{ eventId: 7 }, '?'],
])('an event is named by the attributes it carries: %o -> %s', (e, kind) => {
  expect(eventKind(e)).toBe(kind);
});

test.each([
  ['steady machine: the two samples agree', [300], [10], [10], 1.5],
  ['the machine slowed during the run: held against the mean', [300], [8], [12], 1.5],
  ['no sample after (an older results file): the one before', [300], [10], [], 1.5],
  ['runs in order, each against its own samples', [200, 400], [10, 20], [10, 20], 1],
])('runRatios: %s', (_label, p50s, before, after, first) => {
  const ratios = runRatios(p50s, before, after, 20);
  expect(ratios).toHaveLength(p50s.length);
  expect(ratios[0]).toBeCloseTo(first);
  if (p50s.length > 1) expect(ratios[1]).toBeCloseTo(1);
});
