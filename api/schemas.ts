// Request bodies of the Trove v1.0 API. Validation errors name each bad field.
//
// python-troveclient (troveclient/v1/instances.py create, as `openstack database instance
// create` calls it) sends: name, flavorRef, volume {size, type}, databases, users,
// restorePoint, availability_zone, datastore {type, version, version_number}, nics,
// configuration, replica_of, replica_count, modules, locality, region_name, and always
// access {is_public: false, allowed_cidrs?}. Each is accepted when this deployment can
// honour it, and otherwise refused naming the field (one rule each, shared by both forms).
import { restorePoint } from './backup-schemas';
import { z } from 'zod';
import { databaseName, flavorId, instanceName, locality, MAX_VOLUME_GB, userHost, userName, zoneName } from '../lib/schemas';
import { DATASTORES, findDatastore, findVersion, SERVED_TYPES, SERVED_VERSIONS } from './catalog';

/** A database user's password as the API receives it (create, change, update); sealed before it goes further. */
export const password = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');

const flavorRef = z.union([flavorId, z.number().int().min(1).transform(String)]);

/** Present only as null (or absent): what troveclient sends when the option is not given. */
const absentOr = (why: string) => z.unknown().refine((v) => v === undefined || v === null, why).optional();

/** A list the client may send empty ("none asked for"); anything in it is refused with `why`. */
const emptyList = (why: string) => z.array(z.unknown(), 'must be a list').refine((l) => l.length === 0, why);

const volume = z.object({
  size: z.number().int('must be a whole number of GB').min(1, 'must be at least 1').max(MAX_VOLUME_GB, `must be at most ${MAX_VOLUME_GB}`),
  // The client sends "type": null unless --volume-type is given.
  type: absentOr('volume types are not served (each server has one local disk); omit it'),
}).strict();

/** The type, a version of it, and the version number all have to name what runs. */
const datastore = z
  .object({
    type: z.string().optional(),
    version: z.string().optional(),
    version_number: z.string().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const ds = d.type === undefined ? DATASTORES[0]! : findDatastore(d.type);
    if (!ds) return ctx.addIssue({ code: 'custom', path: ['type'], message: `datastore "${d.type}" is not served; use ${SERVED_TYPES}` });
    if (d.version !== undefined && !findVersion(ds, d.version)) {
      ctx.addIssue({ code: 'custom', path: ['version'], message: `${ds.name} version "${d.version}" is not served; use ${ds.versions.map((v) => v.name).join(', ')}` });
    }
    if (d.version_number !== undefined && !ds.versions.some((v) => v.version === d.version_number)) {
      ctx.addIssue({ code: 'custom', path: ['version_number'], message: `must be ${SERVED_VERSIONS}` });
    }
  });

/** Trove's access: servers here have only a private address and no security groups. */
const access = z
  .object({
    is_public: z.literal(false, 'public access is not served (servers have only a private address); send false or omit it').optional(),
    allowed_cidrs: emptyList('cannot be enforced (no security groups here); omit it').optional(),
  })
  .strict();

/** The fields this deployment refuses (or accepts only empty), shared by both create forms. */
const unsupportedFields = {
  access: access.optional(),
  // Each server gets its own loopback address; there is no network to choose.
  nics: emptyList('networks cannot be chosen (each server gets its own private address); omit nics').nullish(),
  modules: emptyList('modules are not supported').nullish(),
  configuration: absentOr('configuration groups are not supported; omit it'),
  region_name: absentOr('this deployment serves one region; omit region_name'),
  restorePoint: absentOr('a replica is built from its source, not from a backup; omit restorePoint'),
};

export const createInstanceBody = z
  .object({
    instance: z
      .object({
        name: instanceName,
        flavorRef,
        volume,
        availability_zone: zoneName.optional(),
        datastore: datastore.optional(),
        databases: z.array(z.object({ name: databaseName, character_set: z.string().optional(), collate: z.string().optional() })).max(64).default([]),
        users: z
          .array(
            z.object({
              name: userName,
              password,
              host: userHost.default('%'),
              databases: z.array(z.object({ name: databaseName })).max(64).default([]),
            }),
          )
          .max(64)
          .default([]),
        replica_count: absentOr('only with replica_of (it counts the replicas to create)'),
        // The instance founds a Nova server group with this policy; its replicas join it.
        locality: locality.nullish(),
        // A master-master pair at create (C1): the instance, then its second master built from it.
        replication: z
          .object({ mode: z.literal('master-master', 'can only be "master-master" (a pair; read replicas are made with replica_of or replicate)'), peer_name: instanceName.optional() })
          .strict()
          .optional(),
        // A zone profile's name or id: the master in its primary zone, a replica in its DR zone.
        dr_profile: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters').optional(),
        ...unsupportedFields,
        // Trove's restore from a backup: the new instance's data is the backup's (replicas refuse it).
        restorePoint: restorePoint.nullish(),
      })
      .strict(),
  })
  .strict();
export type CreateInstanceBody = z.infer<typeof createInstanceBody>;

const replicaTemplateFields = {
  flavorRef: flavorRef.optional(),
  volume: volume.optional(),
  availability_zone: zoneName.optional(),
};
/**
 * The replicas' replication: {"tls": true} makes a set TLS from its first replica (no link
 * ever in clear text); a set already TLS gives its replicas TLS anyway (lib/tls-from-start.ts).
 */
const replicaReplication = z.object({ tls: z.literal(true, 'can only be true (a replica of a plain set is plain; of a TLS set, TLS)') }).strict();

