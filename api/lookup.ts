// What every instance route needs before it acts: find the instance (by id, or by name)
// within the project, tell whether an operation holds it or its set, read the request id,
// and check a flavor and zone against Nova. Other projects' instances are never found (404,
// so ids do not leak).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NovaClient } from '../lib/nova-client';
import type { InstanceRecord, RegistryStore } from '../registry/store';
import { sendError } from './errors';

export type Lookup = { found: InstanceRecord } | { missing: true } | { ambiguous: InstanceRecord[] };

/** By id, else by name. Names need not be unique: a name several instances share is ambiguous. */
export async function lookupInstance(store: RegistryStore, project: string, ref: string): Promise<Lookup> {
  const byId = await store.getProjectInstance(project, ref);
  if (byId) return { found: byId };
  const named = await store.findByName(project, ref);
  if (named.length === 1) return { found: named[0]! };
  if (named.length === 0) return { missing: true };
  const order = (a: InstanceRecord, b: InstanceRecord) => a.created.getTime() - b.created.getTime() || a.id.localeCompare(b.id);
  return { ambiguous: [...named].sort(order) };
}

/**
 * The instance `ref` names, or undefined once the reply says why not: 404 when no instance
 * has that id or name, 409 naming the ids when several share the name (acting on one of
 * them at random, or answering "not found", would both mislead). `field` prefixes the
 * message when the reference came in the body (e.g. instance.replica_of).
 */
export async function findOrReply(store: RegistryStore, reply: FastifyReply, project: string, ref: string, field?: string): Promise<InstanceRecord | undefined> {
  const r = await lookupInstance(store, project, ref);
  if ('found' in r) return r.found;
  const at = field ? `${field}: ` : '';
  if ('missing' in r) {
    sendError(reply, 404, `${at}instance ${ref} not found`);
    return undefined;
  }
  const ids = r.ambiguous.map((i) => i.id);
  sendError(reply, 409, `${at}${ids.length} instances are named "${ref}" (${ids.join(', ')}); use the id of the one you mean`, { ids });
  return undefined;
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
