// The registry activities over the in-memory world, for workflow tests and recording
// histories. It asks the same rulebook (lib/rules.ts) and applies the same topology
// transitions (lib/topology.ts) as the real registry, so the two cannot disagree.
import { ApplicationFailure } from '@temporalio/common';
import { refusalFailure } from '../../activities/registry/operations';
import type { InstanceSummary, RegistryActivities, SetView } from '../../activities/registry/activities';
import { drProblems, drZoneOf } from '../../lib/dr';
import { ErrorType } from '../../lib/errors';
import { replicaNames, replicationUserName } from '../../lib/names';
import { busy, check, locksFor, type Facts, type FormerSet } from '../../lib/rules';
import { applyTransition, roleOf, sourceOf, TopologyError, type Topology, pairInLinks } from '../../lib/topology';
import type { ZoneProfile } from '../../lib/zone-profiles';
import type { FakeInstance, FakeWorld } from './fake-activities';

const fail = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

export const DEFAULT_PROFILE: ZoneProfile = {
  id: '0b7c3a52-6f1e-4d2a-9c8b-1e2f3a4b5c6d',
  name: 'dr-az1-az2',
  primaryZone: 'az1',
  drZones: ['az2'],
  locality: 'anti-affinity',
  semiSync: true,
  autoFailover: true,
  created: new Date(0),
};

function zoneProfileOf(w: FakeWorld, id: string | null | undefined): Pick<SetView, 'zoneProfile'> {
  const p = id ? (w.zoneProfiles ?? [DEFAULT_PROFILE]).find((x) => x.id === id) : undefined;
  return p ? { zoneProfile: { id: p.id, name: p.name, primaryZone: p.primaryZone, drZones: p.drZones, ...(p.autoRebuild ? { autoRebuild: true } : {}) } } : {};
}

export function topologyOf(w: FakeWorld, setId: string): Topology {
  const members = [...w.instances.values()].filter((i) => i.setId === setId);
  const links = members.filter((m) => m.replicaOf).map((m) => ({ source: m.replicaOf!, replica: m.id }));
  // As the registry: a pair is its two links.
  const coMasters = pairInLinks(links);
  return { setId, members: members.map((m) => ({ id: m.id, writable: !m.readOnly })), links, ...(coMasters ? { coMasters } : {}) };
}

export function summary(w: FakeWorld, i: FakeInstance): InstanceSummary {
  return {
    id: i.id,
    projectId: i.projectId,
    name: i.name,
    status: i.status as InstanceSummary['status'],
    novaServerId: i.novaServerId,
    mysqlServerId: null,
    address: i.address,
    port: 3306,
    flavorId: i.flavorId ?? '1',
    volumeSize: i.volumeSize ?? 1,
    availabilityZone: i.zone ?? 'az1',
    replicaOf: i.replicaOf,
    replicationSetId: i.setId,
    replicas: [...w.instances.values()].filter((x) => x.replicaOf === i.id).map((x) => x.id),
  };
}

