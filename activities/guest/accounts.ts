// Databases and accounts as the guest makes them: provisioning's prepare and the users API
// (manageAccess) share these, so an account is made one way whichever asks. Each statement
// is idempotent, so a retry after a crash converges. Passwords arrive sealed and reach
// MariaDB as mysql_native_password hashes, so no plaintext enters the binlog (the changes
// replicate) or a log.
import { ApplicationFailure } from '@temporalio/common';
import type { Connection } from 'mysql2/promise';
import { ErrorType } from '../../lib/errors';
import { unsealSecret } from '../../lib/secrets';
import { nativePasswordHash, quoteIdent } from './mariadb-config';
import type { GuestDeps } from './server';

/** 'name'@'host' for names and hosts that passed the documented patterns (no quotes in them). */
export const accountSql = (u: { name: string; host: string }): string => `'${u.name}'@'${u.host}'`;

export function passwordHashOf(d: GuestDeps, name: string, sealed: string): string {
  let password: string;
  try {
    password = unsealSecret(d.secretKey, sealed);
  } catch {
    throw ApplicationFailure.nonRetryable(`users: the password of "${name}" cannot be unsealed with this deployment's key`, ErrorType.InvalidInput);
  }
  return nativePasswordHash(password);
}

export async function createDatabase(c: Connection, db: { name: string; characterSet?: string; collate?: string }): Promise<void> {
  const charset = db.characterSet ? ` CHARACTER SET ${db.characterSet}` : '';
  const collate = db.collate ? ` COLLATE ${db.collate}` : '';
  await c.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(db.name)}${charset}${collate}`);
}

export async function setPassword(c: Connection, d: GuestDeps, u: { name: string; host: string; sealedPassword: string }): Promise<void> {
  await c.query(`ALTER USER ${accountSql(u)} IDENTIFIED BY PASSWORD '${passwordHashOf(d, u.name, u.sealedPassword)}'`);
}

export async function grantAll(c: Connection, u: { name: string; host: string }, db: string): Promise<void> {
  await c.query(`GRANT ALL PRIVILEGES ON ${quoteIdent(db)}.* TO ${accountSql(u)}`);
}

/** The account with this password and at least these grants, whether it existed or not. */
export async function ensureUser(c: Connection, d: GuestDeps, u: { name: string; host: string; sealedPassword: string; databases: string[] }): Promise<void> {
  const hash = passwordHashOf(d, u.name, u.sealedPassword);
  await c.query(`CREATE USER IF NOT EXISTS ${accountSql(u)} IDENTIFIED BY PASSWORD '${hash}'`);
  await c.query(`ALTER USER ${accountSql(u)} IDENTIFIED BY PASSWORD '${hash}'`);
  for (const db of u.databases) await grantAll(c, u, db);
}
