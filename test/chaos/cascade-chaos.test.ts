// Chaos for cascades: seeded trials on a chain source -> relay -> replica, each one of
// - the relay's server crashed (the monitor's recoverDeadRelay moves its replica up),
// - the relay detached under a fault (the orchestrator or a guest agent SIGKILLed, Nova
//   calls failing) while its subtree moves up,
// - the replica two links deep promoted under a fault (the set flattens under it).
// After every trial the invariant checker must find nothing, the trial's own expectation
// must hold (where the replica replicates from), and a sampler checks that the set never had
// two writable members. The chain is rebuilt before each trial. CHAOS_TRIALS and CHAOS_SEED
// as in chaos.test.ts:
//   CHAOS_SEED=1234 CHAOS_TRIALS=1 npx jest --runInBand test/chaos/cascade-chaos.test.ts
import { depthOf, downstreamOf, sourceOf, upstreamOf, type Topology } from '../../lib/topology';
import { monitorWorkflowId } from '../../lib/names';
import { startDetachReplica, startPromote } from '../../lib/start';
import { watchStateQuery, type WatchState } from '../../workflows/watch-replication-set';
import { checkInvariants } from '../helpers/invariants';
import { adminQuery } from '../helpers/mysql';
import { eventually, sleep, useTestStack, waitIdle } from '../helpers/stack';
import { deleteAndWait as deleteInstance, writableSampler, writableViolations } from '../helpers/writable';
import { prng } from './prng';

const TRIALS = Number(process.env.CHAOS_TRIALS ?? 5);
const BASE_SEED = Number(process.env.CHAOS_SEED ?? 20261203);
type Scenario = 'crash-relay' | 'detach-relay' | 'promote-two-deep';
type Fault = 'crash-relay-server' | 'kill-orchestrator' | 'kill-guest' | 'nova-api-errors';

interface TrialRow {
  trial: number;
  seed: number;
  scenario: Scenario;
  faults: Fault[];
  outcome: string;
  seconds: number;
  violations: string[];
}

// A dead relay is judged after the set's failover_after (2 s here): a trial does not wait long.
const env = useTestStack();
const rows: TrialRow[] = [];
let sourceId: string;
let row = 1;

const nova = (method: string, p: string, body?: unknown) =>
  fetch(`${env.stack.env.NOVA_URL}${p}`, { method, headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN!, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

async function topology(): Promise<Topology> {
  const rec = (await env.registry!.instances.get(sourceId))!;
  return (await env.registry!.sets.topology(rec.replicationSetId!))!;
}

async function replicaOf(source: string): Promise<string> {
  const res = await env.api('POST', '/v1.0/proj-a/instances', { instance: { name: `chain-${row++}`, replica_of: source } });
  if (res.status !== 202) throw new Error(`replica of ${source}: ${res.status} ${JSON.stringify(res.body)}`);
  await env.temporal.workflow.getHandle(res.body.operation.id).result();
  await waitIdle(env, res.body.instance.id);
  return res.body.instance.id;
}

/** The chain source -> relay -> replica, with no other member (extra leaves deleted, missing links built). */
async function ensureChain(): Promise<{ relay: string; leaf: string }> {
  let t = await topology();
  sourceId = sourceOf(t)!;
  let relay = downstreamOf(t, sourceId).find((r) => downstreamOf(t, r).length > 0) ?? downstreamOf(t, sourceId)[0];
  relay ??= await replicaOf(sourceId);
  t = await topology();
  const leaf = downstreamOf(t, relay)[0] ?? (await replicaOf(relay));
  t = await topology();
  // Deepest first: a member with replicas of its own is refused (a source outlives its replicas).
  const extra = t.members.map((x) => x.id).filter((m) => m !== sourceId && m !== relay && m !== leaf);
  for (const m of extra.sort((a, b) => (depthOf(t, b) ?? 0) - (depthOf(t, a) ?? 0))) await deleteAndWait(m);
  return { relay, leaf };
}

/** What the set's watch saw and the relay recoveries it started: a trial whose relay was not recovered says which step did not happen. */
async function watchReport(): Promise<string> {
  const setId = (await env.registry!.instances.get(sourceId))!.replicationSetId!;
  const state = await env.temporal.workflow
    .getHandle(monitorWorkflowId(setId))
    .query<WatchState>(watchStateQuery)
    .then((w) => JSON.stringify({ lastWake: w.lastWake, decision: w.decision, relayRecoveries: w.relayRecoveries, health: w.health.map((h) => ({ id: h.instanceId, role: h.role, reachable: h.reachable, agent: h.agentAnswered, io: h.ioRunning, error: h.lastIoError })) }), (e: Error) => `no watch state: ${e.message}`);
  const pending = await env.temporal.workflow
    .getHandle(monitorWorkflowId(setId))
    .describe()
    .then((d) => JSON.stringify((d.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt, worker: a.lastWorkerIdentity, started: a.lastStartedTime?.seconds?.toString(), heartbeat: a.lastHeartbeatTime?.seconds?.toString() }))), (e: Error) => e.message);
  const recoveries: string[] = [];
  for await (const w of env.temporal.workflow.list({ query: `WorkflowType = 'recoverDeadRelay'` })) recoveries.push(`${w.workflowId} ${w.status.name}`);
  return `watch: ${state}; its pending activities: ${pending}; recoverDeadRelay runs: ${recoveries.join(', ') || 'none'}`;
}

