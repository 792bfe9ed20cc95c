// Builders of the rulebook's facts for table tests: one set s <- a, or a standalone instance.
import type { Facts } from '../../lib/rules';
import type { Topology } from '../../lib/topology';

export const free = { operationId: null, operationType: null };
export const held = (operationId: string, operationType: string) => ({ operationId, operationType });
export const set: Topology = { setId: 's', members: [{ id: 's', writable: true }, { id: 'a', writable: false }], links: [{ source: 's', replica: 'a' }] };

/** Facts about instance `id` of the set above (or standalone), with overrides. */
export function facts(id: string, o: { status?: string; lock?: Facts['instance']['lock']; setLock?: Facts['setLock']; inSet?: boolean } = {}): Facts {
  const inSet = o.inSet ?? true;
  return {
    instance: { id, status: o.status ?? 'ACTIVE', lock: o.lock ?? free, setId: inSet ? 's' : null, flavorId: '1', volumeSize: 2 },
    ...(inSet ? { topology: set, setLock: o.setLock ?? free } : {}),
  };
}