export function fakeRegistryActivities(w: FakeWorld): RegistryActivities {
  let nextMysqlId = 101;
  const limits = () => ({ maxReplicas: w.maxReplicas ?? 10, maxDepth: w.maxDepth ?? 1 });
  const get = (id: string) => {
    const i = w.instances.get(id);
    if (!i) throw fail(`instance ${id} not found`, ErrorType.NotFound);
    return i;
  };
  const lockOf = (setId: string | null) => ({ operationId: setId ? (w.sets.get(setId) ?? null) : null, operationType: setId ? (w.setLockTypes.get(setId) ?? null) : null });
  // As registry/facts.ts gathers them: a former source's set is its replacement's.
  const formerSet = (replacedBy: string): FormerSet => {
    const r = w.instances.get(replacedBy);
    if (!r) return { replacedBy, setId: null };
    if (!r.setId) return { replacedBy, setId: null, sourceId: r.id, sourceStatus: r.status };
    const t = topologyOf(w, r.setId);
    const source = w.instances.get(sourceOf(t) ?? '');
    return { replacedBy, setId: r.setId, ...(source ? { sourceId: source.id, sourceStatus: source.status } : {}), setLock: lockOf(r.setId), ...(t.coMasters ? { paired: true } : {}) };
  };
  const facts = (i: FakeInstance): Facts => ({
    instance: { id: i.id, status: i.status, lock: { operationId: i.lock, operationType: i.lockType ?? null }, setId: i.setId, flavorId: i.flavorId ?? '1', volumeSize: i.volumeSize ?? 1, ...(i.replacedBy ? { replacedBy: i.replacedBy } : {}) },
    ...(i.setId && w.sets.has(i.setId) ? { topology: topologyOf(w, i.setId), setLock: lockOf(i.setId) } : {}),
    ...(i.replacedBy && !i.setId ? { formerSet: formerSet(i.replacedBy) } : {}),
  });
  const view = (setId: string): SetView | undefined => {
    const t = topologyOf(w, setId);
    const source = w.instances.get(sourceOf(t) ?? '');
    if (!source) return undefined;
    return {
      setId,
      projectId: source.projectId,
      topology: t,
      source: summary(w, source),
      replicas: t.members.filter((m) => m.id !== source.id).map((m) => summary(w, get(m.id))),
      roles: Object.fromEntries(t.members.map((m) => [m.id, roleOf(t, m.id)])),
      settings: { ...w.settings },
      lock: lockOf(setId),
      ...zoneProfileOf(w, w.settings.zoneProfileId),
    };
  };
  const dissolveIfAlone = (setId: string) => {
    const t = topologyOf(w, setId);
    if (t.members.length > 1 || w.sets.get(setId)) return;
    for (const m of t.members) get(m.id).setId = null;
    w.sets.delete(setId);
  };
  const transition = (setId: string, tr: Parameters<RegistryActivities['applyTransition']>[0]['transition'], fault?: string, faults?: Record<string, string>) => {
    const before = topologyOf(w, setId);
    let after: Topology;
    try {
      after = applyTransition(before, tr, limits());
    } catch (err) {
      if (err instanceof TopologyError) throw fail(`set ${setId}: ${err.message}`, ErrorType.InvalidInput);
      throw err;
    }
    const stays = new Map(after.members.map((m) => [m.id, m]));
    for (const m of before.members.concat(after.members)) {
      const i = get(m.id);
      const next = stays.get(m.id);
      if (next) Object.assign(i, { setId, readOnly: !next.writable, replicaOf: after.links.find((l) => l.replica === m.id)?.source ?? null });
      else if (tr.kind === 'eject' || tr.kind === 'pair-failover') {
        Object.assign(i, { setId: null, replicaOf: null, readOnly: true, status: 'ERROR', fault: faults?.[m.id] ?? fault, replacedBy: tr.kind === 'eject' ? tr.newSourceId : tr.activeId });
        w.credentials.delete(i.id);
      } else {
        Object.assign(i, { setId: null, replicaOf: null, readOnly: false });
        w.credentials.delete(i.id);
      }
    }
    if (tr.kind === 'promote' || tr.kind === 'eject') w.credentials.delete(tr.newSourceId);
  };

  return {
    async beginOperation({ operation, projectId, instanceId, count, replicas, resize }) {
      w.calls.push(`beginOperation:${operation.type}`);
      const i = w.instances.get(instanceId);
      if (!i || i.projectId !== projectId) throw fail(`instance ${instanceId} not found`, ErrorType.NotFound);
      const args = { operationId: operation.id, count, resize };
      const refused = check(operation.type, facts(i), args, limits());
      if (refused) throw refusalFailure(refused);
      const want = locksFor(operation.type, facts(i));
      if (operation.type === 'createReplicas' && !i.setId) {
        i.setId = i.id;
        w.sets.set(i.id, null);
      }
      // A rebuild whose set dissolved founds it again on the replacement, as createReplicas would.
      const founder = (operation.type === 'rebuildAsReplica' || operation.type === 'rejoinPair') && !want.set ? w.instances.get(facts(i).formerSet?.sourceId ?? '') : undefined;
      if (founder && !founder.setId) {
        founder.setId = founder.id;
        w.sets.set(founder.id, null);
      }
      const setId = operation.type === 'createReplicas' ? i.setId : founder ? founder.setId : want.set;
      if (setId) {
        const now = facts(i);
        const held = busy({ ...now, instance: { ...now.instance, lock: { operationId: null, operationType: null } }, ...(now.formerSet ? { setLock: lockOf(setId) } : {}) }, operation);
        if (held) {
          if (operation.type === 'createReplicas' || founder) dissolveIfAlone(setId);
          throw refusalFailure(held);
        }
        w.sets.set(setId, operation.id);
        w.setLockTypes.set(setId, operation.type);
      }
      if (want.instance) {
        if (i.lock && i.lock !== operation.id) {
          if (setId) w.sets.set(setId, null); // both locks or neither, as the registry does
          throw fail(`instance ${i.id} is busy with operation ${i.lock}`, ErrorType.OperationConflict);
        }
        i.lock = operation.id;
        i.lockType = operation.type;
      }
      i.fault = null; // as beginOperation does: the fault shown is the last operation's
      // Named as the real registry names them (lib/names.ts replicaNames).
      const names = replicas && replicas.ids.map((id, n) => w.instances.get(id)?.name ?? replicaNames(i.name, replicas.name, replicas.ids.length, [...w.instances.values()].map((x) => x.name))[n]!);
      return { instance: summary(w, i), ...(setId ? { set: view(setId) } : {}), ...(names ? { replicaNames: names } : {}) };
    },
    async endOperation({ operationId, instanceId, setId, discardUnbuilt }) {
      w.calls.push('endOperation');
      if (w.slowFinishMs && discardUnbuilt) await new Promise((r) => setTimeout(r, w.slowFinishMs));
      if (w.failFinish && discardUnbuilt) throw fail('registry unreachable', 'RegistryUnreachable');
      for (const id of discardUnbuilt ?? []) {
        const i = w.instances.get(id);
        if (i && i.status === 'BUILD' && !i.novaServerId) w.instances.delete(id);
      }
      const i = instanceId ? w.instances.get(instanceId) : undefined;
      if (i && i.lock === operationId) i.lock = null;
      if (setId && w.sets.get(setId) === operationId) w.sets.set(setId, null);
      if (setId) dissolveIfAlone(setId);
      return { released: [] };
    },
    async recordInstance({ record, setId }) {
      w.calls.push(`recordInstance:${record.operationType}`);
      const existing = w.instances.get(record.id);
      if (existing && existing.projectId !== record.projectId) throw fail(`instanceId: ${record.id} belongs to another project`, ErrorType.InvalidInput);
      if (!existing) {
        w.instances.set(record.id, {
          id: record.id,
          projectId: record.projectId,
          name: record.name,
          status: 'BUILD',
          lock: record.operationId,
          lockType: record.operationType,
          novaServerId: null,
          address: null,
          replicaOf: record.replicaOf ?? null,
          setId: null,
          readOnly: record.readOnly ?? false,
        });
      }
      if (setId && record.replicaOf) transition(setId, { kind: 'add-replica', replicaId: record.id, sourceId: record.replicaOf, writable: !record.readOnly });
      return summary(w, get(record.id));
    },
    async updateInstance({ instanceId, releaseOperationId, ...change }) {
      w.calls.push(change.status ? `updateInstance:${change.status}` : 'updateInstance');
      // As the registry's UPDATE: an instance that is gone is left gone.
      const i = w.instances.get(instanceId);
      if (!i) return { instanceId, changed: [], lockReleased: false };
      if (change.status) i.status = change.status;
      if (change.fault !== undefined) i.fault = change.fault;
      if (change.novaServerId !== undefined) i.novaServerId = change.novaServerId;
      if (change.address !== undefined) i.address = change.address;
      if (change.flavorId !== undefined) i.flavorId = change.flavorId;
      if (change.volumeSize !== undefined) i.volumeSize = change.volumeSize;
      if (change.replacedBy !== undefined) i.replacedBy = change.replacedBy;
      if (change.errantGtids !== undefined) i.errantGtids = change.errantGtids;
      if (releaseOperationId && i.lock === releaseOperationId) i.lock = null;
      return { instanceId, changed: Object.keys(change), lockReleased: Boolean(releaseOperationId) };
    },
    async updateBackup({ backupId, ...change }) {
      w.calls.push(change.status ? `updateBackup:${change.status}` : 'updateBackup');
      const b = w.backups.get(backupId);
      if (b) Object.assign(b, change);
      return { backupId, changed: Object.keys(change) };
    },
    async getBackup(backupId) {
      const b = w.backups.get(backupId);
      if (!b) return null;
      const now = new Date('2026-12-03T00:00:00.000Z');
      return { id: backupId, projectId: 'proj-a', name: 'b', description: null, instanceId: '', status: b.status as 'NEW', sizeBytes: b.sizeBytes ?? null, gtid: b.gtid ?? null, datastore: 'mariadb', datastoreVersion: '10.11', failReason: b.failReason ?? null, created: now, updated: now };
    },
    async forgetBackup(backupId) {
      w.calls.push('forgetBackup');
      w.backups.delete(backupId);
      return { forgotten: backupId };
    },
    async forgetInstance(instanceId) {
      w.calls.push('forgetInstance');
      w.credentials.delete(instanceId);
      w.instances.delete(instanceId);
      return { forgotten: instanceId };
    },
    async allocateServerId() {
      w.calls.push('allocateServerId');
      return nextMysqlId++;
    },
    async replicationCredential({ replicaId }) {
      w.calls.push('replicationCredential');
      if (!w.credentials.has(replicaId)) w.credentials.set(replicaId, { userName: replicationUserName(replicaId), sealedPassword: 'v1.aaaa.bbbb.cccc' });
      return w.credentials.get(replicaId)!;
    },
    async describeSet(setId) {
      const described = w.sets.has(setId) ? view(setId) : undefined;
      w.calls.push(`describeSet:${described?.lock.operationId ? 'busy' : 'free'}`);
      return described;
    },
    async applyTransition({ setId, transition: tr, fault, faults }) {
      w.calls.push(`applyTransition:${tr.kind}`);
      transition(setId, tr, fault, faults);
      return { setId, applied: tr.kind };
    },
    async monitorCredential({ instanceId }) {
      w.calls.push(`monitorCredential:${instanceId}`);
      if (!w.instances.has(instanceId)) throw fail(`instance ${instanceId} does not exist`, ErrorType.NotFound);
      const made = w.monitorAccounts.get(instanceId) ?? { sealedPassword: `v1.monitor.${instanceId}`, ready: false };
      w.monitorAccounts.set(instanceId, made);
      return { sealedPassword: made.sealedPassword };
    },
    async monitorAccountsReady({ instanceIds }) {
      w.calls.push('monitorAccountsReady');
      for (const id of instanceIds) {
        const a = w.monitorAccounts.get(id);
        if (a) a.ready = true;
      }
      return { ready: instanceIds };
    },
    async recordHealth({ setId, health }) {
      w.calls.push('recordHealth');
      w.health = health;
      return { setId, members: health.length };
    },
    async recordAutomaticFailover({ setId, operationId }) {
      w.calls.push('recordAutomaticFailover');
      w.settings.lastFailoverAt = new Date().toISOString();
      w.settings.lastFailoverOperation = operationId;
      w.settings.lastFailoverAcknowledged = false;
      return { setId, operationId };
    },
    async drProfileFor({ projectId, instanceId, profile: ref }) {
      w.calls.push('drProfileFor');
      const i = w.instances.get(instanceId);
      if (!i || i.projectId !== projectId) throw fail(`instanceId: instance ${instanceId} not found in project ${projectId}`, ErrorType.InvalidInput);
      const profile = (w.zoneProfiles ?? [DEFAULT_PROFILE]).find((p) => p.id === ref || p.name === ref);
      // The same rule as the registry's activity (lib/dr.ts), over the fake's zones.
      const zones = ['az1', 'az2', 'az3'].map((name) => ({ name, hosts: [`host-${name}`] }));
      const problems = drProblems({ profileRef: ref, profile, zones, instance: { id: i.id, name: i.name, replicaOf: i.replicaOf } }, 'profile');
      if (problems.length) throw fail(problems.join('; '), ErrorType.InvalidInput);
      return { id: profile!.id, name: profile!.name, primaryZone: profile!.primaryZone, drZone: drZoneOf(profile!), semiSync: profile!.semiSync, autoFailover: profile!.autoFailover, sourceName: i.name };
    },
    async updateSettings({ patch }) {
      Object.assign(w.settings, patch);
      return w.settings;
    },
  };
}