const forbiddenForReplica = (what: string) => z.unknown().refine((v) => v === undefined, `not allowed for a replica (it gets the ${what} of its source)`).optional();

/** POST /instances with replica_of (or the seed's slave_of): create replicas of a source. */
export const createReplicaBody = z
  .object({
    instance: z
      .object({
        name: instanceName,
        replica_of: z.string().min(1).optional(),
        slave_of: z.string().min(1).optional(),
        replica_count: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
        replication: replicaReplication.optional(),
        ...replicaTemplateFields,
        datastore: datastore.optional(),
        databases: forbiddenForReplica('databases'),
        users: forbiddenForReplica('users'),
        // Trove's rule too: "Cannot specify locality when adding replicas to existing master."
        locality: absentOr("replicas join their source's server group; locality is chosen when the source is created"),
        dr_profile: absentOr('a replica cannot follow a zone profile: DR is set up on the replication set\'s source (create it with dr_profile, or dr-enable it)'),
        ...unsupportedFields,
      })
      .strict()
      .refine((i) => Boolean(i.replica_of) !== Boolean(i.slave_of), { message: 'give exactly one of replica_of and slave_of', path: ['replica_of'] }),
  })
  .strict();

/** POST /instances/{id}/action {"replicate": ...} as in the seed spec. */
export const replicateAction = z
  .object({
    count: z.number().int('must be a whole number').min(1, 'must be at least 1'),
    instance: z.object({ name: instanceName.optional(), ...replicaTemplateFields }).strict().default({}),
    replication: replicaReplication.optional(),
    topology: z.object({ read_only: z.boolean().default(true), slave_of: z.array(z.object({ id: z.string() })).optional(), replica_of: z.array(z.object({ id: z.string() })).optional() }).strict().default({ read_only: true }),
  })
  .strict();

/**
 * PATCH / PUT /instances/{id} as troveclient's update sends it: a new name, a detach
 * (replica_of: null), or both (Trove: the name and at most one other attribute). access is
 * accepted only as it already is.
 */
export const instancePatchBody = z
  .object({
    instance: z
      .object({
        name: instanceName.optional(),
        replica_of: z.null('can only be null (detach the replica)').optional(),
        slave_of: z.null('can only be null (detach the replica)').optional(),
        access: access.optional(),
        configuration: absentOr('configuration groups are not supported; omit it'),
        datastore_version: absentOr(`only ${SERVED_VERSIONS} is served; there is nothing to upgrade to`),
      })
      .strict()
      .refine((i) => Object.keys(i).length > 0, 'nothing to change: give a name, or replica_of: null to detach'),
  })
  .strict();

/** Trove's actions on one instance (POST /instances/{id}/action); troveclient sends {} for each. */
export const restartAction = z.object({}).strict();
export const resetStatusAction = z.object({}).strict();

/** A flavor id, a number, or a flavor URL whose last segment is the id (Trove's get_id_from_href). */
const resizeFlavorRef = z.preprocess((v) => (typeof v === 'string' && v.includes('/') ? v.split('/').pop() : v), flavorRef);

/** {"volume": {"size": N}} or {"flavorRef": id}: one of them (Trove refuses both at once). */
export const resizeAction = z
  .object({
    volume: z.object({ size: volume.shape.size }).strict().optional(),
    flavorRef: resizeFlavorRef.optional(),
  })
  .strict()
  .refine((r) => (r.volume === undefined) !== (r.flavorRef === undefined), 'give exactly one of volume and flavorRef');

export const promoteAction = z.object({}).strict();
export const ejectAction = z.object({ force: z.boolean().optional() }).strict();
export const rebuildAsReplicaAction = z.object({}).strict();
/** The pair's second master: its name (default: the source's name with a number). */
export const createPairAction = z.object({ name: instanceName.optional() }).strict();
export const switchActiveAction = z.object({}).strict();
export const breakPairAction = z.object({}).strict();
/** A pair side a failover lost, rebuilt from the survivor and paired with it again as the passive side. */
export const rejoinPairAction = z.object({}).strict();

/** PATCH /instances/{id}/replication: the replication set's settings. */
export const settingsBody = z
  .object({
    replication: z
      .object({
        auto_failover: z.boolean().optional(),
        semi_sync: z.boolean().optional(),
        quiet_period: z.number().int('must be a whole number of seconds').min(0, 'must be at least 0').max(604_800, 'must be at most a week').optional(),
        failover_after: z.number().int('must be a whole number of seconds').min(1, 'must be at least 1').max(600, 'must be at most 600').optional(),
        acknowledge_failover: z.literal(true, 'can only be true').optional(),
        // One way: a TLS set stays TLS (its accounts require it; see README "TLS replication").
        // {"renew": true}: every member's certificate re-issued from the set's CA and reloaded.
        // {"rotate_ca": true}: a new CA for the set, every certificate re-issued from it.
        tls: z
          .union(
            [z.literal(true), z.object({ renew: z.literal(true, 'can only be true') }).strict(), z.object({ rotate_ca: z.literal(true, 'can only be true') }).strict()],
            'can only be true (TLS replication, once on, is not turned off), {"renew": true} or {"rotate_ca": true}',
          )
          .optional(),
      })
      .strict()
      .refine((v) => Object.keys(v).length > 0, 'give at least one setting'),
  })
  .strict();

/** POST /instances/{id}/dr: DR with this zone profile (its id or name). */
export const drEnableBody = z.object({ dr: z.object({ profile: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters') }).strict() }).strict();
