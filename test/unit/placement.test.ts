import { placementProblems, type PlacementAsk } from '../../lib/placement';
import { zoneProfileDeletion, zoneProfileProblems, type ZoneProfileSpec } from '../../lib/zone-profiles';

const zones = [
  { name: 'az1', hosts: ['host1a', 'host1b'] },
  { name: 'az2', hosts: ['host2a', 'host2b'] },
  { name: 'az3', hosts: ['host3a'] },
];
const fields = { zone: 'availability_zone', count: 'replica_count' };
const ask = (o: Partial<PlacementAsk>): PlacementAsk => ({ zones, zone: 'az1', count: 1, ...o });
const anti = (...memberHosts: string[]) => ({ policy: 'anti-affinity' as const, memberHosts });
const aff = (...memberHosts: string[]) => ({ policy: 'affinity' as const, memberHosts });

describe('the placement check', () => {
  it.each<[string, PlacementAsk, RegExp | undefined]>([
    ['no group, a known zone', ask({ count: 5 }), undefined],
    ['no group, any zone', ask({ zone: null, count: 5 }), undefined],
    ['an unknown zone', ask({ zone: 'az9' }), /^availability_zone: zone "az9" does not exist \(zones: az1, az2, az3\)$/],
    ['an unknown zone with a group', ask({ zone: 'az9', group: anti() }), /^availability_zone: zone "az9" does not exist/],
    ['a new anti-affinity set', ask({ group: anti() }), undefined],
    ['anti-affinity: a replica on the free host', ask({ group: anti('host1a') }), undefined],
    ['anti-affinity: two replicas, one free host', ask({ group: anti('host1a'), count: 2 }),
      /^replica_count: anti-affinity puts every member of the set on its own host; zone az1 has 2 host\(s\), 1 already holding a member, so 2 more cannot be placed \(at most 1\)$/],
    ['anti-affinity: every host taken', ask({ group: anti('host1a', 'host1b') }), /zone az1 has 2 host\(s\), 2 already holding a member, so 1 more cannot be placed \(at most 0\)/],
    ['anti-affinity: members elsewhere leave the zone free', ask({ zone: 'az2', group: anti('host1a', 'host1b'), count: 2 }), undefined],
    ['anti-affinity: three in a zone of two hosts', ask({ group: anti(), count: 3 }), /zone az1 has 2 host\(s\), so 3 more cannot be placed \(at most 2\)/],
    ['anti-affinity in any zone counts every host', ask({ zone: null, group: anti('host1a'), count: 4 }), undefined],
    ['anti-affinity in any zone, beyond every host', ask({ zone: null, group: anti('host1a'), count: 5 }), /any zone has 5 host\(s\), 1 already holding a member, so 5 more cannot be placed \(at most 4\)/],
    ['a new affinity set', ask({ group: aff(), count: 1 }), undefined],
    ['affinity: many replicas on the one host', ask({ group: aff('host1b'), count: 9 }), undefined],
    ['affinity: a replica in another zone', ask({ zone: 'az2', group: aff('host1b') }),
      /^availability_zone: affinity keeps every member of the set on one host \(host1b, in az1\); zone az2 cannot take one$/],
    ['affinity in any zone follows the host', ask({ zone: null, group: aff('host1b') }), undefined],
  ])('%s', (_name, a, refused) => {
    const problems = placementProblems(a, fields);
    if (refused) {
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(refused);
    } else {
      expect(problems).toEqual([]);
    }
  });

  test('a zone without hosts takes nothing', () => {
    expect(placementProblems({ zones: [{ name: 'empty', hosts: [] }], zone: 'empty', count: 1 }, fields)).toEqual(['availability_zone: zone empty has no hosts']);
  });
});

const profile = (o: Partial<ZoneProfileSpec> = {}): ZoneProfileSpec => ({
  name: 'dr-east', primaryZone: 'az1', drZones: ['az2'], locality: 'anti-affinity', semiSync: true, autoFailover: true, ...o,
});

describe('zone profile validation', () => {
  it.each<[string, ZoneProfileSpec, string[], string[]]>([
    ['a good profile', profile(), ['other'], []],
    ['no locality, two DR zones', profile({ locality: null, drZones: ['az2', 'az3'] }), [], []],
    ['a name taken (without case)', profile({ name: 'DR-East' }), ['dr-east'], ['zone_profile.name: a profile named "DR-East" already exists']],
    ['an unknown primary zone', profile({ primaryZone: 'az9' }), [], ['zone_profile.primary_zone: zone "az9" does not exist (zones: az1, az2, az3)']],
    ['an unknown DR zone', profile({ drZones: ['az2', 'nowhere'] }), [], ['zone_profile.dr_zones[1]: zone "nowhere" does not exist (zones: az1, az2, az3)']],
    ['the primary zone as DR zone', profile({ drZones: ['az1'] }), [], ["zone_profile.dr_zones[0]: must differ from primary_zone (a DR zone survives the primary zone's loss)"]],
    ['a DR zone twice', profile({ drZones: ['az2', 'az3', 'az2'] }), [], ['zone_profile.dr_zones[2]: zone "az2" is listed twice']],
    ['no DR zone', profile({ drZones: [] }), [], ['zone_profile.dr_zones: name at least one zone for the DR replica']],
    ['affinity', profile({ locality: 'affinity' }), [], ['zone_profile.locality: affinity keeps every member on one host, so none could be in a DR zone; use anti-affinity or null']],
    ['everything wrong at once', profile({ name: 'x', primaryZone: 'az9', drZones: ['az9'], locality: 'affinity' }), ['x'], [
      'zone_profile.name: a profile named "x" already exists',
      'zone_profile.primary_zone: zone "az9" does not exist (zones: az1, az2, az3)',
      'zone_profile.dr_zones[0]: zone "az9" does not exist (zones: az1, az2, az3)',
      'zone_profile.locality: affinity keeps every member on one host, so none could be in a DR zone; use anti-affinity or null',
    ]],
  ])('%s', (_name, p, taken, expected) => {
    expect(zoneProfileProblems(p, zones, taken)).toEqual(expected);
  });

  it.each<[string, string[], { status: 409; message: string } | undefined]>([
    ['a profile no set follows may go', [], undefined],
    ['a profile a set follows stays', ['set-1'], { status: 409, message: 'zone profile "dr-east" is in use by 1 replication set(s) (set-1); disable DR on them first' }],
  ])('%s', (_name, followedBy, expected) => {
    expect(zoneProfileDeletion({ name: 'dr-east' }, followedBy)).toEqual(expected);
  });
});
