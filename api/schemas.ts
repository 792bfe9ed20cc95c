// Request bodies of the Trove v1.0 API. Validation errors name each bad field.
import { z } from 'zod';
import { databaseName, flavorId, instanceName, MAX_VOLUME_GB, userName, zoneName, PATTERNS } from '../lib/schemas';

const password = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');

export const createInstanceBody = z
  .object({
    instance: z
      .object({
        name: instanceName,
        flavorRef: z.union([flavorId, z.number().int().min(1).transform(String)]),
        volume: z.object({ size: z.number().int('must be a whole number of GB').min(1, 'must be at least 1').max(MAX_VOLUME_GB, `must be at most ${MAX_VOLUME_GB}`) }),
        availability_zone: zoneName.optional(),
        datastore: z.object({ type: z.literal('mariadb', 'must be mariadb (the only datastore served)').optional(), version: z.literal('10.11', 'must be 10.11').optional() }).optional(),
        databases: z.array(z.object({ name: databaseName, character_set: z.string().optional(), collate: z.string().optional() })).max(64).default([]),
        users: z
          .array(
            z.object({
              name: userName,
              password,
              host: z.string().regex(PATTERNS.userHost, `must match ${PATTERNS.userHost.source}`).default('%'),
              databases: z.array(z.object({ name: databaseName })).max(64).default([]),
            }),
          )
          .max(64)
          .default([]),
        nics: z.array(z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();
export type CreateInstanceBody = z.infer<typeof createInstanceBody>;

const replicaTemplateFields = {
  flavorRef: z.union([flavorId, z.number().int().min(1).transform(String)]).optional(),
  volume: z.object({ size: z.number().int('must be a whole number of GB').min(1, 'must be at least 1').max(MAX_VOLUME_GB, `must be at most ${MAX_VOLUME_GB}`) }).optional(),
  availability_zone: zoneName.optional(),
};
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
        ...replicaTemplateFields,
        datastore: z.object({ type: z.literal('mariadb', 'must be mariadb').optional(), version: z.literal('10.11', 'must be 10.11').optional() }).optional(),
        databases: forbiddenForReplica('databases'),
        users: forbiddenForReplica('users'),
        nics: z.array(z.unknown()).optional(),
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
    topology: z.object({ read_only: z.boolean().default(true), slave_of: z.array(z.object({ id: z.string() })).optional(), replica_of: z.array(z.object({ id: z.string() })).optional() }).strict().default({ read_only: true }),
  })
  .strict();

export const detachPatchBody = z
  .object({ instance: z.object({ replica_of: z.null().optional(), slave_of: z.null().optional() }).strict() })
  .strict();

export const promoteAction = z.object({}).strict();
export const ejectAction = z.object({ force: z.boolean().optional() }).strict();

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
      })
      .strict()
      .refine((v) => Object.keys(v).length > 0, 'give at least one setting'),
  })
  .strict();
