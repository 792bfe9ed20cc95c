// Zod schemas of every workflow input and output. The API, the typed start helpers and
// the workflows themselves parse with the same schema, so input arriving by any path
// meets the same rules. This module is imported by workflow code: keep it pure.
import { z } from 'zod';
import { LOCALITIES } from './placement';

// Every workflow evaluates this module afresh (the SDK gives each workflow its own module
// state), so zod's JIT would compile each object schema's parser with `new Function` for
// every workflow, to parse one input. Interpreting that one parse is cheaper
// (bench/improvements.md §8).
z.config({ jitless: true });
// For the same reason each object schema below is built on its first parse (z.lazy): a
// workflow parses one input, and building all of them cost every new workflow ~3 ms.

// Documented identifier rules (README "Names and identifiers"). They keep every name safe
// to interpolate as a quoted SQL identifier and as a file or process name.
export const PATTERNS = {
  instanceName: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  databaseName: /^[A-Za-z0-9_]{1,64}$/,
  userName: /^[A-Za-z0-9_]{1,32}$/,
  userHost: /^(%|[A-Za-z0-9.%_-]{1,60})$/,
  projectId: /^[A-Za-z0-9_-]{1,64}$/,
  sealedSecret: /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
  flavorId: /^[0-9]{1,6}$/,
  zone: /^[A-Za-z0-9._-]{1,64}$/,
};

const match = (re: RegExp, what: string) => z.string().regex(re, `must match ${re.source} (${what})`);

export const instanceName = match(PATTERNS.instanceName, 'letters, digits, ".", "_", "-"; at most 64');
export const databaseName = match(PATTERNS.databaseName, 'letters, digits and "_"; at most 64');
export const userName = match(PATTERNS.userName, 'letters, digits and "_"; at most 32');
export const projectId = match(PATTERNS.projectId, 'letters, digits, "_" and "-"');
export const flavorId = match(PATTERNS.flavorId, 'a numeric flavor id');
export const zoneName = match(PATTERNS.zone, 'an availability zone name');
export const userHost = match(PATTERNS.userHost, 'a host pattern such as %');
export const locality = z.enum(LOCALITIES, "must be 'affinity' or 'anti-affinity'");
export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase UUID');
export const sealedSecret = z
  .string()
  .regex(PATTERNS.sealedSecret, 'must be a sealed secret (lib/secrets sealSecret), never a plaintext password');

export const MAX_VOLUME_GB = 1024;
export const volumeSizeGb = z.number().int('must be a whole number of GB').min(1, 'must be at least 1').max(MAX_VOLUME_GB, `must be at most ${MAX_VOLUME_GB}`);

export const userSpec = z.lazy(() =>
  z
    .object({
      name: userName,
      host: userHost.default('%'),
      sealedPassword: sealedSecret,
      databases: z.array(databaseName).max(64).default([]),
      // Named so the error says why, instead of "unrecognized key".
      password: z
        .unknown()
        .refine((v) => v === undefined, 'plaintext passwords may not enter a workflow (they would be kept in its history); pass sealedPassword')
        .optional(),
    })
    .strict(),
);
export type UserSpec = z.infer<typeof userSpec>;

export const provisionInstanceInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      name: instanceName,
      flavorId,
      volumeSizeGb,
      availabilityZone: zoneName.optional(),
      /** Trove's locality: the instance founds a Nova server group with this policy, which its replicas join. */
      locality: locality.optional(),
      /** Trove's restorePoint: the new instance's data is this backup's (its databases and users with it). */
      restoreBackupId: uuid.optional(),
      databases: z.array(databaseName).max(64).default([]),
      users: z.array(userSpec).max(64).default([]),
    })
    .strict()
    .superRefine((v, ctx) => {
      const dbs = new Set(v.databases);
      v.users.forEach((u, i) =>
        u.databases.forEach((d, j) => {
          if (!dbs.has(d)) ctx.addIssue({ code: 'custom', path: ['users', i, 'databases', j], message: `database "${d}" is not in databases` });
        }),
      );
    }),
);
export type ProvisionInstanceInput = z.input<typeof provisionInstanceInput>;
export type ProvisionInstanceSpec = z.output<typeof provisionInstanceInput>;

