// Zod schemas of every workflow input and output. The API, the typed start helpers and
// the workflows themselves parse with the same schema, so input arriving by any path
// meets the same rules. This module is imported by workflow code: keep it pure.
import { z } from 'zod';

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
export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase UUID');
export const sealedSecret = z
  .string()
  .regex(PATTERNS.sealedSecret, 'must be a sealed secret (lib/secrets sealSecret), never a plaintext password');

export const MAX_VOLUME_GB = 1024;

export const userSpec = z
  .object({
    name: userName,
    host: match(PATTERNS.userHost, 'a host pattern such as %').default('%'),
    sealedPassword: sealedSecret,
    databases: z.array(databaseName).max(64).default([]),
    // Named so the error says why, instead of "unrecognized key".
    password: z
      .unknown()
      .refine((v) => v === undefined, 'plaintext passwords may not enter a workflow (they would be kept in its history); pass sealedPassword')
      .optional(),
  })
  .strict();
export type UserSpec = z.infer<typeof userSpec>;

export const provisionInstanceInput = z
  .object({
    instanceId: uuid,
    projectId,
    name: instanceName,
    flavorId,
    volumeSizeGb: z.number().int('must be a whole number of GB').min(1, 'must be at least 1').max(MAX_VOLUME_GB, `must be at most ${MAX_VOLUME_GB}`),
    availabilityZone: zoneName.optional(),
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
  });
export type ProvisionInstanceInput = z.input<typeof provisionInstanceInput>;
export type ProvisionInstanceSpec = z.output<typeof provisionInstanceInput>;

export const deleteInstanceInput = z.object({ instanceId: uuid, projectId }).strict();
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
