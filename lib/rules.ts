// The rulebook: what each operation may do, as pure functions of what the registry knows.
// The API asks it before answering (a refusal is a 4xx, synchronously); the operation's
// first activity asks it again under the locks (the registry may have changed between the
// two); the test fake asks it too. One copy of every rule, and one lock order: the set's
// lock first, then the instance's.
import { depthOf, downstreamOf, peerOf, sourceOf, upstreamOf, DEFAULT_LIMITS, type Topology, type TopologyLimits } from './topology';

export type OperationType =
  | 'provisionInstance'
  | 'deleteInstance'
  | 'createReplicas'
  | 'buildReplica'
  | 'detachReplica'
  | 'promoteToReplicaSource'
  | 'ejectReplicaSource'
  | 'manageAccess'
  | 'restartInstance'
  | 'resizeInstance'
  | 'recoverDeadRelay'
  | 'enableReplicationTls'
  | 'rebuildAsReplica'
  | 'rejoinPair'
  | 'createBackup'
  | 'createPair'
  | 'switchPairActive'
  | 'breakPair'
  | 'failOverPair';

export interface LockState {
  operationId: string | null;
  operationType: string | null;
}

/** What the rules read about the instance an operation addresses, and its set. */
export interface Facts {
  instance: {
    id: string;
    status: string;
    lock: LockState;
    setId: string | null;
    /** What a resize compares with (Trove: a new flavor, a larger volume). */
    flavorId?: string;
    volumeSize?: number;
    /** The member a failover (eject) put in its place as source: set on the fenced former source only. */
    replacedBy?: string | null;
    /** Trove's locality: the policy of the server group the instance's set shares (null: none). */
    locality?: string | null;
  };
  /** rebuildAsReplica: where a former source would rejoin, read through the member that replaced it. */
  formerSet?: FormerSet;
  /** The instance's set, when it is in one. */
  topology?: Topology;
  setLock?: LockState;
}

/**
 * The set a fenced former source rejoins: the set of the member that replaced it (null when
 * that set dissolved, the replacement standing alone) and that set's source now (a later
 * switchover may have moved it). sourceId absent: the replacement no longer exists.
 */
export interface FormerSet {
  replacedBy: string;
  setId: string | null;
  sourceId?: string;
  sourceStatus?: string;
  setLock?: LockState;
  /** That set already has a master-master pair (a second one is refused). */
  paired?: boolean;
}

/** How a refusal reads to a person and maps to HTTP (API) and to a failure type (workflow). */
export type RefusalKind = 'invalid' | 'conflict' | 'wait' | 'healthy';
export interface Refusal {
  kind: RefusalKind;
  message: string;
  /** The input the refusal is about, for callers that name it in their own words (instance.replica_count). */
  field?: 'count' | 'source' | 'flavor' | 'volume' | 'locality';
  /** The operation holding what was asked for (conflict, wait). */
  operation?: string;
}

export interface Limits extends TopologyLimits {
  maxReplicas: number;
}

const no = (kind: RefusalKind, message: string, operation?: string, field?: Refusal['field']): Refusal => ({ kind, message, ...(operation ? { operation } : {}), ...(field ? { field } : {}) });

/** The refusal's message led by the caller's name of the field it is about, if any. */
export const refusalText = (r: Refusal, fields: Partial<Record<NonNullable<Refusal['field']>, string>> = {}): string =>
  r.field ? `${fields[r.field] ?? r.field}: ${r.message}` : r.message;

/** The other side of the instance's master-master pair, when it is a side of one. */
const peer = (f: Facts): string | undefined => (f.topology ? peerOf(f.topology, f.instance.id) : undefined);
const pairText = (f: Facts): string => f.topology!.coMasters!.join(', ');
/** What no operation other than the pair's own may do to a side of a pair. */
const pairSide = (f: Facts, what: string): Refusal | undefined =>
  peer(f) === undefined ? undefined : no('invalid', `instance ${f.instance.id} is a side of the master-master pair (${pairText(f)}); ${what}`);

