// Chaos: seeded trials of createReplicas, detachReplica, promoteToReplicaSource and
// ejectReplicaSource, each under faults (the orchestrator SIGKILLed and restarted, a guest
// agent SIGKILLed, 20% of Nova calls failing with added latency, builds ending in ERROR,
// the source's mariadbd SIGKILLed during the snapshot, a replica's server crashed during
// its restore).
// After every trial the invariant checker must find nothing, and a sampler checks that a
// set never had two writable members. CHAOS_TRIALS (default 5) and CHAOS_SEED replay runs:
//   npm run test:chaos            (50 trials)
//   CHAOS_SEED=1234 CHAOS_TRIALS=1 npx jest --runInBand test/chaos
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startCreateReplicas, startDetachReplica, startEject, startPromote } from '../../lib/start';
import type { InstanceRecord } from '../../registry';
import { checkInvariants } from '../helpers/invariants';
import { adminQuery } from '../helpers/mysql';
import { eventually, replicaPhases, sleep, startTestStack, type TestStack } from '../helpers/stack';
import { deleteAndWait as deleteInstance, writableSampler, writableViolations } from '../helpers/writable';
import { prng } from './prng';

const TRIALS = Number(process.env.CHAOS_TRIALS ?? 5);
const BASE_SEED = Number(process.env.CHAOS_SEED ?? 20261122);
type Fault = 'kill-orchestrator' | 'kill-guest' | 'nova-api-errors' | 'build-error' | 'restart-source-db' | 'crash-restoring-replica';
type Op = 'createReplicas' | 'detachReplica' | 'promoteToReplicaSource' | 'ejectReplicaSource';

interface TrialRow {
  trial: number;
  seed: number;
  op: Op;
  faults: Fault[];
  outcome: string;
  seconds: number;
  violations: string[];
}

let env: TestStack;

/** Resolves once the operation's progress reaches a phase (or after timeoutMs regardless). */
async function waitForPhase(workflowId: string, phase: string, timeoutMs: number): Promise<void> {
  await eventually(`phase ${phase}`, async () => (await env.temporal.workflow.getHandle(workflowId).query<{ phase: string }>('progress').catch(() => undefined))?.phase === phase, timeoutMs).catch(() => undefined);
}
let sourceId: string;
const deleteAndWait = (id: string) => deleteInstance(env, id);
let row = 1;
const rows: TrialRow[] = [];

const nova = (method: string, p: string, body?: unknown) =>
  fetch(`${env.stack.env.NOVA_URL}${p}`, { method, headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN!, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

async function members(): Promise<{ source: InstanceRecord; replicas: InstanceRecord[] }> {
  const source = (await env.registry!.instances.get(sourceId))!;
  const replicas = (await Promise.all(source.replicas.map((id) => env.registry!.instances.get(id)))).filter((x): x is InstanceRecord => Boolean(x));
  return { source, replicas };
}

beforeAll(async () => {
  env = await startTestStack();
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'chaos', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: 'app', password: 'chaos-pass', databases: [{ name: 'shop' }] }] },
  });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  sourceId = created.body.instance.id;
  await eventually('source ACTIVE', async () => (await env.api('GET', `/v1.0/proj-a/instances/${sourceId}`)).body?.instance?.status === 'ACTIVE', 120_000);
  const rec = (await env.registry!.instances.get(sourceId))!;
  await adminQuery(env.dataDir, rec.novaServerId!, 'CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(40))');
  await adminQuery(env.dataDir, rec.novaServerId!, 'INSERT INTO shop.t VALUES ?', [Array.from({ length: 200 }, (_, i) => [i + 1, `row ${i + 1}`])]);
}, 300_000);

afterAll(async () => {
  if (rows.length) {
    const lines = ['| trial | seed | operation | faults | outcome | s | violations |', '|---|---|---|---|---|---|---|'];
    for (const r of rows) lines.push(`| ${r.trial} | ${r.seed} | ${r.op} | ${r.faults.join(', ') || '-'} | ${r.outcome} | ${r.seconds.toFixed(1)} | ${r.violations.length} |`);
    const faults = rows.reduce((n, r) => n + r.faults.length, 0);
    const violations = rows.reduce((n, r) => n + r.violations.length, 0);
    lines.push('', `trials: ${rows.length}, faults injected: ${faults}, invariant violations: ${violations}, seeds: ${rows.map((r) => r.seed).join(' ')}`);
    console.log(lines.join('\n'));
  }
  await env?.stop();
});

