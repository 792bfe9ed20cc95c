import { placeServer, type PlacementRequest, type PlacementResult, type ZoneConfig } from '../../nova/placement';

const zones: ZoneConfig[] = [
  { name: 'az1', hosts: ['h1a', 'h1b'] },
  { name: 'az2', hosts: ['h2a', 'h2b'] },
  { name: 'az3', hosts: ['h3a', 'h3b'] },
];

type Case = [title: string, request: Omit<PlacementRequest, 'zones'>, expected: Partial<PlacementResult> & { ok: boolean }, reason?: RegExp];

const cases: Case[] = [
  ['empty cloud: first host in config order', { load: {} }, { ok: true, zone: 'az1', host: 'h1a' }],
  ['least-loaded host wins', { load: { h1a: 1, h1b: 1, h2a: 0, h2b: 1 } }, { ok: true, zone: 'az2', host: 'h2a' }],
  ['ties go to config order', { load: { h1a: 2, h1b: 1, h2a: 1, h2b: 1, h3a: 1, h3b: 1 } }, { ok: true, host: 'h1b' }],
  ['requested zone restricts hosts', { availabilityZone: 'az3', load: {} }, { ok: true, zone: 'az3', host: 'h3a' }],
  ['least-loaded within the requested zone', { availabilityZone: 'az3', load: { h3a: 3, h3b: 2 } }, { ok: true, host: 'h3b' }],
  ['unknown zone is an error', { availabilityZone: 'nope', load: {} }, { ok: false }, /nope/],
  ['anti-affinity skips member hosts', { group: { policy: 'anti-affinity', memberHosts: ['h1a', 'h1b'] }, load: { h1a: 1, h1b: 1 } }, { ok: true, host: 'h2a' }],
  ['anti-affinity ignores load on non-members', { group: { policy: 'anti-affinity', memberHosts: ['h1a'] }, load: { h1b: 5, h2a: 0 } }, { ok: true, host: 'h2a' }],
  ['anti-affinity with the zone full', { availabilityZone: 'az2', group: { policy: 'anti-affinity', memberHosts: ['h2a', 'h2b'] }, load: {} }, { ok: false }, /Anti-affinity.*az2/],
  ['anti-affinity with every host used', { group: { policy: 'anti-affinity', memberHosts: ['h1a', 'h1b', 'h2a', 'h2b', 'h3a', 'h3b'] }, load: {} }, { ok: false }, /Anti-affinity/],
  ['anti-affinity with an empty group', { group: { policy: 'anti-affinity', memberHosts: [] }, load: { h1a: 1 } }, { ok: true, host: 'h1b' }],
  ['affinity follows the members even when loaded', { group: { policy: 'affinity', memberHosts: ['h2b', 'h2b'] }, load: { h2b: 9 } }, { ok: true, zone: 'az2', host: 'h2b' }],
  ['affinity with an empty group picks any host', { group: { policy: 'affinity', memberHosts: [] }, load: { h1a: 1 } }, { ok: true, host: 'h1b' }],
  ['affinity host outside the requested zone', { availabilityZone: 'az1', group: { policy: 'affinity', memberHosts: ['h3a'] }, load: {} }, { ok: false }, /Affinity.*h3a/],
];

describe('placeServer', () => {
  // Rows are wrapped in an object: jest would read a 4th positional parameter as done().
  test.each(cases.map(([title, request, expected, reason]) => ({ title, request, expected, reason })))('$title', ({ request, expected, reason }) => {
    const result = placeServer({ zones, ...request });
    expect(result).toMatchObject(expected);
    if (!result.ok) {
      expect(result.error.kind).toBe(request.availabilityZone === 'nope' ? 'UnknownZone' : 'NoValidHost');
      expect(result.error.reason).toMatch(reason ?? /./);
    }
  });

  test('is pure: inputs are not modified', () => {
    const request: PlacementRequest = { zones, group: { policy: 'anti-affinity', memberHosts: ['h1a'] }, load: { h1a: 1 } };
    const snapshot = JSON.stringify(request);
    placeServer(request);
    expect(JSON.stringify(request)).toBe(snapshot);
  });

  test('a zone without hosts has no valid host', () => {
    expect(placeServer({ zones: [{ name: 'empty', hosts: [] }], load: {} })).toMatchObject({ ok: false, error: { kind: 'NoValidHost' } });
  });
});
