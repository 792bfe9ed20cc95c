// Resolves an instance reference within a project: an id, or a name used by exactly one
// instance. Other projects' instances are never found (404, so ids do not leak).
import type { InstanceRecord, RegistryStore } from '../registry/store';

export async function findInstance(store: RegistryStore, project: string, ref: string): Promise<InstanceRecord | undefined> {
  const byId = await store.getProjectInstance(project, ref);
  if (byId) return byId;
  const named = (await store.listInstances(project)).filter((r) => r.name === ref);
  return named.length === 1 ? named[0] : undefined;
}
