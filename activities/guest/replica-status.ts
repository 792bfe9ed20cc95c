// A MariaDB server's replication status as the monitor and the operations read it.
import type { Connection } from 'mysql2/promise';

async function queryRows<T>(c: Connection, sql: string): Promise<T[]> {
  const [rows] = await c.query(sql);
  return rows as T[];
}

export interface ReplicaStatus {
  configured: boolean;
  sourceHost: string | null;
  ioRunning: boolean;
  sqlRunning: boolean;
  secondsBehind: number | null;
  lastIoError: string;
  lastSqlError: string;
  gtidSlavePos: string;
  gtidBinlogPos: string;
  gtidIoPos: string;
  readOnly: boolean;
  serverId: number;
  semiSyncSource: boolean;
  semiSyncReplica: boolean;
  /** Replication connects with TLS and verifies the source's certificate. */
  tls: boolean;
}

export interface SlaveStatusRow {
  Master_Host: string;
  Slave_IO_Running: string;
  Slave_SQL_Running: string;
  Seconds_Behind_Master: number | null;
  Last_IO_Error: string;
  Last_SQL_Error: string;
  Gtid_IO_Pos: string;
  Master_SSL_Allowed: string;
  Master_SSL_Verify_Server_Cert: string;
}


export const SLAVE_STATUS_SQL = 'SHOW SLAVE STATUS';
export const STATUS_VARIABLES_SQL =
  'SELECT @@global.gtid_slave_pos AS slave, @@global.gtid_binlog_pos AS binlog, @@global.read_only AS ro, @@global.server_id AS sid, @@global.rpl_semi_sync_master_enabled AS ssm, @@global.rpl_semi_sync_slave_enabled AS sss';
/**
 * Both statements in one round trip, on a connection that allows several statements (the
 * orchestrator's monitoring connection: it reads every member every poll, so a round trip
 * and a query's overhead saved per member count at a thousand sets).
 */
export const REPLICA_STATUS_SQL = `${SLAVE_STATUS_SQL}; ${STATUS_VARIABLES_SQL}`;

export interface StatusVariablesRow {
  slave: string;
  binlog: string;
  ro: number;
  sid: number;
  ssm: number;
  sss: number;
}

/**
 * The server's replication status, read on any connection whose account may see it: the
 * guest's admin, or the orchestrator's monitoring account (SLAVE MONITOR; the variables are
 * readable by every account).
 */
export async function readReplicaStatus(c: Connection): Promise<ReplicaStatus> {
  const [s] = await queryRows<SlaveStatusRow>(c, SLAVE_STATUS_SQL);
  const [v] = await queryRows<StatusVariablesRow>(c, STATUS_VARIABLES_SQL);
  return replicaStatusOf(s, v!);
}

/** The status from SHOW SLAVE STATUS's row (none: not a replica) and the variables' row. */
export function replicaStatusOf(s: SlaveStatusRow | undefined, v: StatusVariablesRow): ReplicaStatus {
  return {
    configured: Boolean(s),
    sourceHost: s?.Master_Host ?? null,
    ioRunning: s?.Slave_IO_Running === 'Yes',
    sqlRunning: s?.Slave_SQL_Running === 'Yes',
    secondsBehind: s?.Seconds_Behind_Master ?? null,
    lastIoError: s?.Last_IO_Error ?? '',
    lastSqlError: s?.Last_SQL_Error ?? '',
    gtidSlavePos: v.slave,
    gtidBinlogPos: v.binlog,
    gtidIoPos: s?.Gtid_IO_Pos ?? '',
    readOnly: Boolean(v.ro),
    serverId: Number(v.sid),
    semiSyncSource: Boolean(v.ssm),
    semiSyncReplica: Boolean(v.sss),
    tls: s?.Master_SSL_Allowed === 'Yes' && s?.Master_SSL_Verify_Server_Cert === 'Yes',
  };
}
