// Request bodies. Unknown fields are ignored (Trove sends imageRef, networks,
// user_data...), but fields we act on are checked so a bad request changes
// nothing and its 400 names the field.
import { z } from 'zod';

const hints = z.object({ group: z.string().min(1, 'must be a server group id').optional() }).optional();

/** flavorRef may be an id or a flavor URL, as in Nova. */
const flavorRef = z
  .union([z.string().min(1, 'must not be empty'), z.number().int()])
  .transform((ref) => String(ref).split('/').pop() ?? '');

export const createServerSchema = z.object({
  server: z.object({
    name: z.string().trim().min(1, 'must be 1-255 characters').max(255, 'must be 1-255 characters'),
    flavorRef,
    availability_zone: z.string().min(1, 'must not be empty').optional(),
    metadata: z
      .record(z.string().min(1).max(255), z.string().max(255, 'values must be at most 255 characters'))
      .optional(),
    scheduler_hints: hints,
  }),
  'os:scheduler_hints': hints,
  'OS-SCH-HNT:scheduler_hints': hints,
  scheduler_hints: hints,
});

const noArgument = z.union([z.null(), z.object({})], 'must be null');

/** Exactly one action per request, as in Nova; unknown actions are refused. */
export const serverActionSchema = z
  .object({
    'os-stop': noArgument.optional(),
    'os-start': noArgument.optional(),
    reboot: z.object({ type: z.enum(['SOFT', 'HARD'], "must be 'SOFT' or 'HARD'") }).optional(),
    lock: noArgument.optional(),
    unlock: noArgument.optional(),
    // Extension: pull the plug at once (fencing). os-stop is graceful and would first
    // resume a hung server, letting it take writes for a moment.
    'x-power-off': noArgument.optional(),
    resize: z.object({ flavorRef, 'OS-DCF:diskConfig': z.string().optional() }).optional(),
    confirmResize: noArgument.optional(),
    revertResize: noArgument.optional(),
    // Extension: this mock has no Cinder; a server's data volume grows through it (os-extend's field name).
    'x-extend-volume': z.object({ new_size: z.number().int('must be a whole number of GB').min(1, 'must be at least 1') }).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length === 1, { message: 'exactly one action is required', path: [] });

const policy = z.enum(['affinity', 'anti-affinity'], "must be 'affinity' or 'anti-affinity'");

export const createGroupSchema = z.object({
  server_group: z
    .object({
      name: z.string().trim().min(1, 'must be 1-255 characters').max(255, 'must be 1-255 characters'),
      policies: z.array(policy).length(1, 'must hold exactly one policy').optional(),
      policy: policy.optional(),
    })
    .refine((g) => (g.policies === undefined) !== (g.policy === undefined), {
      message: "exactly one of 'policies' (list) or 'policy' (string) is required",
      path: ['policy'],
    }),
});

export const listServersQuery = z.object({
  name: z.string().optional(),
  status: z.string().optional(),
});

/** POST /servers/{id}/metadata: Nova's metadata items, strings to strings (255 characters each, as Nova). */
export const updateMetadataSchema = z.object({ metadata: z.record(z.string().min(1).max(255), z.string().max(255)) }).strict();
