// Records replay fixtures: runs each workflow scenario against a Temporal dev server with
// the in-memory activities of the workflow tests, and writes the history of the workflow
// it names to test/histories/v<version>/<workflowType>/<scenario>__<date>.json, <version>
// being package.json's (the release being made). A released version's fixtures are never
// rewritten nor deleted: they guard executions of that release that may still be running
// (docs/patches.md). Run after changing workflow logic and commit the new files.
//   npm run record-histories [-- workflowType/scenario-name ...]
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import { workflowIds } from '../lib/names';
import type { CreateReplicasResult } from '../lib/schemas';
import { newWorld, sampleProvisionSpec, seedLostZoneSet, seedSet, seedSource, type FakeWorld } from '../test/helpers/fake-activities';
import { DEFAULT_PROFILE } from '../test/helpers/fake-registry';
import { releaseHistoriesDir } from '../test/helpers/histories';
import { bundleWorkflows, installQuietRuntime } from '../test/helpers/runtime';
import { startTestStack, type TestStack } from '../test/helpers/stack';
import { withFakeWorkers } from '../test/helpers/workers';

interface Ctx {
  env: TestStack;
  taskQueue: string;
  prefix: string;
  world: FakeWorld;
  /** Runs a workflow to its end (failures included) and returns its id. */
  run(type: string, arg: unknown): Promise<string>;
}

interface Scenario {
  workflowType: string;
  name: string;
  setup?: (w: FakeWorld) => void;
  /** Returns the id of the workflow whose history is recorded (its latest run, or the run named). */
  play: (ctx: Ctx) => Promise<string | { workflowId: string; runId: string }>;
}

const spec = sampleProvisionSpec;

async function replicasOf(ctx: Ctx, count: number, replicaIds?: string[]): Promise<{ sourceId: string; workflowId: string; result?: CreateReplicasResult }> {
  const sourceId = randomUUID();
  seedSource(ctx.world, sourceId, ctx.prefix);
  const workflowId = await ctx.run('createReplicas', { sourceInstanceId: sourceId, projectId: 'proj-a', count, ...(replicaIds ? { replicaIds } : {}) });
  const result = (await ctx.env.temporal.workflow.getHandle(workflowId).result().catch(() => undefined)) as CreateReplicasResult | undefined;
  return { sourceId, workflowId, result };
}

/** createReplicas cancelled once `when` holds; returns its id once it has ended. */
async function cancelledReplicas(ctx: Ctx, count: number, replicaIds: string[], when: () => boolean): Promise<string> {
  const sourceId = randomUUID();
  seedSource(ctx.world, sourceId, ctx.prefix);
  const workflowId = `createReplicas-${randomUUID()}`;
  const handle = await ctx.env.temporal.workflow.start('createReplicas', { taskQueue: ctx.taskQueue, workflowId, args: [{ sourceInstanceId: sourceId, projectId: 'proj-a', count, replicaIds }] });
  while (!when()) await new Promise((r) => setTimeout(r, 20));
  await handle.cancel();
  await handle.result().catch(() => undefined);
  return workflowId;
}

/** A set whose source is gone and whose replicas lost it; replica 1 received the most. */
function ejectDeadSource(c: Ctx, extra: Record<string, unknown> = {}) {
  const set = seedSet(c.world, c.prefix);
  c.world.down.add(set.source.id);
  c.world.statusOf.set(`${c.prefix}-1`, { ioRunning: false, gtidIoPos: '0-101-9' });
  c.world.statusOf.set(`${c.prefix}-2`, { ioRunning: false, gtidIoPos: '0-101-7', gtidSlavePos: '0-101-7', gtidBinlogPos: '0-101-7' });
  return c.run('ejectReplicaSource', { instanceId: set.source.id, projectId: 'proj-a', ...extra });
}

/** s <- r1 <- r2: a cascade in the fake world (replica 2 replicates from replica 1). */
function seedCascade(c: Ctx) {
  c.world.maxDepth = 3;
  const set = seedSet(c.world, c.prefix);
  set.replicas[1]!.replicaOf = set.replicas[0]!.id;
  return set;
}

/** A master-master pair (the source and replica 1 replicate from each other) with replica 2 under the active side. */
function seedPair(c: Ctx) {
  const set = seedSet(c.world, c.prefix);
  set.source.replicaOf = set.replicas[0]!.id;
  return set;
}

