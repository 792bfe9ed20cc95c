// In-memory stand-ins for the control and guest activities, for workflow tests and for
// recording replay histories. They keep just enough state to assert what the workflow did.
import { ApplicationFailure } from '@temporalio/common';
import type { ComputeActivities } from '../../activities/compute/activities';
import type { GuestActivities } from '../../activities/guest/activities';
import type { RegistryActivities } from '../../activities/registry/activities';
import { ErrorType } from '../../lib/errors';

export interface FakeWorld {
  instances: Map<string, { status: string; fault?: string | null; lock: string | null; novaServerId: string | null; projectId: string }>;
  servers: Map<string, { name: string; status: string }>;
  calls: string[];
  failBuild?: boolean;
  failPrepare?: boolean;
}

export function newWorld(): FakeWorld {
  return { instances: new Map(), servers: new Map(), calls: [] };
}

export function fakeControlActivities(w: FakeWorld, serverIdPrefix: string): ComputeActivities & RegistryActivities {
  let n = 0;
  let nextMysqlId = 101;
  const summary = (id: string) => {
    const i = w.instances.get(id)!;
    return { id, projectId: i.projectId, name: 'x', status: i.status as 'BUILD', novaServerId: i.novaServerId, mysqlServerId: null };
  };
  return {
    async getFlavor(id) {
      w.calls.push('getFlavor');
      if (id === '999') throw ApplicationFailure.nonRetryable(`flavorRef: flavor "${id}" does not exist`, ErrorType.InvalidInput);
      return { id, name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 };
    },
    async createServer(input) {
      w.calls.push('createServer');
      const id = `${serverIdPrefix}-${++n}`;
      w.servers.set(id, { name: input.name, status: 'BUILD' });
      return id;
    },
    async waitForServerActive(id) {
      w.calls.push('waitForServerActive');
      if (w.failBuild) {
        w.servers.get(id)!.status = 'ERROR';
        throw ApplicationFailure.nonRetryable(`server ${id} went to ERROR: injected`, ErrorType.ServerBuildFailed);
      }
      w.servers.get(id)!.status = 'ACTIVE';
      return { novaServerId: id, address: '127.0.1.1', availabilityZone: 'az1' };
    },
    async deleteServer(ref) {
      w.calls.push('deleteServer');
      let count = 0;
      for (const [id, s] of w.servers) {
        if (id === ref.novaServerId || s.name === ref.name) {
          w.servers.delete(id);
          count++;
        }
      }
      return count;
    },
    async registerInstance({ spec, operationId }) {
      w.calls.push('registerInstance');
      if (!w.instances.has(spec.instanceId)) w.instances.set(spec.instanceId, { status: 'BUILD', lock: operationId, novaServerId: null, projectId: spec.projectId });
      return summary(spec.instanceId);
    },
    async lockInstance({ instanceId, projectId, operationId }) {
      w.calls.push('lockInstance');
      const i = w.instances.get(instanceId);
      if (!i || i.projectId !== projectId) throw ApplicationFailure.nonRetryable(`instance ${instanceId} not found`, ErrorType.NotFound);
      if (i.lock && i.lock !== operationId) throw ApplicationFailure.nonRetryable(`busy with ${i.lock}`, ErrorType.OperationConflict);
      i.lock = operationId;
      return summary(instanceId);
    },
    async releaseInstance({ instanceId, operationId }) {
      w.calls.push('releaseInstance');
      const i = w.instances.get(instanceId);
      if (i && i.lock === operationId) i.lock = null;
    },
    async allocateServerId() {
      w.calls.push('allocateServerId');
      return nextMysqlId++;
    },
    async recordServer({ instanceId, novaServerId }) {
      w.calls.push('recordServer');
      w.instances.get(instanceId)!.novaServerId = novaServerId;
    },
    async setInstanceStatus({ instanceId, status, fault }) {
      w.calls.push(`setInstanceStatus:${status}`);
      const i = w.instances.get(instanceId)!;
      i.status = status;
      if (fault !== undefined) i.fault = fault;
    },
    async removeInstance(instanceId) {
      w.calls.push('removeInstance');
      w.instances.delete(instanceId);
    },
  };
}

export function fakeGuestActivities(w: FakeWorld): GuestActivities {
  return {
    async prepare() {
      w.calls.push('prepare');
      if (w.failPrepare) throw ApplicationFailure.nonRetryable('mariadbd exited with code 1 at start', ErrorType.GuestFailed);
      return { address: '127.0.1.1', port: 3306, initialized: true, restarted: false };
    },
    async restart() {
      return { pid: 1 };
    },
    async stop() {
      return { stopped: true };
    },
    async status() {
      return { running: true, pid: 1, prepared: true, readOnly: false, serverId: 101, version: '10.11' };
    },
  };
}
