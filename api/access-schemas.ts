// Request bodies, path segments and query of Trove's databases and users API, as
// python-troveclient sends them (troveclient/v1/databases.py, users.py). Names, hosts and
// passwords follow the create body's rules (one definition of each); names the system keeps
// for itself are refused here, synchronously, naming the field.
import { z } from 'zod';
import { parseUserRef, reservedDatabase, reservedUser } from '../lib/access';
import { databaseName, userHost, userName } from '../lib/schemas';
import { formatIssues } from '../lib/validation';
import { password } from './schemas';

const notReservedDb = databaseName.superRefine((name, ctx) => {
  const why = reservedDatabase(name);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/** An account the API may address: its name and host pass the patterns and are not the system's. */
const accountFields = <T extends z.ZodRawShape>(extra: T) =>
  z
    .object({ name: userName, host: userHost.default('%'), ...extra })
    .strict()
    .superRefine((value, ctx) => {
      const u = value as { name: string; host: string };
      const why = reservedUser(u.name, u.host);
      if (why) ctx.addIssue({ code: 'custom', path: [reservedUser(u.name) ? 'name' : 'host'], message: why });
    });

/** Character sets and collations are SQL words (MariaDB says whether it knows them). */
const sqlWord = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must match ^[A-Za-z0-9_]{1,64}$ (a character set or collation name)');

const dbRefs = z.array(z.object({ name: notReservedDb }).strict()).max(64);

export const createDatabasesBody = z
  .object({ databases: z.array(z.object({ name: notReservedDb, character_set: sqlWord.optional(), collate: sqlWord.optional() }).strict()).min(1, 'give at least one database').max(64) })
  .strict();

export const createUsersBody = z
  .object({ users: z.array(accountFields({ password, databases: dbRefs.default([]) })).min(1, 'give at least one user').max(64) })
  .strict();

/** PUT /users: new passwords for existing users. */
export const changePasswordsBody = z.object({ users: z.array(accountFields({ password })).min(1, 'give at least one user').max(64) }).strict();

/** PUT /users/{user}: a new name, host or password (python-troveclient sends only those given). */
export const updateUserBody = z
  .object({
    user: z
      .object({ name: userName.optional(), host: userHost.optional(), password: password.optional() })
      .strict()
      .refine((u) => u.name !== undefined || u.host !== undefined || u.password !== undefined, 'give at least one of name, host, password')
      .superRefine((u, ctx) => {
        const nameWhy = u.name === undefined ? undefined : reservedUser(u.name);
        if (nameWhy) ctx.addIssue({ code: 'custom', path: ['name'], message: nameWhy });
        const hostWhy = u.host === undefined ? undefined : reservedUser('x', u.host);
        if (hostWhy) ctx.addIssue({ code: 'custom', path: ['host'], message: hostWhy });
      }),
  })
  .strict();

/** PUT /users/{user}/databases: grant access. */
export const grantBody = z.object({ databases: dbRefs.min(1, 'give at least one database') }).strict();

/** ?limit=&marker= of the list routes. */
export const pageQuery = z
  .object({
    limit: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').optional(),
    marker: z.string().min(1).optional(),
  })
  .passthrough();

/** The {user} segment ("name@host", decoded) as an account, or the problems naming it. */
export function userSegment(segment: string): { user: { name: string; host: string } } | { errors: string[] } {
  const r = accountFields({}).safeParse(parseUserRef(segment));
  if (r.success) return { user: r.data };
  return { errors: formatIssues(r.error).map((e) => `user ${JSON.stringify(segment)}: ${e}`) };
}

/** The {database} segment of a path, or the problems naming it. */
export function databaseSegment(segment: string): { name: string } | { errors: string[] } {
  const r = notReservedDb.safeParse(segment);
  if (r.success) return { name: r.data };
  return { errors: formatIssues(r.error).map((e) => `database ${JSON.stringify(segment)}: ${e.replace(/^\(input\): /, '')}`) };
}
