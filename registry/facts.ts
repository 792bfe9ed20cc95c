// What the rulebook (lib/rules.ts) needs to know about an instance, read from the registry.
// The API and the operations' first activity gather the same facts the same way.
import type { Facts } from '../lib/rules';
import type { Db } from './db';
import type { InstanceRecord } from './instances';
import type { Registry } from './index';

export async function gatherFacts(registry: Registry, rec: InstanceRecord, db?: Db): Promise<Facts> {
  const setId = rec.replicationSetId;
  const [topology, setLock] = setId ? await Promise.all([registry.sets.topology(setId, db), registry.locks.get('set', setId)]) : [undefined, undefined];
  return {
    instance: { id: rec.id, status: rec.status, lock: { operationId: rec.operationId, operationType: rec.operationType }, setId, flavorId: rec.flavorId, volumeSize: rec.volumeSize, locality: rec.locality ?? null },
    ...(topology ? { topology } : {}),
    ...(setLock ? { setLock } : {}),
  };
}
