// The zone profile body an administrator posts (POST /v1.0/admin/zone-profiles).
import { z } from 'zod';
import { instanceName, locality, zoneName } from '../lib/schemas';

export const zoneProfileBody = z
  .object({
    zone_profile: z
      .object({
        // The instance-name rule: a profile is named on the command line (--dr-profile NAME).
        name: instanceName,
        description: z.string().max(255, 'must be at most 255 characters').nullish(),
        primary_zone: zoneName,
        dr_zones: z.array(zoneName, 'must be a list of zone names').max(8, 'must name at most 8 zones'),
        // null: the set's members share no server group.
        locality: locality.nullish(),
        semi_sync: z.boolean().default(false),
        auto_failover: z.boolean().default(false),
        // Once the lost primary zone is back, rebuild its fenced members as replicas, unasked.
        auto_rebuild: z.boolean().default(false),
      })
      .strict(),
  })
  .strict();
export type ZoneProfileBody = z.infer<typeof zoneProfileBody>;
