// An instance's databases and users (Trove's /databases and /users): what the manageAccess
// workflow is asked, what a server's guest agent reports of them, and the pure rules both
// sides apply: the names kept for the system, what a request meets on the server (a user
// that does not exist, a database a grant names that is not there) and Trove's paging.
// Imported by workflow code: keep it pure.
import { z } from 'zod';
import { ADMIN_USER, MONITOR_USER, REPLICATION_USER_PREFIX } from './names';
import { databaseName, projectId, sealedSecret, userHost, userName, userSpec, uuid } from './schemas';

/** MariaDB's own schemas (Trove's ignore_dbs). */
export const RESERVED_DATABASES = ['mysql', 'information_schema', 'performance_schema', 'sys'];
/** root, the guest agent's admin, the orchestrator's monitoring account, MariaDB's own accounts (Trove's ignore_users); and every replication account (repl_*). */
export const RESERVED_USERS = ['root', ADMIN_USER, MONITOR_USER, 'mysql', 'mariadb.sys', 'PUBLIC'];
/** Accounts at localhost are the server's own (the agent's admin, MariaDB's); clients come over the network. */
export const RESERVED_HOSTS = ['localhost'];

const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));
const reservedDbs = lower(RESERVED_DATABASES);
const reservedUsers = lower(RESERVED_USERS);
const reservedHosts = lower(RESERVED_HOSTS);

/** Why the database name is kept for the system, if it is. Compared without case, as a person reads them. */
export function reservedDatabase(name: string): string | undefined {
  if (reservedDbs.has(name.toLowerCase())) return `database "${name}" is reserved (${RESERVED_DATABASES.join(', ')})`;
  return undefined;
}

/** Why the account is kept for the system, if it is. */
export function reservedUser(name: string, host = '%'): string | undefined {
  if (reservedUsers.has(name.toLowerCase()) || name.toLowerCase().startsWith(REPLICATION_USER_PREFIX)) {
    return `user "${name}" is reserved (${RESERVED_USERS.join(', ')} and ${REPLICATION_USER_PREFIX}* are the system's own accounts)`;
  }
  if (reservedHosts.has(host.toLowerCase())) return `host "${host}" is reserved (${RESERVED_HOSTS.join(', ')} accounts are the server's own)`;
  return undefined;
}

/** "name@host" as Trove prints an account (and names it in URLs). */
export const accountName = (u: { name: string; host: string }): string => `${u.name}@${u.host}`;

/**
 * The account a URL segment names, as Trove reads it (unquote_user_host): "name@host", the
 * last "@" splitting; without one, or with nothing after it, the host is "%". The segment
 * comes already percent-decoded (the client quotes it, "." as %2e).
 */
export function parseUserRef(segment: string): { name: string; host: string } {
  const at = segment.lastIndexOf('@');
  if (at < 0 || at === segment.length - 1) return { name: segment, host: '%' };
  return { name: segment.slice(0, at), host: segment.slice(at + 1) };
}

// --- The workflow's input -------------------------------------------------------------

const account = z.object({ name: userName, host: userHost.default('%') }).strict();
/** Character sets and collations are SQL words: letters, digits and "_" keep them safe to interpolate. */
const sqlWord = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must match ^[A-Za-z0-9_]{1,64}$ (a character set or collation name)');

const actions = () =>
  [
  z.object({ kind: z.literal('listDatabases') }).strict(),
  z.object({ kind: z.literal('listUsers') }).strict(),
  z.object({ kind: z.literal('showUser'), user: account }).strict(),
  z.object({ kind: z.literal('showAccess'), user: account }).strict(),
  z
    .object({
      kind: z.literal('createDatabases'),
      databases: z.array(z.object({ name: databaseName, characterSet: sqlWord.optional(), collate: sqlWord.optional() }).strict()).min(1).max(64),
    })
    .strict(),
  z.object({ kind: z.literal('deleteDatabase'), name: databaseName }).strict(),
  z.object({ kind: z.literal('createUsers'), users: z.array(userSpec).min(1).max(64) }).strict(),
  z.object({ kind: z.literal('deleteUser'), user: account }).strict(),
  z.object({ kind: z.literal('grantAccess'), user: account, databases: z.array(databaseName).min(1).max(64) }).strict(),
  z.object({ kind: z.literal('revokeAccess'), user: account, database: databaseName }).strict(),
  z.object({ kind: z.literal('changePasswords'), users: z.array(account.extend({ sealedPassword: sealedSecret }).strict()).min(1).max(64) }).strict(),
  z
    .object({ kind: z.literal('updateUser'), user: account, newName: userName.optional(), newHost: userHost.optional(), sealedPassword: sealedSecret.optional() })
    .strict()
    .refine((a) => a.newName !== undefined || a.newHost !== undefined || a.sealedPassword !== undefined, 'give at least one of newName, newHost, sealedPassword'),
  ] as const;

