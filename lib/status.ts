// The status an instance shows, as Trove shows it: the stored status (BUILD, ACTIVE, ERROR,
// SHUTDOWN) unless an operation is running on it, whose task name wins (Trove's
// SimpleInstance.status reads the task first). Pure, so the API's list and show, and the
// CLI that reads them, all say the same thing.

/** Where the running operation's lock is: on the instance itself, or on its replication set. */
export type LockScope = 'instance' | 'set';

/** Trove's status of each operation's task (trove/instance/tasks.py and models.py). */
const TASK_STATUS: Record<string, string> = {
  provisionInstance: 'BUILD',
  buildReplica: 'BUILD',
  deleteInstance: 'SHUTDOWN',
  restartInstance: 'REBOOT',
  resizeInstance: 'RESIZE',
  detachReplica: 'DETACH',
  promoteToReplicaSource: 'PROMOTE',
  ejectReplicaSource: 'EJECT',
  // Trove shows a replica being (re)built as BUILD.
  rebuildAsReplica: 'BUILD',
  // Trove's BACKUP task.
  createBackup: 'BACKUP',
};

/**
 * Operations that Trove shows on every member of the set (it sets PROMOTING / EJECTING on the
 * source and all its replicas). Other operations that lock the set (createReplicas, a
 * replica's detach or delete) show only on the instance they act on, which holds its own lock.
 */
const SHOWN_ON_EVERY_MEMBER = new Set(['promoteToReplicaSource', 'ejectReplicaSource']);

export function shownStatus(stored: string, operation?: { type: string | null; scope: LockScope }): string {
  if (!operation?.type) return stored;
  const task = TASK_STATUS[operation.type];
  if (!task) return stored;
  if (operation.scope === 'set' && !SHOWN_ON_EVERY_MEMBER.has(operation.type)) return stored;
  return task;
}
