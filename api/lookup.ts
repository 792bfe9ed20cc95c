// What every instance route needs before it acts: find the instance (by id, or by a name
// used once) within the project, tell whether an operation holds it or its set, read the
// request id, and check a flavor and zone against Nova. Other projects' instances are
// never found (404, so ids do not leak).
import type { FastifyRequest } from 'fastify';
import type { NovaClient } from '../lib/nova-client';
import type { InstanceRecord, RegistryStore } from '../registry/store';

export async function findInstance(store: RegistryStore, project: string, ref: string): Promise<InstanceRecord | undefined> {
  const byId = await store.getProjectInstance(project, ref);
  if (byId) return byId;
  const named = await store.findByName(project, ref);
  return named.length === 1 ? named[0] : undefined;
}

/** The operation running on the instance or on its replication set, if any. */
export async function busyWith(
  store: RegistryStore,
  rec: InstanceRecord,
): Promise<{ message: string; operation: string; type: string | null; held: 'instance' | 'set' } | undefined> {
  if (rec.operationId) return { message: `instance ${rec.id} is busy with operation ${rec.operationId} (${rec.operationType})`, operation: rec.operationId, type: rec.operationType, held: 'instance' };
  if (rec.replicationSetId) {
    const lock = await store.getSetLock(rec.replicationSetId);
    if (lock?.operationId) {
      return { message: `replication set ${rec.replicationSetId} is busy with operation ${lock.operationId} (${lock.operationType})`, operation: lock.operationId, type: lock.operationType, held: 'set' };
    }
  }
  return undefined;
}

/** X-Request-Id: the same id makes a repeated request return the same operation. */
export function requestIdOf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && header ? header : undefined;
}

/** "<field>: ..." for a flavor or zone Nova does not have. */
export async function placementProblems(nova: NovaClient, p: { flavorId?: string; zone?: string }, fields: { flavor: string; zone: string }): Promise<string[]> {
  const problems: string[] = [];
  if (p.flavorId && !(await nova.listFlavors()).some((f) => f.id === p.flavorId)) problems.push(`${fields.flavor}: flavor "${p.flavorId}" does not exist`);
  if (p.zone && !(await nova.listZones()).includes(p.zone)) problems.push(`${fields.zone}: zone "${p.zone}" does not exist`);
  return problems;
}