export const accessAction = z.lazy(() => z.discriminatedUnion('kind', actions()));

export type AccessAction =
  | { kind: 'listDatabases' }
  | { kind: 'listUsers' }
  | { kind: 'showUser'; user: Account }
  | { kind: 'showAccess'; user: Account }
  | { kind: 'createDatabases'; databases: { name: string; characterSet?: string; collate?: string }[] }
  | { kind: 'deleteDatabase'; name: string }
  | { kind: 'createUsers'; users: z.input<typeof userSpec>[] }
  | { kind: 'deleteUser'; user: Account }
  | { kind: 'grantAccess'; user: Account; databases: string[] }
  | { kind: 'revokeAccess'; user: Account; database: string }
  | { kind: 'changePasswords'; users: (Account & { sealedPassword: string })[] }
  | { kind: 'updateUser'; user: Account; newName?: string; newHost?: string; sealedPassword?: string };

export interface Account {
  name: string;
  host: string;
}

const READS = new Set<AccessAction['kind']>(['listDatabases', 'listUsers', 'showUser', 'showAccess']);
/** Reads take no lock and change nothing; every other action is a change. */
export const isChange = (a: { kind: AccessAction['kind'] }): boolean => !READS.has(a.kind);

export const manageAccessInput = z.lazy(() =>
  z
    .object({
      instanceId: uuid,
      projectId,
      /** The server the API found the instance on (a change reads it again under the lock). */
      novaServerId: z.string().min(1),
      action: accessAction,
    })
    .strict(),
);
export interface ManageAccessInput {
  instanceId: string;
  projectId: string;
  novaServerId: string;
  action: AccessAction;
}

// --- What a server has, and what the workflow answers ---------------------------------

export interface UserView {
  name: string;
  host: string;
  databases: { name: string }[];
}

/** A server's databases and users, reserved ones left out (what its guest agent reports). */
export interface AccessState {
  databases: string[];
  users: { name: string; host: string; databases: string[] }[];
}

export interface ManageAccessResult {
  databases?: { name: string }[];
  users?: UserView[];
  user?: UserView;
}

/** Leaves out what is the system's own, and sorts as Trove pages (databases by name, users by name@host). */
export function visibleState(raw: AccessState): AccessState {
  const databases = raw.databases.filter((d) => !reservedDatabase(d)).sort();
  const users = raw.users
    .filter((u) => !reservedUser(u.name, u.host))
    .map((u) => ({ ...u, databases: [...u.databases].sort() }))
    .sort((a, b) => (accountName(a) < accountName(b) ? -1 : accountName(a) > accountName(b) ? 1 : 0));
  return { databases, users };
}

const userView = (u: AccessState['users'][number]): UserView => ({ name: u.name, host: u.host, databases: u.databases.map((name) => ({ name })) });

/** A refusal that depends on what the server has: 404 for the account or database addressed, 400 for the rest. */
export interface AccessProblem {
  kind: 'missing' | 'invalid';
  message: string;
}

const missingUser = (u: Account): AccessProblem => ({ kind: 'missing', message: `User ${accountName(u)} cannot be found on the instance.` });
const find = (s: AccessState, u: Account) => s.users.find((x) => x.name === u.name && x.host === u.host);

