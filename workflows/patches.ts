// The patch ids of changes to released workflows (docs/patches.md): each guards one change,
// and is never reused. 0.2.0: an operation that fails after its 202 records Trove's fault on
// the instance the user acted on (before, the failure lived only in Temporal).
export const FAULT_PATCH = {
  /** A delete refused under the lock (an operation the API did not see yet). */
  deleteInstance: '2026-12-delete-refusal-fault',
  /** A detach refused under the lock, or failed. */
  detachReplica: '2026-12-detach-records-fault',
  /** A promote refused under the lock, refused by pre-flight, rolled back or failed, or with replicas not moved. */
  promoteToReplicaSource: '2026-12-promote-records-fault',
  /** An eject refused (the source healthy), failed (the source in ERROR once fenced), or with replicas not moved. */
  ejectReplicaSource: '2026-12-eject-records-fault',
  /** createReplicas refused under the lock or failed, or with replicas that were not built: on the source. */
  createReplicas: '2026-12-create-replicas-records-fault',
  /** A replica whose undo failed stays recorded: ERROR with the reason, as a failed provisioning does. */
  buildReplica: '2026-12-build-replica-cleanup-fault',
} as const;

/** detachReplica of a relay (a cascade, 0.2.0) moves its replicas up first; 0.1.0 could have no relay. */
export const DETACH_RELAY_PATCH = '2026-12-detach-relay-moves-replicas-up';

/** The monitor starts recoverDeadRelay for a relay judged dead; asked only then, which no 0.1.0 set (no cascades) reached. */
export const RELAY_RECOVERY_PATCH = '2026-12-monitor-recovers-dead-relay';

/** buildReplica of a TLS set's replica gets a certificate from the set's CA and attaches over verified TLS; asked only when its input says tls, which no 0.1.0 history carries. */
export const TLS_REPLICAS = '2026-12-tls-replicas';

/**
 * moveReplicasTo with semi-sync on and no replica to move (every other one lost, e.g. with its
 * zone) leaves the new source's semi-sync role off: on, its next commits (its own DROP USER
 * first) each waited rpl_semi_sync_master_timeout (10 s) for an ack no replica could send.
 */
export const SEMI_SYNC_ALONE_PATCH = '2026-12-no-semi-sync-source-without-replicas';
/** createReplicas asked for TLS on a set with no link yet gives the set its CA and the source its certificate before any replica attaches; asked only when its input says tls, which no 0.1.0 history carries. */
export const TLS_FROM_START = '2026-12-tls-from-first-replica';

/**
 * ejectReplicaSource after a zone's loss fences the lost zone's replicas (Nova power-off and
 * lock) and takes them out of the set, each ERROR with its reason: back with the zone they
 * replicated from the fenced source. Asked only when a replica sits in a lost zone.
 */
export const FENCE_LOST_ZONE_PATCH = '2026-12-eject-fences-lost-zone';
/** monitorReplicationSet continues as new into watchReplicationSet (same workflow id) at the end of its run; asked only there. */
export const MONITOR_BECOMES_WATCH_PATCH = '2026-12-monitor-continues-as-watch';


/**
 * deleteInstance of a master-master pair's passive side (0.2.0 pairs) first stops the active
 * side's replication from it, so the pair dissolves into its active side; asked only for a
 * pair side, which no 0.1.0 history has.
 */
export const DELETE_PAIR_SIDE_PATCH = '2026-12-delete-pair-passive-side';

/**
 * ejectReplicaSource promotes its candidate in one guest call (promoteWhenCaughtUp: apply the
 * relay log, then stop replicating and take writes) instead of waitForGtid then
 * detachReplication: one round trip through Temporal fewer between a crash and the first
 * write (issue 17).
 */
export const PROMOTE_IN_ONE_CALL_PATCH = '2026-12-eject-promotes-in-one-call';
