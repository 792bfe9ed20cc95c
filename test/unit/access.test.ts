// The users API's pure parts: the rulebook's access rule, the names the system keeps, what
// a request meets on the server, Trove's paging and user@host segments, and the schemas of
// the bodies (API) and of manageAccess's input.
import { changePasswordsBody, createDatabasesBody, createUsersBody, databaseSegment, grantBody, pageQuery, updateUserBody, userSegment } from '../../api/access-schemas';
import { accessProblem, manageAccessInput, paginate, parseUserRef, readAnswer, reservedDatabase, reservedUser, visibleState, type AccessAction, type AccessState } from '../../lib/access';
import { check, checkAccess, locksFor, refusalText, type Facts } from '../../lib/rules';
import { sealSecret } from '../../lib/secrets';
import { formatIssues } from '../../lib/validation';
import { facts, held } from '../helpers/facts';


describe('the rulebook on databases and users', () => {
  it.each<[string, Facts, boolean, string | undefined, RegExp | undefined]>([
    ['list on a standalone instance', facts('x', { inSet: false }), false, undefined, undefined],
    ['change on a standalone instance', facts('x', { inSet: false }), true, undefined, undefined],
    ['change on a source', facts('s'), true, undefined, undefined],
    ['list on a replica', facts('a'), false, undefined, undefined],
    ['change on a replica', facts('a'), true, 'invalid', /instance a is a read replica of s: .*make the change on s/],
    ['change on a replica that is still building', facts('a', { status: 'BUILD' }), true, 'invalid', /read replica of s/],
    ['list on an instance still building', facts('x', { inSet: false, status: 'BUILD' }), false, 'conflict', /is BUILD, not ACTIVE/],
    ['change on an instance in ERROR', facts('x', { inSet: false, status: 'ERROR' }), true, 'conflict', /is ERROR, not ACTIVE/],
    ['list on an instance being deleted', facts('x', { inSet: false, lock: held('d', 'deleteInstance') }), false, 'conflict', /busy with operation d/],
    ['change on an instance another change holds', facts('x', { inSet: false, lock: held('access-1', 'manageAccess') }), true, 'conflict', /busy with operation access-1/],
    ['list on a source while its set is busy', facts('s', { setLock: held('c', 'createReplicas') }), false, undefined, undefined],
    ['change on a source while its set is busy', facts('s', { setLock: held('c', 'createReplicas') }), true, 'conflict', /replication set s is busy with operation c/],
  ])('%s', (_, f, change, kind, message) => {
    const r = checkAccess(f, { change });
    expect(r?.kind).toBe(kind);
    if (message) expect(refusalText(r!)).toMatch(message);
  });

  it('a change is checked again under its own lock (beginOperation) and holds the instance only', () => {
    expect(check('manageAccess', facts('x', { inSet: false, lock: held('op', 'manageAccess') }), { operationId: 'op' })).toBeUndefined();
    expect(check('manageAccess', facts('a'), {})?.kind).toBe('invalid');
    expect(locksFor('manageAccess', facts('s'))).toEqual({ set: null, instance: true });
  });
});

describe('reserved names', () => {
  it.each([
    ['root', '%', true],
    ['ROOT', '%', true],
    ['os_admin', '%', true],
    ['repl_0123456789abcdef', '%', true],
    ['mysql', '%', true],
    ['PUBLIC', '%', true],
    ['app', 'localhost', true],
    ['app', '%', false],
    ['replica_reader', '%', false],
    ['app', '10.0.0.%', false],
  ])('user %s@%s reserved: %s', (name, host, reserved) => {
    expect(Boolean(reservedUser(name, host))).toBe(reserved);
  });

  it.each([
    ['mysql', true],
    ['information_schema', true],
    ['PERFORMANCE_SCHEMA', true],
    ['sys', true],
    ['shop', false],
    ['system', false],
  ])('database %s reserved: %s', (name, reserved) => {
    expect(Boolean(reservedDatabase(name))).toBe(reserved);
  });

  it('the server state leaves them out and is sorted as Trove pages', () => {
    const raw: AccessState = {
      databases: ['shop', 'mysql', 'information_schema', 'performance_schema', 'sys', 'audit'],
      users: [
        { name: 'root', host: 'localhost', databases: [] },
        { name: 'os_admin', host: 'localhost', databases: [] },
        { name: 'repl_abc', host: '%', databases: [] },
        { name: 'mariadb.sys', host: 'localhost', databases: [] },
        { name: 'zed', host: '%', databases: ['shop', 'audit'] },
        { name: 'app', host: '10.%', databases: [] },
        { name: 'app', host: '%', databases: [] },
      ],
    };
    expect(visibleState(raw)).toEqual({
      databases: ['audit', 'shop'],
      users: [
        { name: 'app', host: '%', databases: [] },
        { name: 'app', host: '10.%', databases: [] },
        { name: 'zed', host: '%', databases: ['audit', 'shop'] },
      ],
    });
  });
});

