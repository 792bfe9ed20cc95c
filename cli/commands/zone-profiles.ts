// trove zone-profile-create / -list / -show / -delete: the DR zone profiles an administrator
// defines (TROVE_ADMIN_TOKEN) and every project reads (its own TROVE_TOKEN).
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { json, listTable, propertyTable } from '../format';

interface ProfileView {
  id: string;
  name: string;
  description: string | null;
  primary_zone: string;
  dr_zones: string[];
  locality: string | null;
  semi_sync: boolean;
  auto_failover: boolean;
  auto_rebuild?: boolean;
  created: string;
}

const onOff = (b: boolean) => (b ? 'on' : 'off');

function profileTable(p: ProfileView, width: number): string {
  return propertyTable(
    {
      id: p.id,
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      primary_zone: p.primary_zone,
      dr_zones: p.dr_zones.join(', '),
      locality: p.locality ?? '-',
      semi_sync: onOff(p.semi_sync),
      auto_failover: onOff(p.auto_failover),
      auto_rebuild: onOff(Boolean(p.auto_rebuild)),
      created: p.created,
    },
    width,
  );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerZoneProfileCommands(program: Command, ctx: CliContext): void {
  program
    .command('zone-profile-create')
    .description("Defines a DR zone profile (an administrator's TROVE_ADMIN_TOKEN).")
    .argument('<name>', 'name of the profile')
    .requiredOption('--primary-zone <az>', 'zone of the master')
    .requiredOption('--dr-zone <az>', 'zone of the DR replica (repeat for more)', collect)
    .option('--locality <policy>', "the set's server-group policy: anti-affinity (affinity cannot span zones)")
    .option('--description <text>', 'what the profile is for')
    .option('--semi-sync', 'semi-synchronous replication on')
    .option('--auto-failover', 'automatic failover on')
    .option('--auto-rebuild', 'once a lost primary zone is back, rebuild its fenced members as replicas of the new master')
    .option('--json', 'print the API JSON only')
    .action(async (name: string, opts: { primaryZone: string; drZone: string[]; locality?: string; description?: string; semiSync?: boolean; autoFailover?: boolean; autoRebuild?: boolean; json?: boolean }) => {
      const body = {
        zone_profile: {
          name,
          primary_zone: opts.primaryZone,
          dr_zones: opts.drZone,
          ...(opts.locality ? { locality: opts.locality } : {}),
          ...(opts.description ? { description: opts.description } : {}),
          semi_sync: Boolean(opts.semiSync),
          auto_failover: Boolean(opts.autoFailover),
          auto_rebuild: Boolean(opts.autoRebuild),
        },
      };
      const { zone_profile: p } = (await ctx.api().zoneProfiles('POST', undefined, body)) as { zone_profile: ProfileView };
      ctx.out(opts.json ? json(p) : profileTable(p, ctx.width));
    });

  program
    .command('zone-profile-list')
    .description('Lists the DR zone profiles.')
    .option('--json', 'print the API JSON only')
    .action(async (opts: { json?: boolean }) => {
      const { zone_profiles: list } = (await ctx.api().zoneProfiles('GET')) as { zone_profiles: ProfileView[] };
      if (opts.json) return ctx.out(json(list));
      const rows = list.map((p) => [p.id, p.name, p.primary_zone, p.dr_zones.join(','), p.locality ?? '-', onOff(p.semi_sync), onOff(p.auto_failover)]);
      ctx.out(listTable(['ID', 'Name', 'Primary Zone', 'DR Zones', 'Locality', 'Semi-sync', 'Auto Failover'], rows, ctx.width));
    });

  program
    .command('zone-profile-show')
    .description('Shows a DR zone profile.')
    .argument('<profile>', 'ID or name of the profile')
    .option('--json', 'print the API JSON only')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const { zone_profile: p } = (await ctx.api().zoneProfiles('GET', ref)) as { zone_profile: ProfileView };
      ctx.out(opts.json ? json(p) : profileTable(p, ctx.width));
    });

  program
    .command('zone-profile-delete')
    .description("Deletes a DR zone profile (an administrator's TROVE_ADMIN_TOKEN; refused while a set follows it).")
    .argument('<profile>', 'ID or name of the profile')
    .action(async (ref: string) => {
      await ctx.api().zoneProfiles('DELETE', ref);
    });
}