const upstream = (f: Facts): string | null => (f.topology ? upstreamOf(f.topology, f.instance.id) : null);
const replicasOf = (f: Facts): string[] => (f.topology ? downstreamOf(f.topology, f.instance.id) : []);

/**
 * Which conflicts on a set's lock are waited for rather than refused: a delete behind
 * another replica's delete (seconds). The API accepts such a request and the registry asks
 * for the lock again.
 */
export function waitsForSetLock(operationType: string, holderType: string | null): boolean {
  return operationType === 'deleteInstance' && holderType === 'deleteInstance';
}

/** The other operation holding the instance or its set, if any (the caller's own lock does not count). */
export function busy(f: Facts, operation: { id?: string; type: string }): Refusal | undefined {
  const held = (l: LockState | undefined) => Boolean(l?.operationId) && l!.operationId !== operation.id;
  const i = f.instance;
  if (held(i.lock)) return no('conflict', `instance ${i.id} is busy with operation ${i.lock.operationId} (${i.lock.operationType})`, i.lock.operationId!);
  if (held(f.setLock)) {
    const l = f.setLock!;
    const kind = waitsForSetLock(operation.type, l.operationType) ? 'wait' : 'conflict';
    return no(kind, `replication set ${i.setId} is busy with operation ${l.operationId} (${l.operationType})`, l.operationId!);
  }
  return undefined;
}

export function checkCreateReplicas(f: Facts, a: { count: number; operationId?: string }, limits: Limits): Refusal | undefined {
  if (a.count > limits.maxReplicas) return no('invalid', `must be at most ${limits.maxReplicas} (TROVE_MAX_REPLICAS)`, undefined, 'count');
  if (peer(f) !== undefined && sourceOf(f.topology!) !== f.instance.id) {
    return no('invalid', `instance ${f.instance.id} is the passive side of a master-master pair: replicas of a pair hang off its active side (${sourceOf(f.topology!)}) and follow it`, undefined, 'source');
  }
  const up = upstream(f);
  if (up !== null && peer(f) === undefined && (depthOf(f.topology!, f.instance.id) ?? Infinity) + 1 > limits.maxDepth) {
    const depth = depthOf(f.topology!, f.instance.id);
    return no('invalid', `instance ${f.instance.id} is ${depth} link(s) from its set's source; its replicas would be deeper than the ${limits.maxDepth} allowed (TROVE_MAX_DEPTH)`, undefined, 'source');
  }
  if (f.instance.status !== 'ACTIVE') return no('conflict', `instance ${f.instance.id} is ${f.instance.status}, not ACTIVE`);
  return busy(f, { id: a.operationId, type: 'createReplicas' });
}

export function checkDetach(f: Facts, a: { operationId?: string; operationType?: string } = {}): Refusal | undefined {
  const side = pairSide(f, 'break the pair first (breakPair), then detach its passive side');
  if (side) return side;
  if (upstream(f) === null) return no('invalid', `instance ${f.instance.id} is not a replica; there is nothing to detach`);
  return busy(f, { id: a.operationId, type: a.operationType ?? 'detachReplica' });
}

/** A pair has its own switchover (switchPairActive); promote and eject would tear it apart. */
const inPair = (f: Facts, what: string): Refusal | undefined =>
  f.topology?.coMasters ? no('invalid', `replication set ${f.instance.setId} is a master-master pair (${pairText(f)}); ${what}`) : undefined;

export function checkPromote(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  const pair = inPair(f, 'switch its active side (switch_active) or break the pair first');
  if (pair) return pair;
  if (upstream(f) === null) return no('invalid', `instance ${f.instance.id} is not a replica; only a replica can be promoted to replica source`);
  return busy(f, { id: a.operationId, type: 'promoteToReplicaSource' });
}