describe('user@host segments, as Trove reads them', () => {
  it.each([
    ['app', { name: 'app', host: '%' }],
    ['app@%', { name: 'app', host: '%' }],
    ['app@10.0.0.1', { name: 'app', host: '10.0.0.1' }],
    ['app@', { name: 'app@', host: '%' }],
    ['a@b@h', { name: 'a@b', host: 'h' }],
  ])('%s', (segment, want) => {
    expect(parseUserRef(segment)).toEqual(want);
  });

  it('a segment with a bad or reserved name is refused naming it', () => {
    expect(userSegment('app@%')).toEqual({ user: { name: 'app', host: '%' } });
    expect(userSegment("x'y")).toEqual({ errors: [expect.stringMatching(/^user "x'y": name: must match/)] });
    expect(userSegment('root')).toEqual({ errors: [expect.stringMatching(/^user "root": name: user "root" is reserved/)] });
    expect(userSegment('app@localhost')).toEqual({ errors: [expect.stringMatching(/host: host "localhost" is reserved/)] });
    expect(databaseSegment('shop')).toEqual({ name: 'shop' });
    expect(databaseSegment('mysql')).toEqual({ errors: [expect.stringMatching(/^database "mysql": database "mysql" is reserved/)] });
    expect(databaseSegment('a`b')).toEqual({ errors: [expect.stringMatching(/^database "a`b": must match/)] });
  });
});

describe('paging', () => {
  const names = Array.from({ length: 45 }, (_, i) => `db${String(i).padStart(2, '0')}`);
  it('pages of at most 20, each after the marker, with the next marker until the last', () => {
    const first = paginate(names, (n) => n, {});
    expect(first).toEqual({ page: names.slice(0, 20), next: 'db19' });
    const second = paginate(names, (n) => n, { marker: first.next });
    expect(second).toEqual({ page: names.slice(20, 40), next: 'db39' });
    expect(paginate(names, (n) => n, { marker: second.next })).toEqual({ page: names.slice(40) });
  });
  it('limit asks for fewer, never more; a marker past the end gives nothing', () => {
    expect(paginate(names, (n) => n, { limit: 2 })).toEqual({ page: ['db00', 'db01'], next: 'db01' });
    expect(paginate(names, (n) => n, { limit: 500 }).page).toHaveLength(20);
    expect(paginate(names, (n) => n, { marker: 'zz' })).toEqual({ page: [] });
    expect(paginate(['a', 'b'], (n) => n, {})).toEqual({ page: ['a', 'b'] });
  });
  it('the query is checked', () => {
    expect(pageQuery.parse({ limit: '5', marker: 'app@%' })).toEqual({ limit: 5, marker: 'app@%' });
    expect(formatIssues(pageQuery.safeParse({ limit: '0' }).error!)).toEqual(['limit: must be at least 1']);
    expect(pageQuery.safeParse({ limit: 'x' }).success).toBe(false);
  });
});

