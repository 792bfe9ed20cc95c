// The Prometheus endpoints on the real stack: after a create and a replica, the
// orchestrator's /metrics has the operations by type and outcome with durations, the
// Temporal SDK's own metrics, the replica's health and lag as its set's monitor saw them and
// what the watching cost; each guest agent's (on its server's address) has its activities and
// the SDK's; the API's has its requests by route and status, with latency.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventually, useTestStack, waitIdle } from '../helpers/stack';

const env = useTestStack();

/** The samples of one metric: its labels (as text) to its value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}
const value = (text: string, name: string, ...labels: string[]) =>
  [...samples(text, name)].find(([l]) => labels.every((x) => l.includes(x)))?.[1];

async function scrape(port: string, host = '127.0.0.1'): Promise<string> {
  const res = await fetch(`http://${host}:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

test('the orchestrator, a guest agent and the API serve their metrics, with real values after a create and a replica', async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: 'metered', flavorRef: '1', volume: { size: 1 } } });
  expect(created.status).toBe(202);
  const source = created.body.instance.id as string;
  await waitIdle(env, source);
  const rep = await env.api('POST', `/v1.0/proj-a/instances/${source}/action`, { replicate: { count: 1 } });
  expect(rep.status).toBe(202);
  await env.temporal.workflow.getHandle(rep.body.operation.id).result();
  const replica = rep.body.replicas[0].id as string;
  expect((await env.api('GET', '/v1.0/proj-a/instances/no-such-instance')).status).toBe(404);

  const orchestratorPort = env.stack.env.TROVE_ORCHESTRATOR_METRICS_PORT!;
  // The monitor records the set's health each poll (every second by default).
  const orchestrator = await eventually('the monitor to have recorded the replica', async () => {
    const text = await scrape(orchestratorPort);
    return value(text, 'trove_replica_lag_seconds', `instance_id="${replica}"`) !== undefined ? text : undefined;
  }, 60_000);

  // Operations by type and outcome, with durations (from the workflows' ends).
  expect(value(orchestrator, 'trove_operations_total', 'type="provisionInstance"', 'outcome="completed"')).toBeGreaterThanOrEqual(1);
  expect(value(orchestrator, 'trove_operations_total', 'type="createReplicas"', 'outcome="completed"')).toBe(1);
  expect(value(orchestrator, 'trove_operation_duration_seconds_count', 'type="createReplicas"', 'outcome="completed"')).toBe(1);
  expect(value(orchestrator, 'trove_operation_duration_seconds_sum', 'type="createReplicas"', 'outcome="completed"')).toBeGreaterThan(0.5);
  expect(value(orchestrator, 'trove_activities_total', 'type="createServer"', 'outcome="completed"')).toBeGreaterThanOrEqual(2);
  // Each member as the monitor sees it: both reachable, the replica replicating, not behind.
  for (const [id, role] of [[source, 'source'], [replica, 'replica']] as const) {
    expect(value(orchestrator, 'trove_member_reachable', `instance_id="${id}"`, `role="${role}"`, `set_id="${source}"`)).toBe(1);
    expect(value(orchestrator, 'trove_member_agent_answered', `instance_id="${id}"`)).toBe(1);
  }
  expect(value(orchestrator, 'trove_replica_replicating', `instance_id="${replica}"`)).toBe(1);
  expect(value(orchestrator, 'trove_replica_lag_seconds', `instance_id="${replica}"`)).toBe(0);
  expect(value(orchestrator, 'trove_replica_replicating', `instance_id="${source}"`)).toBeUndefined();
  // The cost of watching: polls, members probed, probe time.
  const polls = value(orchestrator, 'trove_monitor_polls_total')!;
  expect(polls).toBeGreaterThanOrEqual(1);
  // At most both members each poll: a member whose first read answered counts that read as its probe.
  const probed = value(orchestrator, 'trove_monitor_probed_members_total')!;
  expect(probed).toBeGreaterThanOrEqual(1);
  expect(probed).toBeLessThanOrEqual(2 * polls);
  expect(value(orchestrator, 'trove_monitor_probe_duration_seconds_count')).toBe(polls);
  expect(value(orchestrator, 'trove_automatic_failovers_total')).toBe(0);
  // The Temporal SDK's metrics, read through the same endpoint.
  expect(value(orchestrator, 'temporal_workflow_completed_total', 'workflow_type="createReplicas"')).toBeGreaterThanOrEqual(1);
  expect(orchestrator).toMatch(/^temporal_activity_execution_latency_count\{[^}]*activity_type="createServer"[^}]*\} [1-9]/m);
  expect(orchestrator).toMatch(/^temporal_worker_start_total\{/m);
  // The dashboard's SDK queries name metrics this endpoint has.
  const dashboard = readFileSync(path.join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8');
  const sdkNames = [...new Set([...dashboard.matchAll(/temporal_\w+/g)].map((m) => m[0]))];
  expect(sdkNames.length).toBeGreaterThan(0);
  expect(sdkNames.filter((n) => !new RegExp(`^${n}[{ ]`, 'm').test(orchestrator))).toEqual([]);

  // A guest agent, on its server's own address: its activities and the SDK's metrics. Prometheus
  // finds the guests through the API's HTTP service discovery (GET /targets/guests).
  const address = (await env.registry!.instances.get(source))!.address!;
  const discovered = await (await fetch(`http://127.0.0.1:${env.stack.env.TROVE_API_METRICS_PORT!}/targets/guests`)).json();
  expect(discovered).toEqual(expect.arrayContaining([{ targets: [`${address}:9464`], labels: expect.objectContaining({ trove_instance_id: source, trove_instance_name: 'metered', trove_project: 'proj-a' }) }]));
  expect(discovered).toHaveLength(2);
  const guest = await scrape('9464', address);
  expect(value(guest, 'trove_activities_total', 'type="prepare"', 'outcome="completed"')).toBe(1);
  expect(value(guest, 'trove_activity_duration_seconds_count', 'type="prepare"', 'outcome="completed"')).toBe(1);
  expect(guest).toMatch(/^temporal_worker_start_total\{/m);

  // The API: requests by route pattern (no ids) and status, and latency.
  const api = await scrape(env.stack.env.TROVE_API_METRICS_PORT!);
  expect(value(api, 'trove_api_requests_total', 'method="POST"', 'route="/v1.0/:project/instances"', 'status="202"')).toBe(1);
  expect(value(api, 'trove_api_requests_total', 'method="GET"', 'route="/v1.0/:project/instances/:id"', 'status="200"')).toBeGreaterThanOrEqual(1);
  expect(value(api, 'trove_api_requests_total', 'method="GET"', 'route="/v1.0/:project/instances/:id"', 'status="404"')).toBe(1);
  expect(value(api, 'trove_api_request_duration_seconds_count', 'method="POST"', 'route="/v1.0/:project/instances"', 'status="202"')).toBe(1);
  expect(value(api, 'trove_api_request_duration_seconds_sum', 'method="POST"', 'route="/v1.0/:project/instances"')).toBeGreaterThan(0);
  expect(api).not.toContain(source);
});