export const deleteInstanceInput = z.lazy(() =>
  z.object({ instanceId: uuid, projectId }).strict(),
);
export type DeleteInstanceInput = z.infer<typeof deleteInstanceInput>;

/** Progress every workflow answers to the `progress` query and shows as current details. */
export interface OperationProgress {
  operation: string;
  phase: string;
  steps: { phase: string; at: string }[];
  error?: string;
}

export interface ProvisionInstanceResult {
  instanceId: string;
  status: 'ACTIVE';
  novaServerId: string;
  address: string;
  port: number;
  mysqlServerId: number;
  flavorRamMb: number;
}

export interface DeleteInstanceResult {
  instanceId: string;
  deletedServers: number;
}

/** The replica template of the seed spec: what each replica is built with. */
export const replicaTemplate = z.lazy(() =>
  z
    .object({
      name: instanceName.optional(),
      flavorId: flavorId.optional(),
      volumeSizeGb: volumeSizeGb.optional(),
      availabilityZone: zoneName.optional(),
    })
    .strict(),
);

export const MAX_REPLICA_COUNT = 50;

export const createReplicasInput = z.lazy(() =>
  z
    .object({
      sourceInstanceId: uuid,
      projectId,
      count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_REPLICA_COUNT, `must be at most ${MAX_REPLICA_COUNT}`),
      template: replicaTemplate.default({}),
      readOnly: z.boolean().default(true),
      /** Ids for the new replicas, so a caller can show them at once; generated when absent. */
      replicaIds: z.array(uuid).optional(),
      /** The set replicates over TLS from these replicas on (lib/tls-from-start.ts); absent: as the set is. */
      tls: z.literal(true).optional(),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.replicaIds && v.replicaIds.length !== v.count) ctx.addIssue({ code: 'custom', path: ['replicaIds'], message: `must hold exactly count (${v.count}) ids` });
      if (v.replicaIds && new Set(v.replicaIds).size !== v.replicaIds.length) ctx.addIssue({ code: 'custom', path: ['replicaIds'], message: 'must not repeat an id' });
      if (v.replicaIds?.includes(v.sourceInstanceId)) ctx.addIssue({ code: 'custom', path: ['replicaIds'], message: 'must not contain the source' });
    }),
);
export type CreateReplicasInput = z.input<typeof createReplicasInput>;
export type CreateReplicasSpec = z.output<typeof createReplicasInput>;

/** buildReplica's input is made by createReplicas; it is still parsed, as any input. */
export const buildReplicaInput = z.lazy(() =>
  z
    .object({
      replicaId: uuid,
      projectId,
      name: instanceName,
      flavorId,
      volumeSizeGb,
      availabilityZone: zoneName.nullable(),
      /** The source's server group (and its policy), which the replica joins. */
      serverGroupId: z.string().min(1).max(64).optional(),
      locality: locality.optional(),
      readOnly: z.boolean(),
      snapshotId: uuid,
      /** Absent: the server is provisioned while the snapshot is taken, and the parent signals its GTID (snapshotReady). */
      snapshotGtid: z.string().regex(/^(\d+-\d+-\d+)?(,\d+-\d+-\d+)*$/, 'must be a MariaDB GTID position').optional(),
      setId: uuid,
      source: z.object({ instanceId: uuid, novaServerId: z.string().min(1), address: z.string().min(1), port: z.number().int() }).strict(),
      catchUpTimeoutSeconds: z.number().int().min(1).default(600),
      /** The set runs TLS: the replica gets a certificate from the set's CA and replicates over TLS (inherited). */
      tls: z.boolean().optional(),
    })
    .strict(),
);
export type BuildReplicaInput = z.input<typeof buildReplicaInput>;

export type ReplicaPhase = 'pending' | 'registering' | 'creating server' | 'waiting for snapshot' | 'restoring' | 'attaching' | 'catching up' | 'active' | 'failed' | 'cleaned up';

export interface ReplicaOutcome {
  replicaId: string;
  name: string;
  status: 'ACTIVE' | 'FAILED';
  error?: string;
  novaServerId?: string;
  address?: string;
  mysqlServerId?: number;
  /** Bytes of the snapshot the replica restored. */
  restoredBytes?: number;
  /** How far behind its source the replica was when it was declared caught up. */
  secondsBehind?: number | null;
}

