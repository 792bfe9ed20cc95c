// Renders the server's option file and its start-up SQL. Pure, so the rules (buffer pool
// from flavor RAM, GTID strictness, read_only) are unit-tested without a server.
import { createHash } from 'node:crypto';
import { ADMIN_USER } from '../../lib/names';
import type { SemiSyncRole } from '../../lib/semi-sync';
import type { ServerLayout } from './layout';

export { ADMIN_USER };
export const MYSQL_PORT = 3306;

export type { SemiSyncRole };

export interface MariadbOptions {
  serverId: number;
  address: string;
  flavorRamMb: number;
  readOnly: boolean;
  semiSync?: SemiSyncRole;
  /** A side of a master-master pair writes in a GTID domain of its own, so the two sides' positions never collide. */
  gtidDomainId?: number;
}

/** How long a semi-sync source waits for an ack before falling back to async (MariaDB's default). */
export const SEMI_SYNC_TIMEOUT_MS = 10_000;

/**
 * Semi-sync as mysql-ha-anchors.md section 5 asks: AFTER_SYNC on the source (an ack means a
 * replica has the transaction before any client sees it committed), and a synced relay
 * log on replicas so an acked transaction survives a replica crash.
 */
export function semiSyncLines(role: SemiSyncRole): string[] {
  if (role === 'source') {
    return ['rpl_semi_sync_master_enabled = ON', 'rpl_semi_sync_master_wait_point = AFTER_SYNC', `rpl_semi_sync_master_timeout = ${SEMI_SYNC_TIMEOUT_MS}`];
  }
  if (role === 'replica') return ['rpl_semi_sync_slave_enabled = ON', 'sync_relay_log = 1'];
  return [];
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
    ...(o.gtidDomainId !== undefined ? [`gtid_domain_id = ${o.gtidDomainId}`] : []),
    `read_only = ${o.readOnly ? 'ON' : 'OFF'}`,
    `innodb_buffer_pool_size = ${bufferPoolMb(o.flavorRamMb)}M`,
    'innodb_log_file_size = 48M',
    'skip-name-resolve',
    'performance_schema = OFF',
    'max_connections = 200',
    // A replica notices a silent (hung) source within seconds, not the default minute;
    // CHANGE MASTER sets a 1 s heartbeat to match.
    'slave_net_timeout = 5',
    // Always TLS-capable: MariaDB reads these paths only at start (FLUSH SSL reloads the files
    // they name, it cannot add them), so a set turns TLS on without restarting its servers.
    // The files exist before the first start (a self-signed certificate until the set's CA
    // signs one), or mariadbd would refuse to start.
    `ssl_cert = ${layout.serverCert}`,
    `ssl_key = ${layout.serverKey}`,
    `ssl_ca = ${layout.caCert}`,
    ...semiSyncLines(o.semiSync ?? 'off'),
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