/** Whether the source may be ejected, given what was last observed of it. */
export function ejectAllowed(assessment: { sourceReachable: boolean; replicasLostSource: boolean } | undefined, force: boolean): Refusal | undefined {
  if (force || !assessment) return undefined;
  if (assessment.sourceReachable) return no('healthy', 'the source is healthy (the orchestrator reaches it); eject it only with force');
  if (!assessment.replicasLostSource) return no('healthy', 'the source is healthy (its replicas still replicate from it); eject it only with force');
  return undefined;
}

export function checkEject(
  f: Facts,
  a: { operationId?: string; force?: boolean; assessment?: { sourceReachable: boolean; replicasLostSource: boolean } } = {},
): Refusal | undefined {
  const pair = inPair(f, 'eject its active side: the passive side takes over (failOverPair)');
  if (pair) return pair;
  const up = upstream(f);
  if (up !== null) return no('invalid', `instance ${f.instance.id} is a replica; eject the source it replicates from (${up})`);
  if (replicasOf(f).length === 0) return no('invalid', `instance ${f.instance.id} is not a replica source with replicas; there is nothing to eject`);
  return busy(f, { id: a.operationId, type: 'ejectReplicaSource' }) ?? ejectAllowed(a.assessment, a.force ?? false);
}

/** The monitor's recovery of a dead relay: only a relay has replicas to move (its death is judged by lib/dead-relays.ts). */
export function checkRecoverDeadRelay(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  const side = pairSide(f, 'its loss is the pair\'s failover, not a relay\'s recovery');
  if (side) return side;
  if (upstream(f) === null || replicasOf(f).length === 0) return no('invalid', `instance ${f.instance.id} is not a relay (a replica with replicas); there is nothing to recover`);
  return busy(f, { id: a.operationId, type: 'recoverDeadRelay' });
}

export function checkDelete(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  // The passive side may go (the pair dissolves into its active side, a source); the active
  // side takes the writes, so it goes only once the other side has them (a switch first).
  const other = peer(f);
  if (other !== undefined && sourceOf(f.topology!) === f.instance.id) {
    return no('conflict', `instance ${f.instance.id} is the active side of the master-master pair (${pairText(f)}); switch the active side to ${other} first (switch_active), then delete ${f.instance.id}`);
  }
  const replicas = replicasOf(f).filter((id) => id !== other);
  // Trove's rule (ReplicaSourceDeleteForbidden): a source outlives its replicas.
  if (replicas.length > 0) return no('invalid', `instance ${f.instance.id} is the source of ${replicas.length} replica(s); detach or delete them first`);
  return busy(f, { id: a.operationId, type: 'deleteInstance' });
}

/**
 * Rebuild a former source as a replica of the set's current source (restore the master side,
 * use case B3): only an instance a failover replaced, no longer in any set, whose set's source
 * takes writes; never the source itself, nor while it or that set is busy.
 */
export function checkRebuildAsReplica(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  const i = f.instance;
  if (i.setId && f.topology) {
    const up = upstream(f);
    if (up === null) return no('invalid', `instance ${i.id} is the source of replication set ${i.setId}; only a former source that a failover replaced can be rebuilt as a replica`);
    return no('invalid', `instance ${i.id} is already a replica (of ${up}); only a former source that a failover replaced can be rebuilt as a replica`);
  }
  if (!i.replacedBy || !f.formerSet) return no('invalid', `instance ${i.id} is not a former source of a replication set (no failover replaced it); there is nothing to rebuild it as a replica of`);
  const former = f.formerSet;
  if (!former.sourceId) return no('invalid', `instance ${former.replacedBy}, which replaced ${i.id} as source, no longer exists; there is no set to rejoin`);
  if (former.sourceStatus !== 'ACTIVE') return no('conflict', `the set's source ${former.sourceId} is ${former.sourceStatus}, not ACTIVE`);
  return busy({ instance: { ...i, setId: former.setId }, ...(former.setLock ? { setLock: former.setLock } : {}) }, { id: a.operationId, type: 'rebuildAsReplica' });
}

