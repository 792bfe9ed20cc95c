// What every instance route needs before it acts: find the instance (by id, or by name)
// within the project, tell whether an operation holds it or its set, read the request id,
// and check a flavor and zone against Nova. Other projects' instances are never found (404,
// so ids do not leak).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NovaClient } from '../lib/nova-client';
import type { MemberHealth } from '../lib/schemas';
import type { Locality } from '../lib/placement';
import { checkPlacement } from '../lib/placement-check';
import { assessSource, type SourceAssessment } from '../lib/health';
import { busy, check, checkEject, refusalText, type Limits, type LockState, type OperationType, type ResizeRequest } from '../lib/rules';
import type { LockScope } from '../lib/status';
import { sourceOf, upstreamOf } from '../lib/topology';
import type { InstanceRecord, Registry } from '../registry';
import { gatherFacts } from '../registry/facts';
import { sendError, ServiceUnavailable } from './errors';

export type Lookup = { found: InstanceRecord } | { missing: true } | { ambiguous: InstanceRecord[] };

/** By id, else by name. Names need not be unique: a name several instances share is ambiguous. */
export async function lookupInstance(store: Registry, project: string, ref: string): Promise<Lookup> {
  const byId = await store.instances.getInProject(project, ref);
  if (byId) return { found: byId };
  const named = await store.instances.findByName(project, ref);
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
export async function findOrReply(store: Registry, reply: FastifyReply, project: string, ref: string, field?: string): Promise<InstanceRecord | undefined> {
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

/** The operation running on the instance or on its replication set, if any (the rulebook's busy rule). */
export async function busyWith(
  registry: Registry,
  rec: InstanceRecord,
): Promise<{ message: string; operation: string; type: string | null; held: 'instance' | 'set' } | undefined> {
  const facts = await gatherFacts(registry, rec);
  const refusal = busy(facts, { type: 'show' });
  if (!refusal) return undefined;
  const held = rec.operationId ? 'instance' : 'set';
  const lock = held === 'instance' ? facts.instance.lock : facts.setLock!;
  return { message: refusal.message, operation: refusal.operation!, type: lock.operationType, held };
}

/** The lock of each set these instances are in (one read per set). */
export async function setLocksOf(registry: Registry, records: InstanceRecord[]): Promise<Map<string, LockState>> {
  const ids = [...new Set(records.map((r) => r.replicationSetId).filter((id): id is string => Boolean(id)))];
  const locks = await Promise.all(ids.map(async (id) => [id, await registry.locks.get('set', id)] as const));
  return new Map(locks.filter((l): l is [string, LockState] => Boolean(l[1])));
}

/** The operation running on the instance, else on its set, as busyWith finds it (without reading the registry again). */
export function runningOn(r: InstanceRecord, setLocks: Map<string, LockState>): { id: string; type: string | null; scope: LockScope } | undefined {
  if (r.operationId) return { id: r.operationId, type: r.operationType, scope: 'instance' };
  const set = r.replicationSetId ? setLocks.get(r.replicationSetId) : undefined;
  return set?.operationId ? { id: set.operationId, type: set.operationType, scope: 'set' } : undefined;
}

/** What the rulebook says of this operation on this instance, as the API answers it; undefined: go ahead. */
export async function refusal(
  registry: Registry,
  rec: InstanceRecord,
  type: OperationType,
  args: { operationId?: string; count?: number; force?: boolean; assessment?: SourceAssessment; resize?: ResizeRequest },
  limits: Limits,
  fields: Parameters<typeof refusalText>[1] = {},
): Promise<{ status: 400 | 409; message: string; operation?: string } | undefined> {
  const facts = await gatherFacts(registry, rec);
  const r = type === 'ejectReplicaSource' ? checkEject(facts, args) : check(type, facts, args, limits);
  // A delete behind another replica's delete waits for the lock: it is accepted.
  if (!r || r.kind === 'wait') return undefined;
  return { status: r.kind === 'invalid' ? 400 : 409, message: refusalText(r, fields), ...(r.operation ? { operation: r.operation } : {}) };
}

/** The set's health as its monitor last saw it, if that is recent enough to judge by. */
export async function recentHealth(registry: Registry, setId: string | null, maxAgeMs = 10_000): Promise<MemberHealth[] | undefined> {
  if (!setId) return undefined;
  const health = await registry.health.get(setId);
  return health.length > 0 && health.every((h) => Date.now() - Date.parse(h.observedAt) <= maxAgeMs) ? health : undefined;
}

/** The source's health as the set's monitor last saw it, if that is recent enough to judge by. */
export async function recentAssessment(registry: Registry, setId: string | null): Promise<SourceAssessment | undefined> {
  const [health, topology] = await Promise.all([recentHealth(registry, setId), setId ? registry.sets.topology(setId) : undefined]);
  if (!health || !topology) return undefined;
  const source = sourceOf(topology);
  return assessSource(health, (id) => upstreamOf(topology, id) === source);
}

/** X-Request-Id: the same id makes a repeated request return the same operation. */
export function requestIdOf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && header ? header : undefined;
}

/**
 * "<field>: ..." for a flavor Nova does not have, and for servers Nova could not place: an
 * unknown zone, or more members than the set's server group's policy lets the zone hold
 * (lib/placement.ts, the rule the operation checks again). A Nova that does not answer is not
 * the caller's fault: ServiceUnavailable (503), before anything is created.
 */
export async function placementProblems(
  nova: NovaClient,
  p: { flavorId?: string; zone?: string; count?: number; serverGroupId?: string | null; locality?: Locality | null },
  fields: { flavor: string; zone: string; count?: string },
): Promise<string[]> {
  const ask = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw new ServiceUnavailable(`the compute service (Nova) did not answer while ${what} was checked; nothing was created, try again`, { cause: err });
    }
  };
  const problems: string[] = [];
  if (p.flavorId && !(await ask(fields.flavor, () => nova.listFlavors())).some((f) => f.id === p.flavorId)) problems.push(`${fields.flavor}: flavor "${p.flavorId}" does not exist`);
  if (p.zone || p.serverGroupId || p.locality) {
    const request = { zone: p.zone ?? null, count: p.count ?? 1, serverGroupId: p.serverGroupId, locality: p.locality };
    problems.push(...(await ask(fields.zone, () => checkPlacement(nova, request, { zone: fields.zone, count: fields.count ?? fields.zone }))));
  }
  return problems;
}

/** The zone Nova placed the instance's server in: for a record that did not keep it (made before 0.2.0). */
export async function serverZone(nova: NovaClient, rec: InstanceRecord): Promise<string | undefined> {
  if (rec.availabilityZone) return rec.availabilityZone;
  if (!rec.novaServerId) return undefined;
  try {
    return (await nova.getServer(rec.novaServerId))?.['OS-EXT-AZ:availability_zone'] ?? undefined;
  } catch (err) {
    throw new ServiceUnavailable(`the compute service (Nova) did not answer while the source's availability_zone was looked up; nothing was created, try again`, { cause: err });
  }
}
