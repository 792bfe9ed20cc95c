// The bodies of restart, resize and rename as python-troveclient sends them, and what each
// refuses, naming the field.
import { instancePatchBody, resizeAction, restartAction } from '../../api/schemas';
import { formatIssues } from '../../lib/validation';

const errors = (r: { success: boolean; error?: unknown }, under?: string) => (r.success ? [] : formatIssues(r.error as never, under));

describe('resize action', () => {
  it.each([
    ['a volume size (resize_volume)', { volume: { size: 5 } }, { volume: { size: 5 } }],
    ['a flavor id (resize_instance)', { flavorRef: '7' }, { flavorRef: '7' }],
    ['a numeric flavor id', { flavorRef: 7 }, { flavorRef: '7' }],
    ['a flavor URL (Trove takes its last segment)', { flavorRef: 'http://trove/v1.0/p/flavors/8' }, { flavorRef: '8' }],
  ])('accepts %s', (_, body, parsed) => {
    expect(resizeAction.parse(body)).toEqual(parsed);
  });

  it.each([
    ['both at once', { volume: { size: 5 }, flavorRef: '7' }, /^resize: give exactly one of volume and flavorRef/],
    ['neither', {}, /^resize: give exactly one/],
    ['a zero volume', { volume: { size: 0 } }, /^resize\.volume\.size: must be at least 1/],
    ['a fractional volume', { volume: { size: 1.5 } }, /^resize\.volume\.size: must be a whole number of GB/],
    ['a volume type', { volume: { size: 2, type: 'ssd' } }, /^resize\.volume: Unrecognized key: "type"/],
    ['a flavor name', { flavorRef: 'm1.tiny' }, /^resize\.flavorRef/],
    ['an unknown field', { flavorRef: '7', disk: 3 }, /^resize: Unrecognized key: "disk"/],
  ])('refuses %s, naming the field', (_, body, message) => {
    expect(errors(resizeAction.safeParse(body), 'resize')[0]).toMatch(message);
  });
});

describe('restart action', () => {
  it('takes an empty body, as troveclient sends it, and nothing else', () => {
    expect(restartAction.safeParse({}).success).toBe(true);
    expect(errors(restartAction.safeParse({ hard: true }), 'restart')).toEqual(['restart: Unrecognized key: "hard"']);
  });
});

describe('PATCH / PUT instance body', () => {
  it.each([
    ['a rename (update --name)', { instance: { name: 'orders-2' } }],
    ['a detach (update --detach-replica-source)', { instance: { replica_of: null } }],
    ['the seed’s detach', { instance: { slave_of: null } }],
    ['a rename and a detach', { instance: { name: 'x', replica_of: null } }],
    ['access as it already is', { instance: { name: 'x', access: { is_public: false } } }],
  ])('accepts %s', (_, body) => {
    expect(instancePatchBody.safeParse(body).success).toBe(true);
  });

  it.each([
    ['a bad name', { instance: { name: 'a b' } }, /^instance\.name: must match/],
    ['replica_of naming a source (only null detaches)', { instance: { replica_of: 'abc' } }, /^instance\.replica_of: can only be null/],
    ['a configuration group', { instance: { configuration: 'c1' } }, /^instance\.configuration: configuration groups are not supported/],
    ['a datastore upgrade', { instance: { datastore_version: '11.4' } }, /^instance\.datastore_version: only .* is served/],
    ['public access', { instance: { access: { is_public: true } } }, /^instance\.access\.is_public: public access is not served/],
    ['an unknown field', { instance: { flavorRef: '2' } }, /^instance: Unrecognized key: "flavorRef"/],
    ['nothing', { instance: {} }, /^instance: nothing to change/],
  ])('refuses %s, naming the field', (_, body, message) => {
    expect(errors(instancePatchBody.safeParse(body))[0]).toMatch(message);
  });
});