export interface CreateReplicasResult {
  sourceInstanceId: string;
  replicationSetId: string;
  snapshotId: string;
  snapshotBytes: number;
  sourceRestarted: boolean;
  replicas: ReplicaOutcome[];
}

export const detachReplicaInput = z.lazy(() =>
  z.object({ instanceId: uuid, projectId }).strict(),
);
export type DetachReplicaInput = z.infer<typeof detachReplicaInput>;

export const restartInstanceInput = z.lazy(() =>
  z.object({ instanceId: uuid, projectId }).strict(),
);
export type RestartInstanceInput = z.infer<typeof restartInstanceInput>;

export interface RestartInstanceResult {
  instanceId: string;
  pid: number;
  /** The replicas that were seen replicating again (caught up with the source) after the restart. */
  replicasResumed: string[];
}

/** Exactly one of a new flavor and a larger volume, as Trove's resize action. */
export const resizeInstanceInput = z.lazy(() =>
  z
    .object({ instanceId: uuid, projectId, flavorId: flavorId.optional(), volumeSizeGb: volumeSizeGb.optional() })
    .strict()
    .refine((v) => (v.flavorId === undefined) !== (v.volumeSizeGb === undefined), { message: 'give exactly one of flavorId and volumeSizeGb', path: ['flavorId'] }),
);
export type ResizeInstanceInput = z.infer<typeof resizeInstanceInput>;

export interface ResizeInstanceResult {
  instanceId: string;
  flavorId: string;
  volumeSizeGb: number;
  /** Every instance whose volume grew: the instance, and a source's smaller replicas with it. */
  volumesGrown: string[];
  /** A volume resize: the volume as the instance's guest sees it afterwards. */
  guestVolume?: { sizeGb: number | null; usedBytes: number };
}

export interface DetachReplicaResult {
  instanceId: string;
  formerSourceId: string;
  replicationUserDropped: boolean;
}

export const promoteInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      catchUpTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
      /**
       * The registry names the candidate the source as soon as it takes writes, before the
       * other replicas move (issue 17). Set by 0.2.0's starters; absent in 0.1.0 histories,
       * which flip at the end, so no patch (docs/patches.md "New input, new steps").
       */
      flipSourceEarly: z.boolean().default(false),
    })
    .strict(),
);
export type PromoteInput = z.input<typeof promoteInput>;

/** createPair (C1/C2): the source's second master, built as a replica from one snapshot. */
export const createPairInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      /** The new side's id and name, so the API can answer with them at once. */
      peerId: uuid,
      name: instanceName.optional(),
      catchUpTimeoutSeconds: z.number().int().min(1).max(3600).default(600),
      /** A pair asked for at create (replication.mode master-master): the instance is provisioned first (the caller recorded its row). */
      provision: provisionInstanceInput.optional(),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.provision && (v.provision.instanceId !== v.instanceId || v.provision.projectId !== v.projectId)) {
        ctx.addIssue({ code: 'custom', path: ['provision', 'instanceId'], message: 'must be the instance the pair is made of, in the same project' });
      }
    }),
);
export type CreatePairInput = z.input<typeof createPairInput>;
export interface CreatePairResult {
  activeId: string;
  passiveId: string;
  replicationSetId: string;
  /** gtid_domain_id of each side, by instance id. */
  gtidDomains: Record<string, number>;
}

/** breakPair: the pair back into a source (its active side) with replicas; asked of either side. */
export const breakPairInput = z.lazy(() => z.object({ instanceId: uuid, projectId }).strict());
export type BreakPairInput = z.input<typeof breakPairInput>;
export interface BreakPairResult {
  sourceId: string;
  replicaId: string;
}

/** switchPairActive (C3): the instance addressed becomes the active side of its pair. */
export const switchPairInput = z.lazy(() =>
  z.object({ instanceId: uuid, projectId, catchUpTimeoutSeconds: z.number().int().min(1).max(3600).default(30) }).strict(),
);
export type SwitchPairInput = z.input<typeof switchPairInput>;
export interface SwitchPairResult {
  activeId: string;
  formerActiveId: string;
  appliedUpTo: string;
  movedReplicas: string[];
}