/** What the action meets on the server that refuses it, before anything changes; undefined: go ahead. */
export function accessProblem(a: AccessAction, s: AccessState): AccessProblem | undefined {
  const invalid = (message: string): AccessProblem => ({ kind: 'invalid', message });
  const hasDb = new Set(s.databases);
  const reserved = (...why: (string | undefined)[]) => why.find(Boolean);
  switch (a.kind) {
    case 'listDatabases':
    case 'listUsers':
      return undefined;
    case 'showUser':
    case 'showAccess':
    case 'deleteUser': {
      const r = reserved(reservedUser(a.user.name, a.user.host));
      if (r) return invalid(r);
      return find(s, a.user) ? undefined : missingUser(a.user);
    }
    case 'createDatabases': {
      const seen = new Set<string>();
      for (const [i, d] of a.databases.entries()) {
        const r = reservedDatabase(d.name);
        if (r) return invalid(`databases[${i}].name: ${r}`);
        if (seen.has(d.name)) return invalid(`databases[${i}].name: "${d.name}" is given twice`);
        seen.add(d.name);
      }
      return undefined;
    }
    case 'deleteDatabase': {
      const r = reservedDatabase(a.name);
      if (r) return invalid(r);
      return hasDb.has(a.name) ? undefined : { kind: 'missing', message: `Database ${a.name} cannot be found on the instance.` };
    }
    case 'createUsers': {
      const seen = new Set<string>();
      for (const [i, u] of a.users.entries()) {
        const host = u.host ?? '%';
        const r = reservedUser(u.name, host);
        if (r) return invalid(`users[${i}]: ${r}`);
        const id = accountName({ name: u.name, host });
        if (seen.has(id)) return invalid(`users[${i}]: ${id} is given twice`);
        seen.add(id);
        if (find(s, { name: u.name, host })) return invalid(`users[${i}]: a user with the name "${u.name}" and host "${host}" already exists`);
        const unknown = (u.databases ?? []).find((d) => !hasDb.has(d));
        if (unknown !== undefined) return invalid(`users[${i}].databases: database "${unknown}" does not exist on the instance`);
      }
      return undefined;
    }
    case 'grantAccess': {
      const r = reserved(reservedUser(a.user.name, a.user.host), ...a.databases.map(reservedDatabase));
      if (r) return invalid(r);
      if (!find(s, a.user)) return missingUser(a.user);
      const unknown = a.databases.filter((d) => !hasDb.has(d));
      return unknown.length ? invalid(`databases: ${unknown.map((d) => `"${d}"`).join(', ')} ${unknown.length > 1 ? 'do' : 'does'} not exist on the instance`) : undefined;
    }
    case 'revokeAccess': {
      const r = reserved(reservedUser(a.user.name, a.user.host), reservedDatabase(a.database));
      if (r) return invalid(r);
      const u = find(s, a.user);
      if (!u) return missingUser(a.user);
      return u.databases.includes(a.database) ? undefined : { kind: 'missing', message: `Database ${a.database} cannot be found in the access of user ${accountName(a.user)}.` };
    }
    case 'changePasswords': {
      for (const [i, u] of a.users.entries()) {
        const r = reservedUser(u.name, u.host);
        if (r) return invalid(`users[${i}]: ${r}`);
        if (!find(s, u)) return missingUser(u);
      }
      return undefined;
    }
    case 'updateUser': {
      const target = { name: a.newName ?? a.user.name, host: a.newHost ?? a.user.host };
      const r = reserved(reservedUser(a.user.name, a.user.host), reservedUser(target.name, target.host));
      if (r) return invalid(r);
      if (!find(s, a.user)) return missingUser(a.user);
      const renamed = target.name !== a.user.name || target.host !== a.user.host;
      if (renamed && find(s, target)) return invalid(`a user with the name "${target.name}" and host "${target.host}" already exists`);
      return undefined;
    }
  }
}

/** What a read answers, from the server's state (the problems above already ruled out). */
export function readAnswer(a: AccessAction, s: AccessState): ManageAccessResult {
  switch (a.kind) {
    case 'listDatabases':
      return { databases: s.databases.map((name) => ({ name })) };
    case 'listUsers':
      return { users: s.users.map(userView) };
    case 'showUser':
      return { user: userView(find(s, a.user)!) };
    case 'showAccess':
      return { databases: find(s, a.user)!.databases.map((name) => ({ name })) };
    default:
      return {};
  }
}

// --- Paging, as Trove pages these lists -----------------------------------------------

/** Trove's users_page_size and databases_page_size: a page holds at most this many, whatever limit asks. */
export const ACCESS_PAGE_SIZE = 20;

/**
 * One page of a list sorted by `key`: the items after `marker` (never the marker itself),
 * at most min(limit, ACCESS_PAGE_SIZE); `next` is the marker of the page after, when there is one.
 */
export function paginate<T>(items: T[], key: (t: T) => string, opts: { limit?: number; marker?: string }): { page: T[]; next?: string } {
  const size = Math.min(opts.limit ?? ACCESS_PAGE_SIZE, ACCESS_PAGE_SIZE);
  const from = opts.marker === undefined ? 0 : items.findIndex((t) => key(t) > opts.marker!);
  const rest = from < 0 ? [] : items.slice(from);
  if (rest.length <= size) return { page: rest };
  const page = rest.slice(0, size);
  return { page, next: key(page[page.length - 1]!) };
}
