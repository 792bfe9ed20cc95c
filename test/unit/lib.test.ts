// Pure pieces of lib/: secrets, config validation, workflow input schemas.
import { apiConfigSchema, ConfigError, guestConfigSchema, loadConfig, parseApiTokens } from '../../lib/config';
import { PATTERNS, provisionInstanceInput } from '../../lib/schemas';
import { newSecretKey, parseSecretKey, sealSecret, unsealSecret } from '../../lib/secrets';
import { replicaNames, replicaShape } from '../../lib/names';
import { instanceIdForRequest } from '../../lib/start';
import { bootPollDelayMs } from '../../activities/compute/activities';
import { parseOrThrow, ValidationError } from '../../lib/validation';

describe('secrets', () => {
  const key = parseSecretKey(newSecretKey());

  test('seal then unseal gives the plaintext back; the sealed form does not contain it', () => {
    const sealed = sealSecret(key, 'hunter2-pässword');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('hunter2');
    expect(unsealSecret(key, sealed)).toBe('hunter2-pässword');
  });

  test('the same plaintext seals differently each time (random IV)', () => {
    expect(sealSecret(key, 'x')).not.toBe(sealSecret(key, 'x'));
  });

  test('another key, or a tampered ciphertext, cannot unseal', () => {
    const sealed = sealSecret(key, 'secret');
    expect(() => unsealSecret(parseSecretKey(newSecretKey()), sealed)).toThrow();
    const parts = sealed.split('.');
    parts[2] = parts[2]!.slice(0, -2) + (parts[2]!.endsWith('AA') ? 'BB' : 'AA');
    expect(() => unsealSecret(key, parts.join('.'))).toThrow();
  });

  test.each([['short', 'abcd'], ['not hex nor 32 bytes', 'zz'.repeat(32)]])('a %s key is refused', (_l, text) => {
    expect(() => parseSecretKey(text)).toThrow(/TROVE_SECRET_KEY: must be 32 bytes/);
  });
});

describe('config', () => {
  const base = { TROVE_SECRET_KEY: 'a'.repeat(64), TROVE_REGISTRY_PASSWORD: 'pw' };

  test('defaults fill what is not given', () => {
    const c = loadConfig(apiConfigSchema, base);
    expect(c).toMatchObject({ TROVE_API_PORT: 8779, TEMPORAL_ADDRESS: '127.0.0.1:7233', TROVE_REGISTRY_PORT: 3307 });
  });

  test.each([
    [{ TROVE_API_PORT: '99999' }, /TROVE_API_PORT: must be a TCP port/],
    [{ TROVE_API_PORT: 'abc' }, /TROVE_API_PORT/],
    [{ TEMPORAL_ADDRESS: 'nohostport' }, /TEMPORAL_ADDRESS: must be host:port/],
    [{ TROVE_SECRET_KEY: 'short' }, /TROVE_SECRET_KEY: must be 32 bytes/],
    [{ TROVE_API_TOKENS: 'no-equals' }, /TROVE_API_TOKENS: must be token=project/],
    [{ TROVE_LOG_LEVEL: 'loud' }, /TROVE_LOG_LEVEL/],
  ])('a bad value %p is refused naming the variable', (bad, message) => {
    expect(() => loadConfig(apiConfigSchema, { ...base, ...bad })).toThrow(ConfigError);
    expect(() => loadConfig(apiConfigSchema, { ...base, ...bad })).toThrow(message);
  });

  test('a missing required variable is named', () => {
    expect(() => loadConfig(apiConfigSchema, { TROVE_SECRET_KEY: 'a'.repeat(64) })).toThrow(/TROVE_REGISTRY_PASSWORD/);
    expect(() => loadConfig(guestConfigSchema, base)).toThrow(/TROVE_SERVER_ID/);
  });

  test('API tokens map each token to one project', () => {
    expect([...parseApiTokens('t1=a,t2=b')]).toEqual([['t1', 'a'], ['t2', 'b']]);
  });
});

describe('provisionInstanceInput', () => {
  const good = { instanceId: '6af19aef-7777-401f-820a-26b96e39cac2', projectId: 'p', name: 'db-1', flavorId: '1', volumeSizeGb: 1 };

  test('fills defaults', () => {
    expect(parseOrThrow(provisionInstanceInput, good)).toMatchObject({ databases: [], users: [] });
    expect(parseOrThrow(provisionInstanceInput, { ...good, databases: ['a'], users: [{ name: 'u', sealedPassword: 'v1.a.b.c', databases: ['a'] }] }).users[0]!.host).toBe('%');
  });

  test.each([
    [{ name: 'a b' }, 'name: must match'],
    [{ name: '-lead' }, 'name: must match'],
    [{ volumeSizeGb: 2000 }, 'volumeSizeGb: must be at most 1024'],
    [{ flavorId: 'm1.tiny' }, 'flavorId: must match'],
    [{ databases: ['a-b'] }, 'databases[0]: must match'],
    [{ users: [{ name: 'u', sealedPassword: 'plain', databases: [] }] }, 'users[0].sealedPassword: must be a sealed secret'],
    [{ users: [{ name: 'u', host: "'", sealedPassword: 'v1.a.b.c' }] }, 'users[0].host: must match'],
    [{ extra: 1 }, 'Unrecognized key'],
  ])('refuses %p with "%s"', (bad, message) => {
    expect(() => parseOrThrow(provisionInstanceInput, { ...good, ...bad })).toThrow(ValidationError);
    expect(() => parseOrThrow(provisionInstanceInput, { ...good, ...bad })).toThrow(message);
  });
});