/** Every member of the set, for the writable sampler. */
const memberIds = async () => (await topology()).members.map((m) => m.id);
/** A refused delete says what the set looked like: the refusal alone does not tell which link was left. */
const deleteAndWait = (id: string) =>
  deleteInstance(env, id).catch(async (e: Error) => {
    const links = await topology().then((t) => JSON.stringify(t.links), () => 'unknown');
    throw new Error(`${e.message}; the set's links: ${links}`);
  });

beforeAll(async () => {
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'cascade-chaos', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: 'app', password: 'chaos-pass-2', databases: [{ name: 'shop' }] }] },
  });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  sourceId = created.body.instance.id;
  await waitIdle(env, sourceId);
  const rec = (await env.registry!.instances.get(sourceId))!;
  await adminQuery(env.dataDir, rec.novaServerId!, 'CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(40))');
  await adminQuery(env.dataDir, rec.novaServerId!, 'INSERT INTO shop.t VALUES ?', [Array.from({ length: 100 }, (_, i) => [i + 1, `row ${i + 1}`])]);
  await replicaOf(sourceId);
  const settings = await env.api('PATCH', `/v1.0/proj-a/instances/${sourceId}/replication`, { replication: { failover_after: 2 } });
  if (settings.status !== 200) throw new Error(`settings answered ${settings.status}: ${JSON.stringify(settings.body)}`);
}, 300_000);