test.each(Array.from({ length: TRIALS }, (_, i) => i + 1))('chaos trial %i', async (trial) => {
  const seed = BASE_SEED + trial;
  const rnd = prng(seed);
  const before = await members();
  const ops: Op[] = before.replicas.length === 0 ? ['createReplicas'] : before.replicas.length >= 2 ? ['detachReplica', 'promoteToReplicaSource', 'ejectReplicaSource'] : ['createReplicas', 'detachReplica', 'promoteToReplicaSource', 'ejectReplicaSource'];
  const op = rnd.pick(ops);
  const faults: Fault[] = [];
  if (rnd.chance(0.5)) faults.push('kill-orchestrator');
  if (rnd.chance(0.4)) faults.push('kill-guest');
  if (rnd.chance(0.5)) faults.push('nova-api-errors');
  if (op === 'createReplicas' && rnd.chance(0.3)) faults.push('build-error');
  if (op === 'createReplicas' && rnd.chance(0.3)) faults.push('restart-source-db');
  if (op === 'createReplicas' && rnd.chance(0.2)) faults.push('crash-restoring-replica');
  const target = before.replicas.length ? rnd.pick(before.replicas) : undefined;
  const started = Date.now();

  if (faults.includes('nova-api-errors')) await nova('PUT', '/_faults', { api_error_rate: 0.2, latency_ms: 50 });
  if (faults.includes('build-error')) await nova('PUT', '/_faults', { error_next_builds: 1 });
  const stopSampler = writableSampler(env, async () => {
    const m = await members();
    return [m.source.id, ...m.replicas.map((r) => r.id)];
  });

  const handle =
    op === 'createReplicas'
      ? (await startCreateReplicas(env.temporal, { sourceInstanceId: sourceId, projectId: 'proj-a', count: 1 })).handle
      : op === 'detachReplica'
        ? await startDetachReplica(env.temporal, { instanceId: target!.id, projectId: 'proj-a' })
        : op === 'promoteToReplicaSource'
          ? await startPromote(env.temporal, { instanceId: target!.id, projectId: 'proj-a' })
          : await startEject(env.temporal, { instanceId: sourceId, projectId: 'proj-a', force: true });

  const injected: Promise<unknown>[] = [];
  if (faults.includes('kill-orchestrator')) {
    injected.push(sleep(rnd.between(200, 2500)).then(() => env.stack.parts.get('orchestrator')!.kill()));
  }
  if (faults.includes('kill-guest')) {
    const victim = rnd.pick([before.source, ...before.replicas]);
    injected.push(sleep(rnd.between(200, 2500)).then(() => nova('POST', `/_faults/servers/${victim.novaServerId}/kill-guest`)));
  }
  if (faults.includes('restart-source-db')) {
    // SIGKILL the source's mariadbd while the snapshot streams; its agent's watchdog restarts it.
    injected.push(
      waitForPhase(handle.workflowId, 'snapshot', 20_000).then(async () => {
        const pidFile = path.join(env.dataDir, 'servers', before.source.novaServerId!, 'run', 'mysqld.pid');
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid) process.kill(pid, 'SIGKILL');
      }),
    );
  }
  if (faults.includes('crash-restoring-replica')) {
    injected.push(
      eventually('a replica restoring', async () => {
        return (await replicaPhases(env.temporal, handle.workflowId)).find((r) => r.phase === 'restoring');
      }, 60_000)
        .then(async (r) => {
          const rec = await env.registry!.instances.get(r.replicaId);
          if (rec?.novaServerId) await nova('POST', `/_faults/servers/${rec.novaServerId}/crash`);
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(injected);
  const result = (await handle.result().then((r: unknown) => ({ ok: true as const, r }), (e: Error) => ({ ok: false as const, e }))) as { ok: true; r: any } | { ok: false; e: Error };
  await nova('DELETE', '/_faults');
  const writable = await stopSampler();

  // The operation's effect, then cleanup of what it handed back (detached or fenced instances).
  let outcome = result.ok ? 'completed' : `failed: ${String((result.e as { cause?: Error }).cause?.message ?? result.e.message).slice(0, 60)}`;
  if (result.ok && op === 'ejectReplicaSource') {
    const fenced = sourceId;
    sourceId = result.r.newSourceId;
    await deleteAndWait(fenced);
  }
  if (result.ok && op === 'promoteToReplicaSource') sourceId = result.r.newSourceId;
  if (result.ok && op === 'detachReplica') await deleteAndWait(target!.id);
  if (result.ok && op === 'createReplicas') outcome += ` (${result.r.replicas.map((r: { status: string }) => r.status).join(', ')})`;

  const after = await members();
  const violations = await checkInvariants(env);
  violations.push(...writableViolations(writable));
  if (result.ok) {
    const expected =
      op === 'createReplicas'
        ? before.replicas.length + result.r.replicas.filter((r: { status: string }) => r.status === 'ACTIVE').length
        : op === 'promoteToReplicaSource'
          ? before.replicas.length
          : before.replicas.length - 1;
    if (after.replicas.length !== expected) violations.push(`expected ${expected} replicas after ${op}, found ${after.replicas.length}`);
  } else if (after.replicas.length !== before.replicas.length && op !== 'createReplicas') {
    violations.push(`a failed ${op} changed the number of replicas (${before.replicas.length} -> ${after.replicas.length})`);
  }

  // New data for the next trial, written where writes go.
  await adminQuery(env.dataDir, after.source.novaServerId!, 'INSERT INTO shop.t VALUES (?, ?)', [1000 + row++, `trial ${trial}`]).catch(() => undefined);
  rows.push({ trial, seed, op, faults, outcome, seconds: (Date.now() - started) / 1000, violations });
  expect(violations).toEqual([]);
});