/** A backup snapshots a running instance (any member of a set, or a standalone one) that no other operation holds. */
export function checkBackup(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  if (f.instance.status !== 'ACTIVE') return no('conflict', `instance ${f.instance.id} is ${f.instance.status}, not ACTIVE; only a running instance can be backed up`);
  return busy({ instance: f.instance }, { id: a.operationId, type: 'createBackup' });
}

/**
 * A backup is deleted only when nothing still writes or reads it: not while its snapshot is
 * being taken (NEW, BUILDING), and not while a restore (an instance created from it, its
 * provisionInstance running) reads it; deleting it then failed that restore half way.
 */
export function checkDeleteBackup(b: { id: string; status: string }, restores: readonly { instanceId: string; operationId: string }[]): Refusal | undefined {
  if (b.status === 'NEW' || b.status === 'BUILDING') return no('conflict', `backup ${b.id} is ${b.status}: wait until it is COMPLETED or FAILED, then delete it`);
  const r = restores[0];
  if (r) {
    const others = restores.length > 1 ? ` (and ${restores.length - 1} more)` : '';
    return no('conflict', `backup ${b.id} is being restored into instance ${r.instanceId}${others}; a backup cannot be deleted while a restore reads it: delete it once the restore has ended`, r.operationId);
  }
  return undefined;
}

/**
 * Master-master (C1/C2): a pair is made from a set's source or a standalone instance (its
 * second side is a new replica of it, built from one snapshot), and a set has at most one.
 */
export function checkCreatePair(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  if (peer(f) !== undefined) return no('invalid', `instance ${f.instance.id} is already a side of the master-master pair (${pairText(f)})`);
  if (f.topology?.coMasters) return no('invalid', `replication set ${f.instance.setId} already has a master-master pair (${pairText(f)}); a set has at most one`);
  const up = upstream(f);
  if (up !== null) return no('invalid', `instance ${f.instance.id} is a replica of ${up}; a pair is made from a source or a standalone instance`);
  const apart = pairLocality(f);
  if (apart) return apart;
  if (f.instance.status !== 'ACTIVE') return no('conflict', `instance ${f.instance.id} is ${f.instance.status}, not ACTIVE`);
  return busy(f, { id: a.operationId, type: 'createPair' });
}

/**
 * Two masters on one host die together: the second side must go to another host, which only
 * an anti-affinity server group guarantees (Nova groups are chosen at boot).
 */
function pairLocality(f: Facts): Refusal | undefined {
  if (f.instance.locality === undefined || f.instance.locality === 'anti-affinity') return undefined;
  return no('invalid', `instance ${f.instance.id} has locality ${f.instance.locality ?? 'none'}; a pair's sides must be on different hosts, so its source needs locality anti-affinity (create it with --locality anti-affinity)`, undefined, 'locality');
}

/**
 * Bring a pair's lost side back (after failOverPair) as the passive side: rebuilt as a replica
 * of its set's source (the rebuild rules), then paired with it (the pair rules: one pair per
 * set, the hosts apart).
 */
export function checkRejoinPair(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  const rebuild = checkRebuildAsReplica(f, a);
  if (rebuild) return rebuild;
  const former = f.formerSet!;
  if (former.paired) return no('invalid', `the set of ${former.sourceId} already has a master-master pair; a set has at most one (rebuild ${f.instance.id} as a plain replica: rebuild_as_replica)`);
  return pairLocality(f);
}

/**
 * A pair asked for at create (replication.mode master-master): the createPair rules on the
 * instance as it will be once provisioned (standalone, ACTIVE, with the locality asked for),
 * and no zone profile: a profile spreads a set over zones, a pair keeps its sides in one.
 */
export function checkCreateTimePair(r: { name: string; locality: string | null; drProfile: boolean }): Refusal | undefined {
  if (r.drProfile) return no('invalid', "a master-master pair keeps its two sides in one zone, a zone profile (dr_profile) spreads a set over zones; give one of replication.mode and dr_profile");
  return checkCreatePair({ instance: { id: r.name, status: 'ACTIVE', lock: { operationId: null, operationType: null }, setId: null, locality: r.locality } });
}