/** The relay (replica 1) of a cascade is gone: unreachable, its agent silent, its replica lost it. */
function relayDies(c: Ctx, set: ReturnType<typeof seedCascade>) {
  c.world.down.add(set.replicas[0]!.id);
  c.world.statusOf.set(`${c.prefix}-1`, null);
  c.world.statusOf.set(`${c.prefix}-2`, { ioRunning: false });
}

const sealed = 'v1.aaaa.bbbb.cccc';

const SCENARIOS: Scenario[] = [
  { workflowType: 'provisionInstance', name: 'success', play: (c) => c.run('provisionInstance', spec(randomUUID())) },
  { workflowType: 'provisionInstance', name: 'build-error-compensated', setup: (w) => (w.failBuild = true), play: (c) => c.run('provisionInstance', spec(randomUUID())) },
  { workflowType: 'provisionInstance', name: 'prepare-failed-compensated', setup: (w) => (w.failPrepare = true), play: (c) => c.run('provisionInstance', spec(randomUUID())) },
  { workflowType: 'provisionInstance', name: 'invalid-input', play: (c) => c.run('provisionInstance', { ...spec(randomUUID()), volumeSizeGb: 0 }) },
  {
    workflowType: 'deleteInstance',
    name: 'success',
    play: async (c) => {
      const id = randomUUID();
      await c.run('provisionInstance', spec(id));
      return c.run('deleteInstance', { instanceId: id, projectId: 'proj-a' });
    },
  },
  {
    workflowType: 'deleteInstance',
    name: 'replica-leaves-set',
    play: async (c) => {
      const { result } = await replicasOf(c, 1);
      return c.run('deleteInstance', { instanceId: result!.replicas[0]!.replicaId, projectId: 'proj-a' });
    },
  },
  { workflowType: 'createReplicas', name: 'two-replicas', play: async (c) => (await replicasOf(c, 2)).workflowId },
  { workflowType: 'createReplicas', name: 'one-of-two-failed', setup: (w) => (w.failRestores = 1), play: async (c) => (await replicasOf(c, 2)).workflowId },
  { workflowType: 'createReplicas', name: 'snapshot-failed', setup: (w) => (w.failSnapshot = true), play: async (c) => (await replicasOf(c, 2)).workflowId },
  { workflowType: 'createReplicas', name: 'source-not-prepared', setup: (w) => ((w.failPrepareSource = true), (w.slowPrepareSourceMs = 300)), play: async (c) => (await replicasOf(c, 2)).workflowId },
  { workflowType: 'buildReplica', name: 'success', play: async (c) => workflowIds.buildReplica((await replicasOf(c, 1)).result!.replicas[0]!.replicaId) },
  {
    workflowType: 'buildReplica',
    name: 'restore-failed-compensated',
    setup: (w) => (w.failRestores = 1),
    play: async (c) => workflowIds.buildReplica((await replicasOf(c, 1)).result!.replicas[0]!.replicaId),
  },
  {
    // A phase that lasts: the parent hears of it.
    workflowType: 'buildReplica',
    name: 'slow-restore-reported',
    setup: (w) => (w.slowRestoreMs = 1500),
    play: async (c) => workflowIds.buildReplica((await replicasOf(c, 1)).result!.replicas[0]!.replicaId),
  },
  {
    // Restoring (following a snapshot that never comes) when the source cannot be prepared: the restore is cancelled.
    workflowType: 'buildReplica',
    name: 'no-snapshot-cancels-restore',
    setup: (w) => ((w.failPrepareSource = true), (w.slowPrepareSourceMs = 3000), (w.restoreWaitsForSnapshot = true)),
    play: async (c) => {
      const replicaId = randomUUID();
      await replicasOf(c, 1, [replicaId]);
      return workflowIds.buildReplica(replicaId);
    },
  },
  {
    // Cancelled while Nova creates the server: the create finishes, then is undone; the build ends CANCELLED.
    workflowType: 'buildReplica',
    name: 'cancelled-while-creating-server',
    setup: (w) => (w.slowCreateServerMs = 1000),
    play: async (c) => {
      const replicaId = randomUUID();
      await cancelledReplicas(c, 1, [replicaId], () => c.world.calls.includes('createServer'));
      return workflowIds.buildReplica(replicaId);
    },
  },
  { workflowType: 'createReplicas', name: 'finish-failed-snapshot-deleted', setup: (w) => (w.failFinish = true), play: async (c) => (await replicasOf(c, 1)).workflowId },
  {
    // Cancelled with one replica ACTIVE and one restoring: the first stays (its set's monitor ensured), the second is undone.
    workflowType: 'createReplicas',
    name: 'cancelled-one-active',
    setup: (w) => ((w.slowRestoreMs = 2000), (w.quickRestores = 1)),
    play: (c) => cancelledReplicas(c, 2, [randomUUID(), randomUUID()], () => c.world.calls.includes('updateInstance:ACTIVE')),
  },
  {
    workflowType: 'detachReplica',
    name: 'success',
    play: async (c) => {
      const { result } = await replicasOf(c, 1);
      return c.run('detachReplica', { instanceId: result!.replicas[0]!.replicaId, projectId: 'proj-a' });
    },
  },
  { workflowType: 'createReplicas', name: 'two-replicas-with-monitor', play: async (c) => (await replicasOf(c, 2)).workflowId },
  {
    workflowType: 'promoteToReplicaSource',
    name: 'success',
    play: (c) => c.run('promoteToReplicaSource', { instanceId: seedSet(c.world, c.prefix).replicas[0]!.id, projectId: 'proj-a' }),
  },
  {
    workflowType: 'promoteToReplicaSource',
    name: 'catch-up-failed-rolled-back',
    setup: (w) => (w.failCatchUp = true),
    play: (c) => c.run('promoteToReplicaSource', { instanceId: seedSet(c.world, c.prefix).replicas[0]!.id, projectId: 'proj-a' }),
  },
  {
    workflowType: 'promoteToReplicaSource',
    name: 'preflight-refused',
    play: (c) => {
      const set = seedSet(c.world, c.prefix);
      c.world.statusOf.set(`${c.prefix}-2`, { ioRunning: false, lastIoError: 'error connecting to master' });
      return c.run('promoteToReplicaSource', { instanceId: set.replicas[0]!.id, projectId: 'proj-a' });
    },
  },
  {
    workflowType: 'ejectReplicaSource',
    name: 'dead-source',
    play: ejectDeadSource,
  },
  {
    workflowType: 'ejectReplicaSource',
    name: 'dead-source-semi-sync',
    setup: (w) => (w.settings.semiSync = true),
    play: ejectDeadSource,
  },
  {
    workflowType: 'promoteToReplicaSource',
    name: 'success-semi-sync',
    setup: (w) => (w.settings.semiSync = true),
    play: (c) => c.run('promoteToReplicaSource', { instanceId: seedSet(c.world, c.prefix).replicas[0]!.id, projectId: 'proj-a' }),
  },
  { workflowType: 'ejectReplicaSource', name: 'dead-source-flips-early', play: (c) => ejectDeadSource(c, { flipSourceEarly: true }) },
  {
    workflowType: 'promoteToReplicaSource',
    name: 'success-flips-early',
    play: (c) => c.run('promoteToReplicaSource', { instanceId: seedSet(c.world, c.prefix).replicas[0]!.id, projectId: 'proj-a', flipSourceEarly: true }),
  },
  { workflowType: 'ejectReplicaSource', name: 'healthy-refused', play: (c) => c.run('ejectReplicaSource', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a' }) },
  {
    workflowType: 'monitorReplicationSet',
    name: 'polls-then-set-dissolves',
    play: async (c) => {
      const set = seedSet(c.world, c.prefix);
      const workflowId = `monitorReplicationSet-${randomUUID()}`;
      const handle = await c.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: c.taskQueue, workflowId, args: [{ setId: set.source.id, projectId: 'proj-a', pollSeconds: 0.2, iterationsPerRun: 100 }] });
      while (c.world.calls.filter((x) => x === 'recordHealth').length < 3) await new Promise((r) => setTimeout(r, 100));
      for (const r of set.replicas) c.world.instances.delete(r.id);
      await handle.result();
      return workflowId;
    },
  },
  {
    workflowType: 'monitorReplicationSet',
    name: 'waits-before-first-poll',
    play: async (c) => {
      const set = seedSet(c.world, c.prefix);
      const workflowId = `monitorReplicationSet-${randomUUID()}`;
      const handle = await c.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: c.taskQueue, workflowId, args: [{ setId: set.source.id, projectId: 'proj-a', pollSeconds: 0.2, iterationsPerRun: 100, waitBeforeFirstPoll: true }] });
      while (c.world.calls.filter((x) => x === 'recordHealth').length < 3) await new Promise((r) => setTimeout(r, 100));
      for (const r of set.replicas) c.world.instances.delete(r.id);
      await handle.result();
      return workflowId;
    },
  },
  {
    workflowType: 'monitorReplicationSet',
    name: 'automatic-failover',
    setup: (w) => Object.assign(w.settings, { autoFailover: true, failoverAfterSeconds: 1 }),
    play: async (c) => {
      const set = seedSet(c.world, c.prefix);
      const workflowId = `monitorReplicationSet-${randomUUID()}`;
      const handle = await c.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: c.taskQueue, workflowId, args: [{ setId: set.source.id, projectId: 'proj-a', pollSeconds: 0.2, iterationsPerRun: 100 }] });
      c.world.down.add(set.source.id);
      c.world.statusOf.set(`${c.prefix}-1`, { ioRunning: false });
      c.world.statusOf.set(`${c.prefix}-2`, { ioRunning: false });
      while (set.source.status !== 'ERROR') await new Promise((r) => setTimeout(r, 100));
      for (const i of [...c.world.instances.values()]) if (i.id !== set.source.id) c.world.instances.delete(i.id);
      await handle.result();
      return workflowId;
    },
  },
  // 0.2.0: the users API, restart, resize, cascades, faults.
  {
    workflowType: 'manageAccess',
    name: 'create-user',
    play: (c) => {
      const src = seedSource(c.world, randomUUID(), c.prefix);
      return c.run('manageAccess', { instanceId: src.id, projectId: 'proj-a', novaServerId: src.novaServerId, action: { kind: 'createUsers', users: [{ name: 'bob', host: '%', sealedPassword: sealed, databases: [] }] } });
    },
  },
  {
    workflowType: 'manageAccess',
    name: 'list-users',
    play: (c) => {
      const src = seedSource(c.world, randomUUID(), c.prefix);
      c.world.access.set(src.novaServerId!, { databases: ['shop'], users: [{ name: 'app', host: '%', databases: ['shop'] }] });
      return c.run('manageAccess', { instanceId: src.id, projectId: 'proj-a', novaServerId: src.novaServerId, action: { kind: 'listUsers' } });
    },
  },
  {
    workflowType: 'manageAccess',
    name: 'user-exists-refused',
    play: (c) => {
      const src = seedSource(c.world, randomUUID(), c.prefix);
      c.world.access.set(src.novaServerId!, { databases: [], users: [{ name: 'bob', host: '%', databases: [] }] });
      return c.run('manageAccess', { instanceId: src.id, projectId: 'proj-a', novaServerId: src.novaServerId, action: { kind: 'createUsers', users: [{ name: 'bob', host: '%', sealedPassword: sealed, databases: [] }] } });
    },
  },
  { workflowType: 'restartInstance', name: 'success', play: (c) => c.run('restartInstance', { instanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a' }) },
  { workflowType: 'restartInstance', name: 'source-with-replicas', play: (c) => c.run('restartInstance', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a' }) },
  { workflowType: 'resizeInstance', name: 'flavor', play: (c) => c.run('resizeInstance', { instanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a', flavorId: '2' }) },
  { workflowType: 'resizeInstance', name: 'volume-of-a-source', play: (c) => c.run('resizeInstance', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a', volumeSizeGb: 3 }) },
  {
    workflowType: 'recoverDeadRelay',
    name: 'replicas-moved-up',
    play: (c) => {
      const set = seedCascade(c);
      relayDies(c, set);
      return c.run('recoverDeadRelay', { instanceId: set.replicas[0]!.id, projectId: 'proj-a' });
    },
  },
  { workflowType: 'recoverDeadRelay', name: 'relay-alive', play: (c) => c.run('recoverDeadRelay', { instanceId: seedCascade(c).replicas[0]!.id, projectId: 'proj-a' }) },
  {
    workflowType: 'monitorReplicationSet',
    name: 'dead-relay-recovered',
    setup: (w) => Object.assign(w.settings, { failoverAfterSeconds: 1 }),
    play: async (c) => {
      const set = seedCascade(c);
      const workflowId = `monitorReplicationSet-${randomUUID()}`;
      const handle = await c.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: c.taskQueue, workflowId, args: [{ setId: set.source.id, projectId: 'proj-a', pollSeconds: 0.2, iterationsPerRun: 100 }] });
      relayDies(c, set);
      while (set.replicas[1]!.replicaOf !== set.source.id) await new Promise((r) => setTimeout(r, 100));
      for (const r of set.replicas) c.world.instances.delete(r.id);
      await handle.result();
      return workflowId;
    },
  },
  {
    workflowType: 'detachReplica',
    name: 'relay-moves-replicas-up',
    play: (c) => c.run('detachReplica', { instanceId: seedCascade(c).replicas[0]!.id, projectId: 'proj-a' }),
  },
  { workflowType: 'enableReplicationTls', name: 'success', play: (c) => c.run('enableReplicationTls', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a' }) },
  {
    workflowType: 'enableReplicationTls',
    name: 'renew',
    setup: (w) => (w.settings.tls = true),
    play: (c) => c.run('enableReplicationTls', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a', renew: true }),
  },
  {
    workflowType: 'enableReplicationTls',
    name: 'rotate-ca',
    setup: (w) => (w.settings.tls = true),
    play: (c) => c.run('enableReplicationTls', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a', rotateCa: true }),
  },
  // A master-master pair: both directions re-pointed, the active side checked against the passive side's own writes.
  { workflowType: 'enableReplicationTls', name: 'pair', play: (c) => c.run('enableReplicationTls', { instanceId: seedPair(c).source.id, projectId: 'proj-a' }) },
  { workflowType: 'buildReplica', name: 'tls-set', setup: (w) => (w.settings.tls = true), play: async (c) => workflowIds.buildReplica((await replicasOf(c, 1)).result!.replicas[0]!.replicaId) },
  {
    workflowType: 'rebuildAsReplica',
    name: 'errant-transaction-set-dissolved',
    play: (c) => {
      // After an eject of a set of two: the replica took over alone, the fenced source wrote one errant transaction.
      const { source, replicas } = seedSet(c.world, c.prefix, 1);
      const newSource = replicas[0]!;
      Object.assign(source, { setId: null, status: 'ERROR', readOnly: true, replacedBy: newSource.id, fault: 'fenced by eject-x' });
      Object.assign(newSource, { setId: null, replicaOf: null, readOnly: false });
      c.world.sets.delete(source.id);
      c.world.servers.get(source.novaServerId!)!.status = 'SHUTOFF';
      c.world.binlogStateOf.set(source.novaServerId!, '0-101-8');
      c.world.binlogStateOf.set(newSource.novaServerId!, '0-101-7,0-102-12');
      return c.run('rebuildAsReplica', { instanceId: source.id, projectId: 'proj-a' });
    },
  },
  {
    workflowType: 'rebuildAsReplica',
    name: 'rejoin-pair',
    play: (c) => {
      // After failOverPair of a bare pair: the passive side took over alone, the dead active side wrote one errant transaction.
      const { source, replicas } = seedSet(c.world, c.prefix, 1);
      const survivor = replicas[0]!;
      Object.assign(source, { setId: null, status: 'ERROR', readOnly: true, replacedBy: survivor.id, fault: 'fenced by pair-failover-x' });
      Object.assign(survivor, { setId: null, replicaOf: null, readOnly: false });
      c.world.sets.delete(source.id);
      c.world.servers.get(source.novaServerId!)!.status = 'SHUTOFF';
      c.world.binlogStateOf.set(source.novaServerId!, '101-101-8,102-102-3');
      c.world.binlogStateOf.set(survivor.novaServerId!, '101-101-7,102-102-12');
      return c.run('rebuildAsReplica', { instanceId: source.id, projectId: 'proj-a', pair: true });
    },
  },
  { workflowType: 'rebuildAsReplica', name: 'not-a-former-source', play: (c) => c.run('rebuildAsReplica', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a' }) },
  {
    workflowType: 'createBackup',
    name: 'success',
    play: (c) => {
      const src = seedSource(c.world, randomUUID(), c.prefix);
      const backupId = randomUUID();
      c.world.backups.set(backupId, { status: 'NEW' });
      return c.run('createBackup', { backupId, projectId: 'proj-a', instanceId: src.id });
    },
  },
  {
    workflowType: 'createBackup',
    name: 'snapshot-fails',
    setup: (w) => (w.failSnapshot = true),
    play: (c) => {
      const src = seedSource(c.world, randomUUID(), c.prefix);
      const backupId = randomUUID();
      c.world.backups.set(backupId, { status: 'NEW' });
      return c.run('createBackup', { backupId, projectId: 'proj-a', instanceId: src.id });
    },
  },
  {
    workflowType: 'deleteBackup',
    name: 'success',
    play: (c) => {
      const backupId = randomUUID();
      c.world.backups.set(backupId, { status: 'COMPLETED' });
      c.world.snapshots.add(backupId);
      return c.run('deleteBackup', { backupId, projectId: 'proj-a' });
    },
  },
  {
    workflowType: 'provisionInstance',
    name: 'from-backup',
    play: (c) => {
      const { databases: _d, users: _u, ...spec } = sampleProvisionSpec(randomUUID());
      return c.run('provisionInstance', { ...spec, restoreBackupId: randomUUID() });
    },
  },
  {
    // The other replica is silent (lost with its zone): nothing to move, so the new source's semi-sync role stays off.
    workflowType: 'ejectReplicaSource',
    name: 'semi-sync-nothing-to-move',
    setup: (w) => (w.settings.semiSync = true),
    play: (c) => {
      const set = seedSet(c.world, c.prefix);
      c.world.down.add(set.source.id);
      c.world.down.add(set.replicas[1]!.id);
      c.world.statusOf.set(`${c.prefix}-1`, { ioRunning: false, gtidIoPos: '0-101-9' });
      c.world.statusOf.set(`${c.prefix}-2`, null);
      return c.run('ejectReplicaSource', { instanceId: set.source.id, projectId: 'proj-a', force: true });
    },
  },
  {
    // A DR set's primary zone lost: the az1 replica is fenced and leaves the set with the old source.
    workflowType: 'ejectReplicaSource',
    name: 'lost-zone-fences-replicas',
    play: (c) => c.run('ejectReplicaSource', { instanceId: seedLostZoneSet(c.world, c.prefix, DEFAULT_PROFILE.id).source.id, projectId: 'proj-a', automatic: true }),
  },
  {
    // The same with the profile's auto_rebuild: the eject also starts rebuildAfterZoneReturn.
    workflowType: 'ejectReplicaSource',
    name: 'lost-zone-auto-rebuild',
    setup: (w) => (w.zoneProfiles = [{ ...DEFAULT_PROFILE, autoRebuild: true }]),
    play: (c) => c.run('ejectReplicaSource', { instanceId: seedLostZoneSet(c.world, c.prefix, DEFAULT_PROFILE.id).source.id, projectId: 'proj-a', automatic: true }),
  },
  {
    // az1 down for one poll, then back: the former source, then the fenced replica, rebuilt as replicas.
    workflowType: 'rebuildAfterZoneReturn',
    name: 'zone-back',
    setup: (w) => (w.downZones = new Map([['az1', 1]])),
    play: async (c) => {
      const set = seedLostZoneSet(c.world, c.prefix, DEFAULT_PROFILE.id);
      await c.run('ejectReplicaSource', { instanceId: set.source.id, projectId: 'proj-a', force: true });
      c.world.down.clear();
      c.world.statusOf.clear();
      return c.run('rebuildAfterZoneReturn', { projectId: 'proj-a', zone: 'az1', instanceIds: [set.source.id, set.replicas[0]!.id], pollSeconds: 1, setId: 'the-dissolved-set', follow: { zoneProfileId: DEFAULT_PROFILE.id, semiSync: true, autoFailover: true } });
    },
  },
  {
    workflowType: 'enableDr',
    name: 'dr-enable',
    play: (c) => c.run('enableDr', { instanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a', profile: 'dr-az1-az2', replicaId: randomUUID() }),
  },
  {
    workflowType: 'enableDr',
    name: 'create-with-profile',
    play: (c) => {
      const id = randomUUID();
      return c.run('enableDr', { instanceId: id, projectId: 'proj-a', profile: 'dr-az1-az2', provision: { ...spec(id), availabilityZone: 'az1', locality: 'anti-affinity' } });
    },
  },
  {
    workflowType: 'disableDr',
    name: 'deletes-then-clears',
    play: (c) => {
      const set = seedSet(c.world, c.prefix, 1);
      c.world.settings.zoneProfileId = DEFAULT_PROFILE.id;
      const dr = set.replicas[0]!;
      dr.zone = 'az2';
      return c.run('disableDr', { instanceId: set.source.id, projectId: 'proj-a', setId: set.source.setId!, profile: 'dr-az1-az2', remove: [dr.id], keepsReplicas: false });
    },
  },
  { workflowType: 'enableDr', name: 'replica-refused', play: (c) => c.run('enableDr', { instanceId: seedSet(c.world, c.prefix).replicas[0]!.id, projectId: 'proj-a', profile: 'dr-az1-az2' }) },
  {
    workflowType: 'createReplicas',
    name: 'tls-from-first-replica',
    play: (c) => c.run('createReplicas', { sourceInstanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a', count: 1, tls: true }),
  },
  {
    workflowType: 'monitorReplicationSet',
    name: 'continues-as-watch',
    play: async (c) => {
      const set = seedSet(c.world, c.prefix);
      const workflowId = `monitorReplicationSet-${randomUUID()}`;
      const handle = await c.env.temporal.workflow.start('monitorReplicationSet', { taskQueue: c.taskQueue, workflowId, args: [{ setId: set.source.id, projectId: 'proj-a', pollSeconds: 0.2, iterationsPerRun: 2 }] });
      while ((await c.env.temporal.workflow.getHandle(workflowId).describe()).type !== 'watchReplicationSet') await new Promise((r) => setTimeout(r, 100));
      for (const r of set.replicas) c.world.instances.delete(r.id);
      await c.env.temporal.workflow.getHandle(workflowId).result();
      return { workflowId, runId: handle.firstExecutionRunId };
    },
  },
  ...(['accounts-then-dissolves', 'checkpoints-then-dissolves', 'automatic-failover', 'semi-sync-fixed'] as const).map(
    (name): Scenario => ({
      workflowType: 'watchReplicationSet',
      name,
      setup: (w) => {
        if (name === 'automatic-failover') Object.assign(w.settings, { autoFailover: true, failoverAfterSeconds: 1 });
        if (name === 'semi-sync-fixed') w.settings.semiSync = true;
      },
      play: async (c) => {
        const set = seedSet(c.world, c.prefix);
        const workflowId = `watchReplicationSet-${randomUUID()}`;
        const checkpointSeconds = name === 'checkpoints-then-dissolves' ? 1 : 3600;
        const handle = await c.env.temporal.workflow.start('watchReplicationSet', { taskQueue: c.taskQueue, workflowId, args: [{ setId: set.source.id, projectId: 'proj-a', pollSeconds: 0.2, checkpointSeconds }] });
        const until = async (done: () => boolean) => {
          while (!done()) await new Promise((r) => setTimeout(r, 100));
        };
        await until(() => [...c.world.monitorAccounts.values()].filter((a) => a.ready).length === 3);
        if (name === 'automatic-failover') {
          c.world.down.add(set.source.id);
          c.world.statusOf.set(`${c.prefix}-1`, { ioRunning: false });
          c.world.statusOf.set(`${c.prefix}-2`, { ioRunning: false });
          await until(() => set.source.status === 'ERROR');
        }
        if (name === 'checkpoints-then-dissolves') await new Promise((r) => setTimeout(r, 2500));
        if (name === 'semi-sync-fixed') await until(() => c.world.calls.filter((x) => x === 'configureSemiSync').length >= 3);
        for (const i of [...c.world.instances.values()]) if (i.id !== set.source.id && i.setId === set.source.id) c.world.instances.delete(i.id);
        for (const i of [...c.world.instances.values()]) if (i.id !== set.source.id) c.world.instances.delete(i.id);
        await handle.result();
        return workflowId;
      },
    }),
  ),
  {
    workflowType: 'createPair',
    name: 'success',
    play: (c) => c.run('createPair', { instanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a', peerId: randomUUID(), name: 'master-b' }),
  },
  {
    workflowType: 'createPair',
    name: 'build-failed',
    setup: (w) => (w.failBuild = true),
    play: (c) => c.run('createPair', { instanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a', peerId: randomUUID() }),
  },
  {
    workflowType: 'createPair',
    name: 'at-create',
    play: (c) => {
      const id = randomUUID();
      return c.run('createPair', { instanceId: id, projectId: 'proj-a', peerId: randomUUID(), provision: { ...spec(id), availabilityZone: 'az1', locality: 'anti-affinity' } });
    },
  },
  {
    workflowType: 'deleteInstance',
    name: 'pair-passive-side',
    play: (c) => c.run('deleteInstance', { instanceId: seedPair(c).replicas[0]!.id, projectId: 'proj-a' }),
  },
  { workflowType: 'switchPairActive', name: 'success', play: (c) => c.run('switchPairActive', { instanceId: seedPair(c).replicas[0]!.id, projectId: 'proj-a' }) },
  {
    workflowType: 'switchPairActive',
    name: 'catch-up-failed-reopened',
    setup: (w) => (w.failCatchUp = true),
    play: (c) => c.run('switchPairActive', { instanceId: seedPair(c).replicas[0]!.id, projectId: 'proj-a' }),
  },
  {
    workflowType: 'failOverPair',
    name: 'dead-active-side',
    play: (c) => {
      const set = seedPair(c);
      c.world.down.add(set.source.id);
      c.world.statusOf.set(`${c.prefix}-1`, { ioRunning: false, gtidIoPos: '0-101-9' });
      c.world.statusOf.set(`${c.prefix}-2`, { ioRunning: false });
      return c.run('failOverPair', { instanceId: set.source.id, projectId: 'proj-a', automatic: true });
    },
  },
  { workflowType: 'failOverPair', name: 'healthy-refused', play: (c) => c.run('failOverPair', { instanceId: seedPair(c).source.id, projectId: 'proj-a' }) },
  { workflowType: 'breakPair', name: 'success', play: (c) => c.run('breakPair', { instanceId: seedPair(c).replicas[0]!.id, projectId: 'proj-a' }) },
  { workflowType: 'breakPair', name: 'not-a-pair', play: (c) => c.run('breakPair', { instanceId: seedSet(c.world, c.prefix).source.id, projectId: 'proj-a' }) },
  { workflowType: 'detachReplica', name: 'not-a-replica', play: async (c) => c.run('detachReplica', { instanceId: seedSource(c.world, randomUUID(), c.prefix).id, projectId: 'proj-a' }) },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  installQuietRuntime();
  const [env, bundle] = await Promise.all([startTestStack({ parts: ['temporal'], plainPayloads: true }), bundleWorkflows()]);
  const connection = await NativeConnection.connect({ address: env.stack.env.TEMPORAL_ADDRESS });
  const stamp = new Date().toISOString().slice(0, 10);
  const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  try {
    for (const s of SCENARIOS.filter((x) => only.length === 0 || only.includes(`${x.workflowType}/${x.name}`))) {
      const world = newWorld();
      s.setup?.(world);
      const recordedId = await withFakeWorkers({ connection }, bundle, world, (taskQueue, prefix) => {
        const ctx: Ctx = {
          env,
          taskQueue,
          prefix,
          world,
          async run(type, arg) {
            const workflowId = `${type}-${randomUUID()}`;
            await env.temporal.workflow.execute(type, { taskQueue, workflowId, args: [arg] }).catch(() => undefined);
            return workflowId;
          },
        };
        return s.play(ctx);
      });
      const history = await (typeof recordedId === 'string' ? env.temporal.workflow.getHandle(recordedId) : env.temporal.workflow.getHandle(recordedId.workflowId, recordedId.runId)).fetchHistory();
      const dir = path.join(releaseHistoriesDir(version), s.workflowType);
      mkdirSync(dir, { recursive: true });
      // Never overwrite: an older fixture guards executions of the code it was recorded with.
      let file = path.join(dir, `${s.name}__${stamp}.json`);
      for (let n = 2; existsSync(file); n++) file = path.join(dir, `${s.name}__${stamp}-${n}.json`);
      writeFileSync(file, historyToJSON(history));
      console.log(`recorded ${path.relative(process.cwd(), file)} (${history.events?.length} events)`);
    }
  } finally {
    await connection.close();
    await env.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