/** failOverPair (its input is ejectInput's: the active side, force, automatic). */
export interface PairFailoverResult {
  activeId: string;
  fencedInstanceId: string;
  movedReplicas: string[];
  notMoved: Record<string, string>;
}

export const ejectInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      /** Eject even though the source still looks healthy. */
      force: z.boolean().default(false),
      /** Started by the monitor rather than a person. */
      automatic: z.boolean().default(false),
      /**
       * The registry names the candidate the source as soon as it takes writes, before the
       * other replicas move (issue 17). Set by 0.2.0's starters; absent in 0.1.0 histories,
       * which flip at the end, so no patch (docs/patches.md "New input, new steps").
       */
      flipSourceEarly: z.boolean().default(false),
    })
    .strict(),
);
export type EjectInput = z.input<typeof ejectInput>;

export interface PromoteResult {
  newSourceId: string;
  formerSourceId: string;
  movedReplicas: string[];
  /** The source position the candidate applied before it took writes. */
  appliedUpTo: string;
}

export interface EjectResult {
  newSourceId: string;
  fencedInstanceId: string;
  movedReplicas: string[];
  excluded: Record<string, string>;
  ranking: { instanceId: string; received: string; behindBest: number }[];
  /** Replicas of a lost zone fenced and taken out of the set with the old source, with why. */
  fencedReplicas?: Record<string, string>;
  /** The profile's auto_rebuild: the workflow that rebuilds the fenced members once their zone is back. */
  rebuildAfterZoneReturn?: string;
}

/**
 * rebuildAfterZoneReturn (a zone profile's auto_rebuild): wait until Nova reports the lost
 * zone available again, then rebuild each fenced member as a replica, the former source first.
 */
export const rebuildAfterZoneReturnInput = z.lazy(() =>
  z
    .object({
      projectId,
      zone: z.string().min(1),
      instanceIds: z.array(uuid).min(1),
      pollSeconds: z.number().int().min(1).max(3600).default(10),
      /** Polls done before this run (continue-as-new keeps the history short). */
      polled: z.number().int().min(0).default(0),
      /**
       * The set the zone was lost from and what it followed: a set the eject left with one
       * member dissolved, and the one the rebuild founds again gets these back.
       */
      setId: z.string().optional(),
      follow: z.object({ zoneProfileId: z.string(), semiSync: z.boolean(), autoFailover: z.boolean() }).strict().optional(),
    })
    .strict(),
);
export type RebuildAfterZoneReturnInput = z.input<typeof rebuildAfterZoneReturnInput>;

export interface RebuildAfterZoneReturnResult {
  zone: string;
  /** How many times Nova was asked before it reported the zone available. */
  polls: number;
  rebuilt: RebuildAsReplicaResult[];
  /** Members not rebuilt, with why: still ERROR, for a person (trove rebuild-as-replica). */
  failed: Record<string, string>;
}

export const rebuildAsReplicaInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      catchUpTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
      /** Rejoin as the passive side of a master-master pair with the set's source (a pair side a failover lost). */
      pair: z.boolean().optional(),
    })
    .strict(),
);
export type RebuildAsReplicaInput = z.input<typeof rebuildAsReplicaInput>;

export interface RebuildAsReplicaResult {
  instanceId: string;
  /** The set's source it now replicates from, and the set. */
  sourceId: string;
  replicationSetId: string;
  /** Transactions it had that the source lacked (errant GTIDs), reported before they were discarded. */
  errantGtids: string[];
  /** The gtid_binlog_state of each, as compared. */
  formerState: string;
  sourceState: string;
  snapshotId: string;
  snapshotBytes: number;
  /** Rejoined as the passive side of a pair: each side's GTID domain. */
  pair?: { activeId: string; passiveId: string; gtidDomains: Record<string, number> };
}

export const createBackupInput = z.lazy(() => z.object({ backupId: uuid, projectId, instanceId: uuid }).strict());
export type CreateBackupInput = z.input<typeof createBackupInput>;

export interface CreateBackupResult {
  backupId: string;
  instanceId: string;
  sizeBytes: number;
  gtid: string;
}