afterAll(() => {
  if (!rows.length) return;
  const lines = ['| trial | seed | scenario | faults | outcome | s | violations |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.trial} | ${r.seed} | ${r.scenario} | ${r.faults.join(', ') || '-'} | ${r.outcome} | ${r.seconds.toFixed(1)} | ${r.violations.length} |`);
  const faults = rows.reduce((n, r) => n + r.faults.length, 0);
  const violations = rows.reduce((n, r) => n + r.violations.length, 0);
  lines.push('', `cascade trials: ${rows.length}, faults injected: ${faults}, invariant violations: ${violations}, seeds: ${rows.map((r) => r.seed).join(' ')}`);
  console.log(lines.join('\n'));
});

test.each(Array.from({ length: TRIALS }, (_, i) => i + 1))('cascade chaos trial %i', async (trial) => {
  const seed = BASE_SEED + trial;
  const rnd = prng(seed);
  const { relay, leaf } = await ensureChain();
  const oldSource = sourceId;
  const scenario = rnd.pick<Scenario>(['crash-relay', 'detach-relay', 'promote-two-deep']);
  const faults: Fault[] = scenario === 'crash-relay' ? ['crash-relay-server'] : [];
  if (scenario !== 'crash-relay' && rnd.chance(0.5)) faults.push('kill-orchestrator');
  if (scenario !== 'crash-relay' && rnd.chance(0.4)) faults.push('kill-guest');
  if (rnd.chance(0.4)) faults.push('nova-api-errors');
  const started = Date.now();
  const violations: string[] = [];
  const stopSampler = writableSampler(env, memberIds);
  if (faults.includes('nova-api-errors')) await nova('PUT', '/_faults', { api_error_rate: 0.2, latency_ms: 50 });

  let outcome: string;
  if (scenario === 'crash-relay') {
    const rec = (await env.registry!.instances.get(relay))!;
    await nova('POST', `/_faults/servers/${rec.novaServerId}/crash`);
    // The monitor judges the relay dead and moves its replica to the source.
    const moved = await eventually('the replica moved to the source', async () => (upstreamOf(await topology(), leaf) === sourceId ? true : undefined), 120_000).catch(() => false);
    await nova('DELETE', '/_faults');
    outcome = moved ? 'replica moved up' : 'replica NOT moved';
    if (!moved) {
      const report = await watchReport();
      console.log(`relay ${relay} not recovered at ${new Date().toISOString()}: ${report}`);
      violations.push(`the dead relay's replica ${leaf} was not moved to the source; ${report}`);
    }
    // The recovery moves the replica before it ends and releases the set: until then a delete
    // is refused (409, the set is busy), as it should be.
    await waitIdle(env, sourceId).catch((e: Error) => violations.push(`after the relay's recovery: ${e.message}`));
    await deleteAndWait(relay);
  } else {
    const handle = scenario === 'detach-relay' ? await startDetachReplica(env.temporal, { instanceId: relay, projectId: 'proj-a' }) : await startPromote(env.temporal, { instanceId: leaf, projectId: 'proj-a' });
    const injected: Promise<unknown>[] = [];
    if (faults.includes('kill-orchestrator')) injected.push(sleep(rnd.between(200, 2500)).then(() => env.stack.parts.get('orchestrator')!.kill()));
    if (faults.includes('kill-guest')) {
      const victim = (await env.registry!.instances.get(rnd.pick([sourceId, relay, leaf])))!;
      injected.push(sleep(rnd.between(200, 2500)).then(() => nova('POST', `/_faults/servers/${victim.novaServerId}/kill-guest`)));
    }
    await Promise.all(injected);
    const result = await handle.result().then((r: any) => ({ ok: true as const, r }), (e: Error) => ({ ok: false as const, e }));
    await nova('DELETE', '/_faults');
    outcome = result.ok ? 'completed' : `failed: ${String((result.e as { cause?: Error }).cause?.message ?? result.e.message).slice(0, 60)}`;
    const t = await topology();
    if (result.ok && scenario === 'detach-relay') {
      // The relay's subtree moved up, keeping its position.
      if (upstreamOf(t, leaf) !== sourceId) violations.push(`after detaching the relay, ${leaf} replicates from ${upstreamOf(t, leaf)}, not the source`);
      if (t.members.some((m) => m.id === relay)) violations.push(`the detached relay ${relay} is still a member`);
      await deleteAndWait(relay);
    }
    if (result.ok && scenario === 'promote-two-deep') {
      // The set flattened under the promoted replica.
      sourceId = leaf;
      for (const m of [relay, oldSource]) {
        if (upstreamOf(t, m) !== leaf) violations.push(`after promoting ${leaf}, ${m} replicates from ${upstreamOf(t, m)}, not the new source`);
      }
    }
    if (!result.ok) {
      // A failed operation leaves a chain the checker accepts; the standalone relay (a detach
      // that got that far) is cleaned up as after a success.
      const rec = await env.registry!.instances.get(relay);
      if (rec && !rec.replicationSetId) await deleteAndWait(relay);
    }
  }
  const writable = await stopSampler();
  violations.push(...(await checkInvariants(env)));
  violations.push(...writableViolations(writable));

  // New data for the next trial, written where writes go.
  const src = (await env.registry!.instances.get(sourceOf(await topology())!))!;
  sourceId = src.id;
  await adminQuery(env.dataDir, src.novaServerId!, 'INSERT INTO shop.t VALUES (?, ?)', [1000 + trial, `trial ${trial}`]).catch(() => undefined);
  rows.push({ trial, seed, scenario, faults, outcome, seconds: (Date.now() - started) / 1000, violations });
  expect(violations).toEqual([]);
}, 900_000);