describe('what a request meets on the server', () => {
  const state: AccessState = {
    databases: ['audit', 'shop'],
    users: [
      { name: 'app', host: '%', databases: ['shop'] },
      { name: 'ro', host: '10.%', databases: [] },
    ],
  };
  const app = { name: 'app', host: '%' };
  const sealed = 'v1.a.b.c';
  it.each<[string, AccessAction, 'missing' | 'invalid' | undefined, RegExp | undefined]>([
    ['list users', { kind: 'listUsers' }, undefined, undefined],
    ['show a user', { kind: 'showUser', user: app }, undefined, undefined],
    ['show a user at another host', { kind: 'showUser', user: { name: 'app', host: '10.%' } }, 'missing', /^User app@10\.% cannot be found on the instance\.$/],
    ['show a reserved user', { kind: 'showUser', user: { name: 'root', host: '%' } }, 'invalid', /reserved/],
    ['create databases, one existing', { kind: 'createDatabases', databases: [{ name: 'shop' }, { name: 'new' }] }, undefined, undefined],
    ['create a database twice', { kind: 'createDatabases', databases: [{ name: 'x' }, { name: 'x' }] }, 'invalid', /databases\[1\]\.name: "x" is given twice/],
    ['create a reserved database', { kind: 'createDatabases', databases: [{ name: 'sys' }] }, 'invalid', /databases\[0\]\.name: database "sys" is reserved/],
    ['delete a database', { kind: 'deleteDatabase', name: 'audit' }, undefined, undefined],
    ['delete a missing database', { kind: 'deleteDatabase', name: 'nope' }, 'missing', /^Database nope cannot be found on the instance\.$/],
    ['create a user', { kind: 'createUsers', users: [{ name: 'new', sealedPassword: sealed, databases: ['shop'] }] }, undefined, undefined],
    ['create a user that exists', { kind: 'createUsers', users: [{ name: 'app', host: '%', sealedPassword: sealed }] }, 'invalid', /users\[0\]: a user with the name "app" and host "%" already exists/],
    ['create the same name at another host', { kind: 'createUsers', users: [{ name: 'app', host: '10.%', sealedPassword: sealed }] }, undefined, undefined],
    ['create a user granted a missing database', { kind: 'createUsers', users: [{ name: 'n', sealedPassword: sealed, databases: ['nope'] }] }, 'invalid', /users\[0\]\.databases: database "nope" does not exist/],
    ['create a user twice in one request', { kind: 'createUsers', users: [{ name: 'n', sealedPassword: sealed }, { name: 'n', host: '%', sealedPassword: sealed }] }, 'invalid', /users\[1\]: n@% is given twice/],
    ['delete a missing user', { kind: 'deleteUser', user: { name: 'ghost', host: '%' } }, 'missing', /User ghost@% cannot be found/],
    ['grant existing databases', { kind: 'grantAccess', user: app, databases: ['audit', 'shop'] }, undefined, undefined],
    ['grant missing databases', { kind: 'grantAccess', user: app, databases: ['audit', 'nope', 'gone'] }, 'invalid', /^databases: "nope", "gone" do not exist on the instance$/],
    ['grant to a missing user', { kind: 'grantAccess', user: { name: 'ghost', host: '%' }, databases: ['nope'] }, 'missing', /User ghost@%/],
    ['grant a reserved database', { kind: 'grantAccess', user: app, databases: ['mysql'] }, 'invalid', /database "mysql" is reserved/],
    ['revoke a grant', { kind: 'revokeAccess', user: app, database: 'shop' }, undefined, undefined],
    ['revoke what is not granted', { kind: 'revokeAccess', user: app, database: 'audit' }, 'missing', /Database audit cannot be found in the access of user app@%/],
    ['change passwords', { kind: 'changePasswords', users: [{ ...app, sealedPassword: sealed }] }, undefined, undefined],
    ['change the password of a missing user', { kind: 'changePasswords', users: [{ ...app, sealedPassword: sealed }, { name: 'ghost', host: '%', sealedPassword: sealed }] }, 'missing', /User ghost@%/],
    ['rename a user', { kind: 'updateUser', user: app, newName: 'app2' }, undefined, undefined],
    ['rename onto an existing user', { kind: 'updateUser', user: app, newName: 'ro', newHost: '10.%' }, 'invalid', /a user with the name "ro" and host "10\.%" already exists/],
    ['rename to a reserved name', { kind: 'updateUser', user: app, newName: 'root' }, 'invalid', /reserved/],
    ['update a missing user', { kind: 'updateUser', user: { name: 'ghost', host: '%' }, sealedPassword: sealed }, 'missing', /User ghost@%/],
  ])('%s', (_, action, kind, message) => {
    const p = accessProblem(action, state);
    expect(p?.kind).toBe(kind);
    if (message) expect(p!.message).toMatch(message);
  });

  it('reads answer in Trove’s shapes', () => {
    expect(readAnswer({ kind: 'listDatabases' }, state)).toEqual({ databases: [{ name: 'audit' }, { name: 'shop' }] });
    expect(readAnswer({ kind: 'listUsers' }, state).users![0]).toEqual({ name: 'app', host: '%', databases: [{ name: 'shop' }] });
    expect(readAnswer({ kind: 'showUser', user: app }, state)).toEqual({ user: { name: 'app', host: '%', databases: [{ name: 'shop' }] } });
    expect(readAnswer({ kind: 'showAccess', user: app }, state)).toEqual({ databases: [{ name: 'shop' }] });
  });
});