export const deleteBackupInput = z.lazy(() => z.object({ backupId: uuid, projectId }).strict());
export type DeleteBackupInput = z.input<typeof deleteBackupInput>;

export const enableReplicationTlsInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      catchUpTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
      /** The set is TLS already: re-issue every member's certificate from the set's CA and reload it, links untouched. */
      renew: z.literal(true).optional(),
      /**
       * The set is TLS already: a new CA for the set. Members trust both CAs, get certificates
       * from the new one, then trust it alone (all with FLUSH SSL), links untouched.
       */
      rotateCa: z.literal(true).optional(),
    })
    .strict()
    .refine((v) => !(v.renew && v.rotateCa), { path: ['rotateCa'], message: 'a CA rotation renews every certificate already; ask one or the other' }),
);
export type EnableReplicationTlsInput = z.input<typeof enableReplicationTlsInput>;

export interface EnableReplicationTlsResult {
  replicationSetId: string;
  /** The set's CA was made by this operation (false: an earlier attempt made it). */
  authorityCreated: boolean;
  /** Each member, how its MariaDB loaded its certificate ('flush ssl': no restart), the certificate's serial and expiry. */
  certificates: { instanceId: string; reloaded: string; serial: string; notAfter: string }[];
  /** A renewal: certificates re-issued and reloaded, links left as they ran. */
  renewed: boolean;
  /** A CA rotation: the set's new CA (public), which every member now trusts alone. Absent otherwise. */
  rotatedCa?: { caCertificatePem: string; previousCaCertificatePem: string; created: boolean };
  /** Each link (replica ← its source) verified TLS, caught up with its source (re-pointed unless renewed). */
  links: { replicaId: string; sourceId: string }[];
}

/**
 * enableDr: the DR replica of a zone profile for an instance (dr-enable), or, with
 * `provision`, for an instance it first provisions in the profile's primary zone (dr_profile
 * on create; the caller recorded its row, as for provisionInstance).
 */
export const enableDrInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      /** The zone profile's id or name. */
      profile: z.string().min(1).max(64),
      /** The DR replica's id, so a caller can show it at once; made by the workflow when absent. */
      replicaId: uuid.optional(),
      provision: provisionInstanceInput.optional(),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.provision && (v.provision.instanceId !== v.instanceId || v.provision.projectId !== v.projectId)) {
        ctx.addIssue({ code: 'custom', path: ['provision', 'instanceId'], message: 'must be the instance DR is set up on, in the same project' });
      }
      if (v.replicaId === v.instanceId) ctx.addIssue({ code: 'custom', path: ['replicaId'], message: 'must not be the source' });
    }),
);
export type EnableDrInput = z.input<typeof enableDrInput>;

export interface EnableDrResult {
  instanceId: string;
  replicationSetId: string;
  replicaId: string;
  /** The profile's name, and where the source and the DR replica are. */
  profile: string;
  primaryZone: string;
  drZone: string;
}

/**
 * disableDr (dr-disable): delete the DR replicas of the API's plan, then stop following the
 * zone profile (and drop semi-sync and automatic failover when no replica stays).
 */
export const disableDrInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      setId: z.string().min(1),
      /** The profile's name, for the operation's summary. */
      profile: z.string().min(1).max(64),
      remove: z.array(uuid).max(16),
      keepsReplicas: z.boolean(),
    })
    .strict(),
);
export type DisableDrInput = z.input<typeof disableDrInput>;

export interface DisableDrResult {
  instanceId: string;
  replicationSetId: string;
  removed: string[];
  profile: string;
}

export interface ReplicationSettings {
  autoFailover: boolean;
  semiSync: boolean;
  /** Every link of the set runs TLS, verifying its source's certificate (set by enableReplicationTls). */
  tls: boolean;
  quietPeriodSeconds: number;
  failoverAfterSeconds: number;
  lastFailoverAt: string | null;
  lastFailoverOperation: string | null;
  lastFailoverAcknowledged: boolean;
  /** The zone profile the set follows (DR), absent in histories recorded before it. */
  zoneProfileId?: string | null;
}

