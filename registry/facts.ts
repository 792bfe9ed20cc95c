// What the rulebook (lib/rules.ts) needs to know about an instance, read from the registry.
// The API and the operations' first activity gather the same facts the same way.
import type { Facts, FormerSet } from '../lib/rules';
import { sourceOf } from '../lib/topology';
import type { Db } from './db';
import type { InstanceRecord } from './instances';
import type { Registry } from './index';

export async function gatherFacts(registry: Registry, rec: InstanceRecord, db?: Db): Promise<Facts> {
  const setId = rec.replicationSetId;
  const [topology, setLock] = setId ? await Promise.all([registry.sets.topology(setId, db), registry.locks.get('set', setId)]) : [undefined, undefined];
  const formerSet = rec.replacedBy && !setId ? await gatherFormerSet(registry, rec.replacedBy, db) : undefined;
  return {
    instance: {
      id: rec.id,
      status: rec.status,
      lock: { operationId: rec.operationId, operationType: rec.operationType },
      setId,
      flavorId: rec.flavorId,
      volumeSize: rec.volumeSize,
      locality: rec.locality ?? null,
      ...(rec.replacedBy ? { replacedBy: rec.replacedBy } : {}),
    },
    ...(topology ? { topology } : {}),
    ...(setLock ? { setLock } : {}),
    ...(formerSet ? { formerSet } : {}),
  };
}

/** The set a fenced former source would rejoin: its replacement's, and that set's source now. */
async function gatherFormerSet(registry: Registry, replacedBy: string, db?: Db): Promise<FormerSet> {
  const replacement = await registry.instances.get(replacedBy, db);
  if (!replacement) return { replacedBy, setId: null };
  const setId = replacement.replicationSetId;
  if (!setId) return { replacedBy, setId: null, sourceId: replacement.id, sourceStatus: replacement.status };
  const [topology, setLock] = await Promise.all([registry.sets.topology(setId, db), registry.locks.get('set', setId)]);
  const sourceId = topology ? sourceOf(topology) : undefined;
  const source = sourceId ? await registry.instances.get(sourceId, db) : undefined;
  return { replacedBy, setId, ...(source ? { sourceId: source.id, sourceStatus: source.status } : {}), ...(setLock ? { setLock } : {}), ...(topology?.coMasters ? { paired: true } : {}) };
}
