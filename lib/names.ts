// Names shared by every process. Workflow ids are deterministic so that a retried
// request finds the operation it already started instead of starting a second one.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const ORCHESTRATOR_TASK_QUEUE = 'trove-orchestrator';
export const guestTaskQueue = (novaServerId: string): string => `guest-${novaServerId}`;

export const SA_PROJECT = defineSearchAttributeKey('TroveProject', SearchAttributeType.KEYWORD);
export const SA_INSTANCE = defineSearchAttributeKey('TroveInstance', SearchAttributeType.KEYWORD);
export const SA_REPLICATION_SET = defineSearchAttributeKey('TroveReplicationSet', SearchAttributeType.KEYWORD);
export const SA_OPERATION = defineSearchAttributeKey('TroveOperation', SearchAttributeType.KEYWORD);
/**
 * The instance's name as its user gave it (a set's monitor: its source's name when the monitor
 * started): the Web UI's list shows ids, and this is the column a person reads. User data, never
 * a secret. Set only at start (a start request's field, not a workflow command), so it stays
 * what it was when the operation started, also after a rename.
 */
export const SA_INSTANCE_NAME = defineSearchAttributeKey('TroveInstanceName', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [SA_PROJECT, SA_INSTANCE, SA_REPLICATION_SET, SA_OPERATION, SA_INSTANCE_NAME];

/** The name attribute for a start's typedSearchAttributes; none when the name is not known. */
export const instanceNameAttribute = (name: string | null | undefined): SearchAttributePair[] => (name ? [{ key: SA_INSTANCE_NAME, value: name }] : []);

export const workflowIds = {
  provisionInstance: (instanceId: string) => `provision-instance-${instanceId}`,
  deleteInstance: (instanceId: string) => `delete-instance-${instanceId}`,
  createReplicas: (sourceId: string, requestId: string) => `create-replicas-${sourceId}-${requestId}`,
  buildReplica: (replicaId: string) => `build-replica-${replicaId}`,
  detachReplica: (instanceId: string, requestId: string) => `detach-replica-${instanceId}-${requestId}`,
  promote: (instanceId: string, requestId: string) => `promote-${instanceId}-${requestId}`,
  eject: (instanceId: string, requestId: string) => `eject-${instanceId}-${requestId}`,
  manageAccess: (instanceId: string, kind: string, requestId: string) => `access-${instanceId}-${kind}-${requestId}`,
  restartInstance: (instanceId: string, requestId: string) => `restart-instance-${instanceId}-${requestId}`,
  resizeInstance: (instanceId: string, requestId: string) => `resize-instance-${instanceId}-${requestId}`,
  /** Started by the set's monitor, once per death it saw (`at`: when it decided). */
  recoverDeadRelay: (relayId: string, at: string) => `recover-relay-${relayId}-${at.replace(/[:.]/g, '')}`,
  enableReplicationTls: (setId: string, requestId: string) => `enable-replication-tls-${setId}-${requestId}`,
  rebuildAsReplica: (instanceId: string, requestId: string) => `rebuild-as-replica-${instanceId}-${requestId}`,
  createBackup: (backupId: string) => `create-backup-${backupId}`,
  deleteBackup: (backupId: string) => `delete-backup-${backupId}`,
  enableDr: (instanceId: string, requestId: string) => `enable-dr-${instanceId}-${requestId}`,
  disableDr: (instanceId: string, requestId: string) => `disable-dr-${instanceId}-${requestId}`,
  /** Started by the eject that lost the zone: one per fenced former source. */
  rebuildAfterZoneReturn: (formerSourceId: string) => `rebuild-after-zone-return-${formerSourceId}`,
  createPair: (instanceId: string, peerId: string) => `create-pair-${instanceId}-${peerId}`,
  /** createPair's child building the second master (named from the input: replay gives the parent another id). */
  createPairBuild: (instanceId: string, peerId: string) => `create-pair-${instanceId}-${peerId}-build`,
  switchPairActive: (instanceId: string, requestId: string) => `switch-pair-${instanceId}-${requestId}`,
  failOverPair: (instanceId: string, requestId: string) => `pair-failover-${instanceId}-${requestId}`,
  breakPair: (instanceId: string, requestId: string) => `break-pair-${instanceId}-${requestId}`,
};

/** Nova server names carry the instance id, so a retried create can find its own server. */
export const novaServerName = (instanceId: string): string => `trove-${instanceId}`;

/** A set's Nova server group is named after the instance that founded it, so a retried create finds it. */
export const serverGroupName = (instanceId: string): string => `trove-group-${instanceId}`;

/** The account each server's guest agent administers MariaDB with (Trove's os_admin); it never leaves the server. */
export const ADMIN_USER = 'os_admin';

/** Every replication account starts so (replicationUserName); the users API keeps off the prefix. */
export const REPLICATION_USER_PREFIX = 'repl_';

/** One replication account per replica, named after it, so a retry finds the same one. */
/** Each member's monitoring account (activities/guest/monitor-account.ts): reserved and hidden by the users API like the agent's admin. */
export const MONITOR_USER = 'os_monitor';
export const replicationUserName = (replicaId: string): string => `${REPLICATION_USER_PREFIX}${replicaId.replace(/-/g, '').slice(0, 16)}`;

export const monitorWorkflowId = (setId: string): string => `monitor-replication-set-${setId}`;

/** Instance names are at most this long (lib/schemas.ts PATTERNS.instanceName). */
const NAME_MAX = 64;

/**
 * Trove's rule: several replicas are <name>-1, <name>-2...; one replica asked for by name keeps
 * it. The base is cut so that every name fits: after a few failovers, a replica of a replica's
 * replica would otherwise outgrow the name rule and fail to build.
 *
 * Numbered names continue after the highest number the project's names already carry
 * (`taken`): a second request on `db` gets `db-replica-2`, not another `db-replica-1`, so a
 * lookup by name stays unambiguous. Gaps (deleted replicas) are not filled. Names compare
 * without case, as the registry's collation compares them.
 */
export function replicaNames(sourceName: string, templateName: string | undefined, count: number, taken: Iterable<string> = []): string[] {
  if (count === 1 && templateName) return [templateName];
  const base = templateName ?? `${sourceName}-replica`;
  const numbered = (n: number) => {
    const suffix = `-${n}`;
    return `${base.slice(0, NAME_MAX - suffix.length)}${suffix}`;
  };
  let last = 0;
  for (const name of taken) {
    const n = Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
    // Only a name this rule would give (base cut as for n, no leading zeros) counts.
    if (n > last && numbered(n).toLowerCase() === name.toLowerCase()) last = n;
  }
  return Array.from({ length: count }, (_, i) => numbered(last + 1 + i));
}

/** What a replica is built with: the template's choice, else the source's. */
export function replicaShape(
  template: { flavorId?: string; volumeSizeGb?: number; availabilityZone?: string },
  source: { flavorId: string; volumeSize: number; availabilityZone: string | null },
): { flavorId: string; volumeSizeGb: number; availabilityZone: string | null } {
  return {
    flavorId: template.flavorId ?? source.flavorId,
    volumeSizeGb: template.volumeSizeGb ?? source.volumeSize,
    availabilityZone: template.availabilityZone ?? source.availabilityZone,
  };
}