export const settingsPatch = z.lazy(() =>
  z
    .object({
      autoFailover: z.boolean().optional(),
      semiSync: z.boolean().optional(),
      tls: z.boolean().optional(),
      quietPeriodSeconds: z.number().int('must be a whole number of seconds').min(0, 'must be at least 0').max(86_400 * 7, 'must be at most a week').optional(),
      failoverAfterSeconds: z.number().int('must be a whole number of seconds').min(1, 'must be at least 1').max(600, 'must be at most 600').optional(),
      acknowledgeFailover: z.boolean().optional(),
      /** Set by enableDr, cleared by dr-disable. */
      zoneProfileId: z.string().nullable().optional(),
    })
    .strict(),
);
export type SettingsPatch = z.infer<typeof settingsPatch>;

/** One member's replication health as the monitor last saw it. */
export interface MemberHealth {
  instanceId: string;
  name: string;
  role: 'source' | 'replica';
  /** The orchestrator reached its MariaDB (TCP handshake and server greeting). */
  reachable: boolean;
  /** Its guest agent answered. */
  agentAnswered: boolean;
  ioRunning: boolean | null;
  sqlRunning: boolean | null;
  secondsBehind: number | null;
  transactionsBehind: number | null;
  gtidSlavePos: string | null;
  gtidIoPos: string | null;
  gtidBinlogPos: string | null;
  lastIoError: string | null;
  lastSqlError: string | null;
  readOnly: boolean | null;
  /**
   * The member's link connects with TLS and verifies its source's certificate (SHOW SLAVE
   * STATUS); null: no link or not read. Absent in health stored before it was read.
   */
  tls?: boolean | null;
  observedAt: string;
}

export const monitorInput = z.lazy(() =>
  z
    .object({
      setId: uuid,
      projectId,
      pollSeconds: z.number().min(0.2).max(600).default(1),
      /** Iterations before continue-as-new keeps the history short. */
      iterationsPerRun: z.number().int().min(1).max(10_000).default(150),
      sourceDownSince: z.string().nullable().default(null),
      /** Wait one poll interval before the first look (started by the operation that built the set). */
      waitBeforeFirstPoll: z.boolean().default(false),
    })
    .strict(),
);
export type MonitorInput = z.input<typeof monitorInput>;

/** The watch's poll interval and health lease unless its input says otherwise (also a survivor's interim watch of a dead worker's sets). */
export const WATCH_POLL_SECONDS = 1;
export const WATCH_LEASE_SECONDS = 10;

/** watchReplicationSet (0.2.0): the monitor whose polling runs in one heartbeating activity. */
export const watchInput = z.lazy(() =>
  z
    .object({
      setId: uuid,
      projectId,
      pollSeconds: z.number().min(0.2).max(600).default(WATCH_POLL_SECONDS),
      sourceDownSince: z.string().nullable().default(null),
      /** Relays seen down, and since when (carried over a continue-as-new, so a relay's failover_after does not start again). */
      relaysDownSince: z.record(z.string(), z.string()).default({}),
      waitBeforeFirstPoll: z.boolean().default(false),
      /** The watch completes at least this often even when nothing happens. */
      checkpointSeconds: z.number().min(1).max(86_400).default(3600),
      /** Unchanged health is written again this often (and vouched for half as long again). */
      leaseSeconds: z.number().min(1).max(600).default(WATCH_LEASE_SECONDS),
      /**
       * The watch activity's heartbeat timeout: only the fallback when a dead worker's watches
       * cannot be handed over through the registry (workers/watch-handover.ts). Its heartbeats
       * reach the Temporal server 80 % of it apart (at most the worker's 120 s throttle).
       */
      heartbeatSeconds: z.number().min(3).max(3600).default(150),
      /** Rounds (watch completions) before continue-as-new. */
      roundsPerRun: z.number().int().min(1).max(10_000).default(100),
    })
    .strict(),
);
export type WatchSetInput = z.input<typeof watchInput>;

/** The monitor's recovery of a relay it judged dead (lib/dead-relays.ts). */
export const recoverDeadRelayInput = z.lazy(() => z.object({ instanceId: uuid, projectId }).strict());
export type RecoverDeadRelayInput = z.input<typeof recoverDeadRelayInput>;

export interface RecoverDeadRelayResult {
  relayId: string;
  movedTo: string | null;
  moved: string[];
  /** Set when the relay was found alive after all (nothing moved). */
  alive?: boolean;
}
