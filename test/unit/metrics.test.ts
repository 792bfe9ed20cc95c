// The orchestrator's metrics (workers/metrics.ts) as the monitor's activities feed them, and
// the endpoint that serves a registry (lib/metrics-server.ts).
import type { MemberHealth } from '../../lib/schemas';
import { serveMetrics } from '../../lib/metrics-server';
import { OrchestratorMetrics } from '../../workers/metrics';

const member = (instanceId: string, role: 'source' | 'replica', over: Partial<MemberHealth> = {}): MemberHealth => ({
  instanceId, name: instanceId, role, reachable: true, agentAnswered: true, ioRunning: role === 'replica' ? true : null, sqlRunning: role === 'replica' ? true : null,
  secondsBehind: role === 'replica' ? 3 : null, transactionsBehind: role === 'replica' ? 7 : null, gtidSlavePos: null, gtidIoPos: null, gtidBinlogPos: null,
  lastIoError: null, lastSqlError: null, readOnly: null, observedAt: '2026-12-03T00:00:00Z', ...over,
});

test.each([
  ['a healthy replica', member('r', 'replica'), { reachable: 1, agent: 1, replicating: 1, lag: 3, behind: 7 }],
  ['a replica whose SQL thread stopped', member('r', 'replica', { sqlRunning: false, secondsBehind: null }), { reachable: 1, agent: 1, replicating: 0, lag: undefined, behind: 7 }],
  ['an unreachable replica without its agent', member('r', 'replica', { reachable: false, agentAnswered: false, ioRunning: null, sqlRunning: null, secondsBehind: null, transactionsBehind: null }), { reachable: 0, agent: 0, replicating: 0, lag: undefined, behind: undefined }],
  ['a source (no replica series)', member('s', 'source'), { reachable: 1, agent: 1, replicating: undefined, lag: undefined, behind: undefined }],
])('%s', async (_name, m, want) => {
  const metrics = new OrchestratorMetrics();
  metrics.recordHealth('set-1', [m]);
  const get = async (g: { get(): Promise<{ values: { value: number }[] }> }) => (await g.get()).values[0]?.value;
  expect({
    reachable: await get(metrics.memberReachable),
    agent: await get(metrics.memberAgent),
    replicating: await get(metrics.replicaReplicating),
    lag: await get(metrics.replicaLag),
    behind: await get(metrics.replicaTransactionsBehind),
  }).toEqual(want);
});

test("a member that left its set loses its series at the set's next record; other sets keep theirs", async () => {
  const metrics = new OrchestratorMetrics();
  metrics.recordHealth('set-1', [member('s', 'source'), member('r1', 'replica'), member('r2', 'replica')]);
  metrics.recordHealth('set-2', [member('t', 'source'), member('q', 'replica')]);
  metrics.recordHealth('set-1', [member('s', 'source'), member('r1', 'replica')]);
  const ids = async () => (await metrics.memberReachable.get()).values.map((v) => `${v.labels.set_id}/${v.labels.instance_id}`).sort();
  expect(await ids()).toEqual(['set-1/r1', 'set-1/s', 'set-2/q', 'set-2/t']);
});

test('a poll that shows the same health only moves its time; a changed lag or a stopped thread is set', async () => {
  const metrics = new OrchestratorMetrics();
  const value = async (g: { get(): Promise<{ values: { value: number }[] }> }) => (await g.get()).values[0]?.value;
  metrics.recordHealth('set-1', [member('s', 'source'), member('r', 'replica')]);
  const first = await value(metrics.healthObservedAt);
  await new Promise((r) => setTimeout(r, 5));
  metrics.recordHealth('set-1', [member('s', 'source'), member('r', 'replica')]);
  expect(await value(metrics.healthObservedAt)).toBeGreaterThan(first!);
  metrics.recordHealth('set-1', [member('s', 'source'), member('r', 'replica', { secondsBehind: 9 })]);
  expect(await value(metrics.replicaLag)).toBe(9);
  metrics.recordHealth('set-1', [member('s', 'source'), member('r', 'replica', { secondsBehind: 9, sqlRunning: false })]);
  expect(await value(metrics.replicaReplicating)).toBe(0);
});

test('operations by type and outcome with durations; the endpoint serves them and nothing but GET /metrics', async () => {
  const metrics = new OrchestratorMetrics();
  metrics.operationEnded('promoteToReplicaSource', 'completed', 4.2);
  metrics.operationEnded('promoteToReplicaSource', 'failed', 1);
  const server = await serveMetrics({ host: '127.0.0.1', port: 0, registry: metrics.registry, sdkMetricsUrl: 'http://127.0.0.1:1/metrics' });
  try {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toContain('trove_operations_total{type="promoteToReplicaSource",outcome="completed"} 1');
    expect(text).toContain('trove_operation_duration_seconds_sum{type="promoteToReplicaSource",outcome="completed"} 4.2');
    expect(text).toContain('trove_operations_total{type="promoteToReplicaSource",outcome="failed"} 1');
    // The SDK exporter unreachable: the product's metrics still answer.
    expect(text).toContain('trove_orchestrator_process_cpu_seconds_total');
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  } finally {
    await server.close();
  }
});

test('every trove_ metric the Grafana dashboard queries is one the orchestrator or the API defines', async () => {
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const { ApiMetrics } = await import('../../api/metrics');
  const dashboard = readFileSync(path.join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8');
  const queried = [...new Set([...dashboard.matchAll(/trove_\w+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))];
  const defined = new Set([...(await new OrchestratorMetrics().registry.getMetricsAsJSON()), ...(await new ApiMetrics().registry.getMetricsAsJSON())].map((m) => m.name));
  expect(queried.length).toBeGreaterThan(10);
  expect(queried.filter((n) => !defined.has(n))).toEqual([]);
});