test('a request id always maps to the same instance id, distinct per project', () => {
  const a = instanceIdForRequest('p1', 'req-1');
  expect(a).toBe(instanceIdForRequest('p1', 'req-1'));
  expect(a).not.toBe(instanceIdForRequest('p2', 'req-1'));
  expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(() => parseOrThrow(provisionInstanceInput, { instanceId: a, projectId: 'p1', name: 'x', flavorId: '1', volumeSizeGb: 1 })).not.toThrow();
});

describe('replica naming and shape', () => {
  test.each<[string | undefined, number, string[]]>([
    [undefined, 1, ['db-replica-1']],
    [undefined, 2, ['db-replica-1', 'db-replica-2']],
    ['mine', 1, ['mine']],
    ['mine', 3, ['mine-1', 'mine-2', 'mine-3']],
  ])('template name %p, count %p -> %p', (name, count, expected) => {
    expect(replicaNames('db', name, count)).toEqual(expected);
  });

  test.each([
    ['a source name at the limit', 'a'.repeat(64), undefined, 12],
    ['a replica of a replica of a replica', 'bench-ha-replica-1-replica-1-replica-1-replica-1-replica-1-rep', undefined, 1],
    ['a long template name', 'db', 't'.repeat(64), 2],
  ])('%s: every name fits the name rule', (_label, source, template, count) => {
    const names = replicaNames(source, template, count);
    expect(new Set(names).size).toBe(count);
    for (const n of names) expect(n).toMatch(PATTERNS.instanceName);
  });

  // Default (and numbered template) names continue past the project's names, so three
  // requests on one source do not leave three instances named alike.
  const long = 'b'.repeat(62);
  test.each<[string, string | undefined, number, string[], string[]]>([
    ['nothing taken', undefined, 1, [], ['db-replica-1']],
    ['the second request', undefined, 1, ['db', 'db-replica-1'], ['db-replica-2']],
    ['the third request', undefined, 1, ['db', 'db-replica-1', 'db-replica-2'], ['db-replica-3']],
    ['two more after two', undefined, 2, ['db-replica-1', 'db-replica-2'], ['db-replica-3', 'db-replica-4']],
    ['past the highest, gaps left alone', undefined, 1, ['db-replica-1', 'db-replica-5'], ['db-replica-6']],
    ['in any order', undefined, 1, ['db-replica-3', 'db-replica-1', 'db-replica-2'], ['db-replica-4']],
    ['case does not make a name new', undefined, 1, ['DB-Replica-1'], ['db-replica-2']],
    ['other bases do not count', undefined, 1, ['web-replica-7', 'db-replica', 'db-replica-x', 'xdb-replica-4', 'db-replica-1-replica-9'], ['db-replica-1']],
    ['leading zeros are another name', undefined, 1, ['db-replica-07'], ['db-replica-1']],
    ['a huge number is another name', undefined, 1, ['db-replica-99999999999999999999999'], ['db-replica-1']],
    ['a template for several continues too', 'web', 2, ['web-1', 'web-2'], ['web-3', 'web-4']],
    ['one replica named by the template keeps it', 'web', 1, ['web'], ['web']],
    ['the base cut for the name rule', long, 2, [`${long}-9`], [`${'b'.repeat(61)}-10`, `${'b'.repeat(61)}-11`]],
    ['a taken name cut the same way counts', long, 2, [`${'b'.repeat(61)}-10`], [`${'b'.repeat(61)}-11`, `${'b'.repeat(61)}-12`]],
  ])('%s: template %p, count %p, taken %p -> %p', (_label, template, count, taken, expected) => {
    const names = replicaNames('db', template, count, taken);
    expect(names).toEqual(expected);
    for (const n of names) expect(n).toMatch(PATTERNS.instanceName);
  });

  test('the names a request gets are never ones the project has (default or numbered template)', () => {
    let taken: string[] = ['db'];
    for (let request = 0; request < 5; request++) {
      for (const template of [undefined, 'web']) {
        const names = replicaNames('db', template, 2, taken);
        const lower = new Set(taken.map((t) => t.toLowerCase()));
        for (const n of names) expect(lower.has(n.toLowerCase())).toBe(false);
        taken = [...taken, ...names];
      }
    }
    expect(new Set(taken).size).toBe(taken.length);
  });

  test('the template wins where it speaks, the source fills the rest', () => {
    const source = { flavorId: '2', volumeSize: 5, availabilityZone: 'az1' };
    expect(replicaShape({}, source)).toEqual({ flavorId: '2', volumeSizeGb: 5, availabilityZone: 'az1' });
    expect(replicaShape({ flavorId: '1', availabilityZone: 'az3' }, source)).toEqual({ flavorId: '1', volumeSizeGb: 5, availabilityZone: 'az3' });
  });
});

test.each([
  [0, 50],
  [1, 100],
  [3, 400],
  [4, 800],
  [5, 1000],
  [30, 1000],
])('a booting server is looked at again after bootPollDelayMs(%i) = %i ms', (attempt, ms) => {
  expect(bootPollDelayMs(attempt)).toBe(ms);
});
