// Server groups only record a policy; membership is derived from the servers
// so it can never disagree with them.
import { randomUUID } from 'node:crypto';
import { notFound } from './errors';
import type { GroupPolicy } from './placement';
import { novaTimestamp, type NovaStore, type ServerGroupRecord } from './state';

export class ServerGroups {
  constructor(private readonly store: NovaStore) {}

  create(name: string, policy: GroupPolicy): ServerGroupRecord {
    const group: ServerGroupRecord = { id: randomUUID(), name, policy, created: novaTimestamp() };
    this.store.groups.set(group.id, group);
    this.store.save();
    return group;
  }

  get(id: string): ServerGroupRecord {
    const group = this.store.groups.get(id);
    if (!group) throw notFound(`Instance group ${id} could not be found.`);
    return group;
  }

  list(): ServerGroupRecord[] {
    return [...this.store.groups.values()];
  }

  /** Like Nova, deleting a group leaves its servers alone. */
  delete(id: string): void {
    this.get(id);
    this.store.groups.delete(id);
    this.store.save();
  }

  members(id: string): string[] {
    return [...this.store.servers.values()].filter((s) => s.groupId === id).map((s) => s.id);
  }

  memberHosts(id: string): string[] {
    return [...this.store.servers.values()]
      .filter((s) => s.groupId === id && s.host !== null)
      .map((s) => s.host as string);
  }
}