/** Switchover inside a pair (C3): the instance addressed becomes the active side. */
export function checkSwitchPair(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  const other = peer(f);
  if (other === undefined) return no('invalid', `instance ${f.instance.id} is not a side of a master-master pair; there is no side to switch to`);
  if (sourceOf(f.topology!) === f.instance.id) return no('invalid', `instance ${f.instance.id} is already the active side of its pair; switch to ${other}`);
  return busy(f, { id: a.operationId, type: 'switchPairActive' });
}

/** Failover inside a pair: the active side is fenced and the passive one takes over (the same health rule as eject). */
export function checkFailOverPair(
  f: Facts,
  a: { operationId?: string; force?: boolean; assessment?: { sourceReachable: boolean; replicasLostSource: boolean } } = {},
): Refusal | undefined {
  if (peer(f) === undefined || sourceOf(f.topology!) !== f.instance.id) return no('invalid', `instance ${f.instance.id} is not the active side of a master-master pair; there is nothing to fail over`);
  return busy(f, { id: a.operationId, type: 'failOverPair' }) ?? ejectAllowed(a.assessment, a.force ?? false);
}

export function checkBreakPair(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  if (peer(f) === undefined) return no('invalid', `instance ${f.instance.id} is not a side of a master-master pair; there is no pair to break`);
  return busy(f, { id: a.operationId, type: 'breakPair' });
}

/** TLS is a setting of a replication set: turned on for every member and link at once. */
export function checkEnableTls(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  if (!f.instance.setId || !f.topology) return no('invalid', `instance ${f.instance.id} is not in a replication set; TLS replication is turned on for a set (create a replica first)`);
  return busy(f, { id: a.operationId, type: 'enableReplicationTls' });
}

export function checkRestart(f: Facts, a: { operationId?: string } = {}): Refusal | undefined {
  if (f.instance.status !== 'ACTIVE') return no('conflict', `instance ${f.instance.id} is ${f.instance.status}, not ACTIVE`);
  return busy(f, { id: a.operationId, type: 'restartInstance' });
}

/** A resize asks for exactly one of a new flavor and a larger volume. */
export interface ResizeRequest {
  flavorId?: string;
  volumeSize?: number;
}

/**
 * Trove's rules (instance/models.py resize_flavor, resize_volume): the flavor must change,
 * the volume must grow. A replica may be resized like any instance; a source's volume
 * resize grows its smaller replicas with it, so a replica is never smaller than its source
 * (Trove's verify_replica_volume_size).
 */
export function checkResize(f: Facts, a: ResizeRequest & { operationId?: string }): Refusal | undefined {
  const i = f.instance;
  if ((a.flavorId === undefined) === (a.volumeSize === undefined)) return no('invalid', 'give exactly one of a new flavor and a new volume size');
  if (a.flavorId !== undefined && a.flavorId === i.flavorId) return no('invalid', `must differ from the instance's current flavor "${i.flavorId}"`, undefined, 'flavor');
  if (a.volumeSize !== undefined && i.volumeSize !== undefined && a.volumeSize <= i.volumeSize) {
    return no('invalid', `must be larger than the current volume size of ${i.volumeSize} GB (a volume only grows)`, undefined, 'volume');
  }
  if (i.status !== 'ACTIVE') return no('conflict', `instance ${i.id} is ${i.status}, not ACTIVE`);
  return busy(f, { id: a.operationId, type: 'resizeInstance' });
}

/**
 * Databases and users (manageAccess). A read needs a running server that no operation of
 * its own holds (a delete, a build); a change also needs the instance to be where changes
 * are made: a replica's users and databases replicate from its source (a change made on
 * the replica would diverge from it, and break replication when the source makes the
 * same one), and a change waits for no operation of the set either.
 */