describe('request bodies, as python-troveclient sends them', () => {
  const issues = (r: { success: boolean; error?: unknown }) => (r.success ? [] : formatIssues(r.error as never));
  it.each<[string, { safeParse: (v: unknown) => { success: boolean; error?: unknown } }, unknown, RegExp | undefined]>([
    ['db create', createDatabasesBody, { databases: [{ name: 'shop', character_set: 'utf8mb4', collate: 'utf8mb4_general_ci' }] }, undefined],
    ['db create, no databases', createDatabasesBody, { databases: [] }, /databases: give at least one database/],
    ['db create, a bad name', createDatabasesBody, { databases: [{ name: 'a;b' }] }, /databases\[0\]\.name: must match/],
    ['db create, a reserved name', createDatabasesBody, { databases: [{ name: 'mysql' }] }, /databases\[0\]\.name: database "mysql" is reserved/],
    ['db create, a bad character set', createDatabasesBody, { databases: [{ name: 'x', character_set: "utf8'; DROP" }] }, /databases\[0\]\.character_set: must match/],
    ['db create, an unknown key', createDatabasesBody, { databases: [{ name: 'x', size: 1 }] }, /databases\[0\]: Unrecognized key: "size"/],
    ['user create', createUsersBody, { users: [{ name: 'app', password: 'p', databases: [{ name: 'shop' }] }, { name: 'ro', password: 'p', host: '10.0.0.%' }] }, undefined],
    ['user create, no password', createUsersBody, { users: [{ name: 'app' }] }, /users\[0\]\.password/],
    ['user create, an empty password', createUsersBody, { users: [{ name: 'app', password: '' }] }, /users\[0\]\.password: must not be empty/],
    ['user create, a bad name', createUsersBody, { users: [{ name: "a'b", password: 'p' }] }, /users\[0\]\.name: must match/],
    ['user create, a bad host', createUsersBody, { users: [{ name: 'a', password: 'p', host: "h'" }] }, /users\[0\]\.host: must match/],
    ['user create, root', createUsersBody, { users: [{ name: 'root', password: 'p' }] }, /users\[0\]\.name: user "root" is reserved/],
    ['user create, a replication account', createUsersBody, { users: [{ name: 'repl_x', password: 'p' }] }, /users\[0\]\.name: user "repl_x" is reserved/],
    ['user create, at localhost', createUsersBody, { users: [{ name: 'a', password: 'p', host: 'localhost' }] }, /users\[0\]\.host: host "localhost" is reserved/],
    ['user create, granted a reserved database', createUsersBody, { users: [{ name: 'a', password: 'p', databases: [{ name: 'mysql' }] }] }, /users\[0\]\.databases\[0\]\.name: database "mysql" is reserved/],
    ['change passwords', changePasswordsBody, { users: [{ name: 'app', password: 'new', host: '%' }] }, undefined],
    ['change passwords, none given', changePasswordsBody, { users: [{ name: 'app' }] }, /users\[0\]\.password/],
    ['update a user', updateUserBody, { user: { name: 'app2', password: 'p2', host: '%' } }, undefined],
    ['update a user, nothing given', updateUserBody, { user: {} }, /user: give at least one of name, host, password/],
    ['update a user, to root', updateUserBody, { user: { name: 'root' } }, /user\.name: user "root" is reserved/],
    ['grant', grantBody, { databases: [{ name: 'shop' }] }, undefined],
    ['grant, nothing', grantBody, { databases: [] }, /databases: give at least one database/],
    ['grant, a reserved database', grantBody, { databases: [{ name: 'information_schema' }] }, /databases\[0\]\.name: database "information_schema" is reserved/],
  ])('%s', (_, schema, body, message) => {
    const r = schema.safeParse(body);
    if (!message) return expect(issues(r)).toEqual([]);
    expect(issues(r).join('; ')).toMatch(message);
  });

  it('manageAccess never takes a plaintext password', () => {
    const key = Buffer.alloc(32, 1);
    const base = { instanceId: '00000000-0000-4000-8000-000000000001', projectId: 'p', novaServerId: 'srv-1' };
    expect(manageAccessInput.safeParse({ ...base, action: { kind: 'createUsers', users: [{ name: 'a', sealedPassword: sealSecret(key, 'pw') }] } }).success).toBe(true);
    const plain = manageAccessInput.safeParse({ ...base, action: { kind: 'createUsers', users: [{ name: 'a', sealedPassword: 'pw' }] } });
    expect(formatIssues(plain.error!).join()).toMatch(/sealedPassword: must be a sealed secret/);
    const named = manageAccessInput.safeParse({ ...base, action: { kind: 'changePasswords', users: [{ name: 'a', host: '%', password: 'pw' }] } });
    expect(named.success).toBe(false);
    expect(manageAccessInput.safeParse({ ...base, action: { kind: 'dropEverything' } }).success).toBe(false);
  });
});
