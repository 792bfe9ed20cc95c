// Renders the server's option file and its start-up SQL. Pure, so the rules (buffer pool
// from flavor RAM, GTID strictness, read_only) are unit-tested without a server.
import { createHash } from 'node:crypto';
import type { ServerLayout } from './layout';

export const MYSQL_PORT = 3306;
export const ADMIN_USER = 'os_admin';

export interface MariadbOptions {
  serverId: number;
  address: string;
  flavorRamMb: number;
  readOnly: boolean;
}

/** Trove's own template sizes the pool at half the flavor's RAM. */
export function bufferPoolMb(flavorRamMb: number): number {
  return Math.max(32, Math.floor(flavorRamMb / 2));
}

export function renderMyCnf(layout: ServerLayout, o: MariadbOptions): string {
  return [
    '# Written by the trove guest agent; changes are overwritten on the next prepare.',
    '[mariadbd]',
    `datadir = ${layout.datadir}`,
    `socket = ${layout.socket}`,
    `pid-file = ${layout.pidFile}`,
    `log-error = ${layout.errorLog}`,
    `init-file = ${layout.initFile}`,
    `bind-address = ${o.address}`,
    `port = ${MYSQL_PORT}`,
    `server_id = ${o.serverId}`,
    'log_bin = mysql-bin',
    'relay_log = relay-bin',
    'binlog_format = ROW',
    'log_slave_updates = ON',
    'gtid_strict_mode = ON',
    `read_only = ${o.readOnly ? 'ON' : 'OFF'}`,
    `innodb_buffer_pool_size = ${bufferPoolMb(o.flavorRamMb)}M`,
    'innodb_log_file_size = 48M',
    'skip-name-resolve',
    'performance_schema = OFF',
    'max_connections = 200',
    '',
  ].join('\n');
}

/** mysql_native_password's stored form, so plaintext never reaches the binlog. */
export function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return '*' + createHash('sha1').update(once).digest('hex').toUpperCase();
}

/**
 * Runs at every start (init-file): keeps the admin account's password equal to the one
 * this server holds, also after a restore from another server's snapshot. sql_log_bin=0
 * keeps these local statements out of the binlog, so they never become errant GTIDs.
 */
export function renderInitSql(adminPasswordHash: string): string {
  return [
    'SET SESSION sql_log_bin = 0;',
    `CREATE USER IF NOT EXISTS '${ADMIN_USER}'@'localhost' IDENTIFIED BY PASSWORD '${adminPasswordHash}';`,
    `ALTER USER '${ADMIN_USER}'@'localhost' IDENTIFIED BY PASSWORD '${adminPasswordHash}';`,
    `GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'localhost' WITH GRANT OPTION;`,
    '',
  ].join('\n');
}

/** Quotes an identifier that already passed the documented name patterns. */
export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