export function checkAccess(f: Facts, a: { change: boolean; operationId?: string }): Refusal | undefined {
  // A pair's changes are made on its active side (they replicate to the passive one), which
  // replicates too but is no read replica.
  const up = peer(f) === undefined ? upstream(f) : sourceOf(f.topology!) === f.instance.id ? null : sourceOf(f.topology!)!;
  if (a.change && up !== null) {
    return no('invalid', `instance ${f.instance.id} is a read replica of ${up}: its users and databases replicate from its source; make the change on ${up}`);
  }
  if (f.instance.status !== 'ACTIVE') return no('conflict', `instance ${f.instance.id} is ${f.instance.status}, not ACTIVE`);
  if (a.change) return busy(f, { id: a.operationId, type: 'manageAccess' });
  return busy({ instance: f.instance }, { id: a.operationId, type: 'manageAccess' });
}

/**
 * The locks an operation holds, in the one order they are taken: the set first, then the
 * instance. Releasing goes the other way.
 */
export function locksFor(type: OperationType, f: Facts): { set: string | null; instance: boolean } {
  const inSet = f.instance.setId;
  switch (type) {
    case 'createReplicas':
    case 'createPair':
      return { set: inSet ?? f.instance.id, instance: false };
    case 'switchPairActive':
    case 'breakPair':
    case 'failOverPair':
      return { set: inSet, instance: false };
    case 'promoteToReplicaSource':
    case 'ejectReplicaSource':
    case 'recoverDeadRelay':
    case 'enableReplicationTls':
      return { set: inSet, instance: false };
    // The set it rejoins (founded anew by beginOperation when that set dissolved) and itself.
    case 'rebuildAsReplica':
    case 'rejoinPair':
      return { set: f.formerSet?.setId ?? null, instance: true };
    // A set member restarting or resizing is briefly down: the set's lock keeps promote,
    // eject and the monitor's automatic failover away meanwhile.
    case 'detachReplica':
    case 'restartInstance':
    case 'resizeInstance':
      return { set: inSet, instance: true };
    case 'deleteInstance':
      // Deleting a replica changes its set; deleting a standalone instance does not.
      return { set: upstream(f) !== null ? inSet : null, instance: true };
    default:
      return { set: null, instance: true };
  }
}

/** Every check by operation type, for callers that dispatch on it. */
export function check(type: OperationType, f: Facts, a: { operationId?: string; count?: number; force?: boolean; resize?: ResizeRequest; assessment?: { sourceReachable: boolean; replicasLostSource: boolean } }, limits: Limits = { ...DEFAULT_LIMITS, maxReplicas: 10 }): Refusal | undefined {
  switch (type) {
    case 'createReplicas':
      return checkCreateReplicas(f, { count: a.count ?? 1, operationId: a.operationId }, limits);
    case 'detachReplica':
      return checkDetach(f, a);
    case 'promoteToReplicaSource':
      return checkPromote(f, a);
    case 'ejectReplicaSource':
      return checkEject(f, a);
    case 'deleteInstance':
      return checkDelete(f, a);
    case 'manageAccess':
      // Only changes begin an operation (reads take no lock).
      return checkAccess(f, { change: true, operationId: a.operationId });
    case 'recoverDeadRelay':
      return checkRecoverDeadRelay(f, a);
    case 'restartInstance':
      return checkRestart(f, a);
    case 'resizeInstance':
      return checkResize(f, { ...a.resize, operationId: a.operationId });
    case 'enableReplicationTls':
      return checkEnableTls(f, a);
    case 'rebuildAsReplica':
      return checkRebuildAsReplica(f, a);
    case 'rejoinPair':
      return checkRejoinPair(f, a);
    case 'createBackup':
      return checkBackup(f, a);
    case 'createPair':
      return checkCreatePair(f, a);
    case 'switchPairActive':
      return checkSwitchPair(f, a);
    case 'breakPair':
      return checkBreakPair(f, a);
    case 'failOverPair':
      return checkFailOverPair(f, a);
    default:
      return busy(f, { id: a.operationId, type });
  }
}
