// The users API on the database host (manageAccess): what the server has, and the change
// asked for. The workflow reads the state first and refuses with the pure rules of
// lib/access.ts, so a change here only meets what was checked (the instance's lock keeps
// other changes out meanwhile); each change is idempotent, so a retry converges.
import { ApplicationFailure } from '@temporalio/common';
import type { Connection } from 'mysql2/promise';
import { visibleState, type AccessAction, type AccessState } from '../../lib/access';
import { ErrorType } from '../../lib/errors';
import { accountSql, createDatabase, ensureUser, grantAll, passwordHashOf, setPassword } from './accounts';
import { quoteIdent } from './mariadb-config';
import { queryRows, withAdmin, type GuestDeps } from './server';

/** MariaDB's ER_NONEXISTING_GRANT: a revoke that a lost answer made us repeat finds nothing to revoke. */
const ER_NONEXISTING_GRANT = 1141;

async function readState(c: Connection): Promise<AccessState> {
  const dbs = await queryRows<{ name: string }>(c, 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA');
  const users = await queryRows<{ name: string; host: string }>(c, "SELECT User AS name, Host AS host FROM mysql.user WHERE is_role = 'N'");
  const grants = await queryRows<{ name: string; host: string; db: string }>(c, 'SELECT User AS name, Host AS host, Db AS db FROM mysql.db');
  return visibleState({
    databases: dbs.map((r) => r.name),
    users: users.map((u) => ({ ...u, databases: grants.filter((g) => g.name === u.name && g.host === u.host).map((g) => g.db) })),
  });
}

/** Unknown character sets and collations are refused before any database is made. */
async function checkCharsets(c: Connection, dbs: { characterSet?: string; collate?: string }[]): Promise<void> {
  for (const [i, db] of dbs.entries()) {
    if (db.characterSet && !(await queryRows(c, 'SELECT 1 FROM information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME = ?', [db.characterSet])).length) {
      throw ApplicationFailure.nonRetryable(`databases[${i}].character_set: "${db.characterSet}" is not a character set of this MariaDB`, ErrorType.InvalidInput);
    }
    if (db.collate) {
      const [col] = await queryRows<{ cs: string }>(c, 'SELECT CHARACTER_SET_NAME AS cs FROM information_schema.COLLATIONS WHERE COLLATION_NAME = ?', [db.collate]);
      if (!col) throw ApplicationFailure.nonRetryable(`databases[${i}].collate: "${db.collate}" is not a collation of this MariaDB`, ErrorType.InvalidInput);
      if (db.characterSet && col.cs !== db.characterSet) {
        throw ApplicationFailure.nonRetryable(`databases[${i}].collate: "${db.collate}" is a collation of ${col.cs}, not of ${db.characterSet}`, ErrorType.InvalidInput);
      }
    }
  }
}

async function apply(c: Connection, d: GuestDeps, a: AccessAction): Promise<void> {
  switch (a.kind) {
    case 'createDatabases':
      await checkCharsets(c, a.databases);
      for (const db of a.databases) await createDatabase(c, db);
      return;
    case 'deleteDatabase':
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(a.name)}`);
      return;
    case 'createUsers':
      for (const u of a.users) await ensureUser(c, d, { ...u, host: u.host ?? '%', databases: u.databases ?? [] });
      return;
    case 'deleteUser':
      await c.query(`DROP USER IF EXISTS ${accountSql(a.user)}`);
      return;
    case 'grantAccess':
      for (const db of a.databases) await grantAll(c, a.user, db);
      return;
    case 'revokeAccess':
      try {
        await c.query(`REVOKE ALL PRIVILEGES ON ${quoteIdent(a.database)}.* FROM ${accountSql(a.user)}`);
      } catch (err) {
        if ((err as { errno?: number }).errno !== ER_NONEXISTING_GRANT) throw err;
      }
      return;
    case 'changePasswords':
      for (const u of a.users) await setPassword(c, d, u);
      return;
    case 'updateUser': {
      const target = { name: a.newName ?? a.user.name, host: a.newHost ?? a.user.host };
      const hash = a.sealedPassword === undefined ? undefined : passwordHashOf(d, target.name, a.sealedPassword);
      const exists = async (u: { name: string; host: string }) => (await queryRows(c, 'SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [u.name, u.host])).length > 0;
      // RENAME USER keeps the grants; a retry finds it renamed already.
      if ((target.name !== a.user.name || target.host !== a.user.host) && (await exists(a.user)) && !(await exists(target))) {
        await c.query(`RENAME USER ${accountSql(a.user)} TO ${accountSql(target)}`);
      }
      if (hash) await c.query(`ALTER USER ${accountSql(target)} IDENTIFIED BY PASSWORD '${hash}'`);
      return;
    }
    default:
      throw ApplicationFailure.nonRetryable(`${a.kind} changes nothing`, ErrorType.InvalidInput);
  }
}

export function createAccessActivities(d: GuestDeps) {
  return {
    /** The server's databases and users (each with the databases it is granted), the system's own left out. */
    async accessState(): Promise<AccessState> {
      return withAdmin(d, readState);
    },

    /** Makes the change (checked by the workflow against accessState); idempotent. */
    async changeAccess(action: AccessAction): Promise<{ done: AccessAction['kind'] }> {
      await withAdmin(d, (c) => apply(c, d, action));
      // Said, so that the Web UI shows what was done rather than a null result.
      return { done: action.kind };
    },
  };
}

export type AccessActivities = ReturnType<typeof createAccessActivities>;
