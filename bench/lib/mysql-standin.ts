// A MySQL-protocol stand-in for replication set members, good enough for the watch's reads
// (issue 17's scale rows, where a real mariadbd per member does not fit): it greets (the
// orchestrator's probe), accepts the monitoring account, and answers the two statements of
// activities/guest/replica-status.ts readReplicaStatus from a scripted state. Many members
// live in one process, one port each. The server side of the protocol is mysql2's own
// (createServer), the client library the orchestrator reads with.
import * as net from 'node:net';
// mysql2's Server, built here so its connections get a one-entry prepared-statement cache:
// the default (16,000) preallocates about 1 MB per connection, 2 GB for 2,000 members.
import * as mysql2 from 'mysql2';

const { Connection: MysqlConnection, ConnectionConfig } = mysql2 as unknown as { Connection: new (o: object) => Conn; ConnectionConfig: new (o: object) => object };

export type StandInState = 'alive' | 'dead' | 'lagging';

export interface StandInMember {
  id: string;
  port: number;
  serverId: number;
  /** The member it replicates from (its id); absent: a source. */
  sourceId?: string;
}

// Column types (mysql protocol): what mariadbd sends for these columns, so mysql2 parses numbers as numbers.
const VARCHAR = 0xfd;
// Protocol 4.1 and its auth, plus several statements per query and several results (the watch sends its two reads at once).
const CAPABILITIES = 0xf7ff | 0x10000 | 0x20000;
const AUTOCOMMIT = 0x0002;
const MORE_RESULTS = 0x0008;
const LONGLONG = 0x08;
const UTF8 = 33;

const column = (name: string, type: number) => ({ catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: name, characterSet: UTF8, columnLength: 255, columnType: type, flags: 0, decimals: 0 });

// Every column MariaDB 10.11 answers SHOW SLAVE STATUS with (54), so the client parses as much as from a real server.
const SLAVE_COLUMN_NAMES = [
  'Slave_IO_State', 'Master_Host', 'Master_User', 'Master_Port', 'Connect_Retry', 'Master_Log_File', 'Read_Master_Log_Pos', 'Relay_Log_File',
  'Relay_Log_Pos', 'Relay_Master_Log_File', 'Slave_IO_Running', 'Slave_SQL_Running', 'Replicate_Rewrite_DB', 'Replicate_Do_DB', 'Replicate_Ignore_DB',
  'Replicate_Do_Table', 'Replicate_Ignore_Table', 'Replicate_Wild_Do_Table', 'Replicate_Wild_Ignore_Table', 'Last_Errno', 'Last_Error', 'Skip_Counter',
  'Exec_Master_Log_Pos', 'Relay_Log_Space', 'Until_Condition', 'Until_Log_File', 'Until_Log_Pos', 'Master_SSL_Allowed', 'Master_SSL_CA_File',
  'Master_SSL_CA_Path', 'Master_SSL_Cert', 'Master_SSL_Cipher', 'Master_SSL_Key', 'Seconds_Behind_Master', 'Master_SSL_Verify_Server_Cert',
  'Last_IO_Errno', 'Last_IO_Error', 'Last_SQL_Errno', 'Last_SQL_Error', 'Replicate_Ignore_Server_Ids', 'Master_Server_Id', 'Master_SSL_Crl',
  'Master_SSL_Crlpath', 'Using_Gtid', 'Gtid_IO_Pos', 'Replicate_Do_Domain_Ids', 'Replicate_Ignore_Domain_Ids', 'Parallel_Mode', 'SQL_Delay',
  'SQL_Remaining_Delay', 'Slave_SQL_Running_State', 'Slave_DDL_Groups', 'Slave_Non_Transactional_Groups', 'Slave_Transactional_Groups',
];
const NUMERIC = new Set(['Master_Port', 'Connect_Retry', 'Read_Master_Log_Pos', 'Relay_Log_Pos', 'Last_Errno', 'Skip_Counter', 'Exec_Master_Log_Pos', 'Relay_Log_Space', 'Until_Log_Pos', 'Seconds_Behind_Master', 'Last_IO_Errno', 'Last_SQL_Errno', 'Master_Server_Id', 'SQL_Delay', 'SQL_Remaining_Delay', 'Slave_DDL_Groups', 'Slave_Non_Transactional_Groups', 'Slave_Transactional_Groups']);
const SLAVE_COLUMNS = SLAVE_COLUMN_NAMES.map((n) => [n, NUMERIC.has(n) ? LONGLONG : VARCHAR] as const);
const VAR_COLUMNS = [['slave', VARCHAR], ['binlog', VARCHAR], ['ro', LONGLONG], ['sid', LONGLONG], ['ssm', LONGLONG], ['sss', LONGLONG]] as const;

interface Conn {
  stream: net.Socket;
  serverHandshake(args: object): void;
  on(event: 'query', cb: (sql: string) => void): void;
  on(event: 'error' | 'end', cb: () => void): void;
  writeColumns(columns: object[]): void;
  writeTextRow(values: unknown[]): void;
  writeEof(warnings?: number, statusFlags?: number): void;
  writeOk(): void;
  writeError(e: { message: string; code: number }): void;
  write(b: Buffer): void;
}

interface Running {
  member: StandInMember;
  state: StandInState;
  server: net.Server | null;
  sockets: Set<net.Socket>;
  /** Answers already written, by state and query (answer()). */
  answers: Map<string, Buffer>;
}

export class StandIns {
  private readonly members = new Map<string, Running>();
  private connectionId = 1;
  /** Statements answered (the load the watch puts on its members). */
  queries = 0;
  /** Queries answered, one per round trip whatever its statements (a watch's read of a member: two statements for a replica, one for a source). */
  reads = 0;
  /** Connections accepted (the watch's probes, and its reads' reconnects). */
  connections = 0;
  /** Since mark(): each member's first statement on a connection opened after the mark (a new watcher's first read). */
  private markedAt = Infinity;
  private readonly firstAfterMark = new Map<string, number>();

  constructor(private readonly host = '127.0.0.1') {}

  /** Port 0: any free port. Returns the port it listens on. */
  async add(m: StandInMember): Promise<number> {
    const r: Running = { member: { ...m }, state: 'alive', server: null, sockets: new Set(), answers: new Map() };
    this.members.set(m.id, r);
    await this.listen(r);
    return r.member.port;
  }

  mark(at = Date.now()): void {
    this.markedAt = at;
    this.firstAfterMark.clear();
  }

  marked(): Record<string, number> {
    return Object.fromEntries(this.firstAfterMark);
  }

  /**
   * dead: the port refuses and every open connection is closed (a crashed server: FIN, as the
   * kernel closes a killed process's sockets, or RST with `reset`); its replicas' IO threads
   * reconnect in vain.
   */
  async set(id: string, state: StandInState, o: { reset?: boolean } = {}): Promise<void> {
    const r = this.members.get(id);
    if (!r) throw new Error(`no stand-in ${id}`);
    const was = r.state;
    r.state = state;
    if (state === 'dead' && was !== 'dead') {
      const server = r.server;
      r.server = null;
      for (const s of r.sockets) {
        if (o.reset) s.resetAndDestroy();
        else s.destroy();
      }
      r.sockets.clear();
      await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
    } else if (state !== 'dead' && was === 'dead') {
      await this.listen(r);
    }
  }

  state(id: string): StandInState | undefined {
    return this.members.get(id)?.state;
  }

  async close(): Promise<void> {
    for (const id of this.members.keys()) await this.set(id, 'dead');
    this.members.clear();
  }

  private listen(r: Running): Promise<void> {
    const server = net.createServer((socket) => {
      const conn = new MysqlConnection({ config: new ConnectionConfig({ stream: socket, isServer: true, maxPreparedStatements: 1 }) });
      if (r.state === 'dead') return socket.destroy();
      r.sockets.add(socket);
      this.connections++;
      const acceptedAt = Date.now();
      socket.on('close', () => r.sockets.delete(socket));
      conn.on('error', () => socket.destroy());
      // mysql2's server never ends its handshake command, so it would not restart the packet
      // sequence for each command as the protocol asks: it is restarted here, after the
      // handshake's OK and after every answer.
      const restart = () => ((conn as unknown as { sequenceId: number }).sequenceId = 0);
      // Any user and password is accepted: the stand-in checks no credentials.
      const authCallback = (_: unknown, done: (err: null) => void) => {
        done(null);
        restart();
      };
      conn.serverHandshake({ protocolVersion: 10, serverVersion: '10.11.99-MariaDB-standin', connectionId: this.connectionId++, statusFlags: 2, characterSet: UTF8, capabilityFlags: CAPABILITIES, authCallback });
      conn.on('query', (sql) => {
        if (acceptedAt >= this.markedAt && !this.firstAfterMark.has(r.member.id)) this.firstAfterMark.set(r.member.id, Date.now());
        this.answer(r, conn, sql);
        restart();
      });
    });
    r.server = server;
    return new Promise((resolve, reject) => {
      const s = server;
      s.once('error', reject);
      s.listen(r.member.port, this.host, () => {
        // A member brought back comes back on the same port.
        r.member.port = (s.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /**
   * A query of one or more statements: each answered in turn, every result but the last saying
   * more follow. The answer goes out in one write, as mariadbd sends a result from its net
   * buffer (mysql2's server writes every packet on its own: a segment per column on loopback,
   * which made the client pay a read per column), and its bytes are kept for the next same
   * query in the same state: the stand-ins share the watch's cores, and the bench measures the
   * watch, not them.
   */
  private answer(r: Running, conn: Conn, sql: string): void {
    const source = r.member.sourceId ? this.members.get(r.member.sourceId) : undefined;
    const key = `${r.state}|${source ? `${source.state}:${source.member.port}` : ''}|${sql}`;
    const statements = sql.split(';').map((x) => x.trim()).filter(Boolean);
    this.reads++;
    let bytes = r.answers.get(key);
    if (bytes) this.queries += statements.length;
    else {
      const parts: Buffer[] = [];
      const write = conn.write;
      conn.write = (b: Buffer) => void parts.push(Buffer.from(b));
      try {
        statements.forEach((st, i) => {
          if (!this.statement(r, conn, st, i < statements.length - 1)) {
            // The connection's own setup (mysql2 sends none by default) and anything else: an error the client reports (and no more results).
            conn.writeError({ message: `stand-in does not answer: ${st.slice(0, 80)}`, code: 1064 });
          }
        });
      } finally {
        conn.write = write;
      }
      bytes = Buffer.concat(parts);
      r.answers.set(key, bytes);
    }
    conn.stream.write(bytes);
  }

  private statement(r: Running, conn: Conn, sql: string, more: boolean): boolean {
    this.queries++;
    const end = () => (conn.writeEof(0, AUTOCOMMIT | (more ? MORE_RESULTS : 0)), true);
    const m = r.member;
    const q = sql.toUpperCase();
    if (q === 'SHOW SLAVE STATUS' || q === 'SHOW ALL SLAVES STATUS') {
      conn.writeColumns(SLAVE_COLUMNS.map(([n, t]) => column(n, t)));
      if (m.sourceId) {
        const source = this.members.get(m.sourceId);
        const up = source?.state !== 'dead';
        const lag = r.state === 'lagging' ? 120 : 0;
        const row: Record<string, unknown> = {
          Slave_IO_State: up ? 'Waiting for master to send event' : 'Reconnecting after a failed master event read',
          Master_Host: this.host,
          Master_User: 'repl',
          Master_Port: source?.member.port ?? 3306,
          Slave_IO_Running: up ? 'Yes' : 'Connecting',
          Slave_SQL_Running: 'Yes',
          Last_IO_Errno: up ? 0 : 2003,
          Last_IO_Error: up ? '' : `error reconnecting to master 'repl@${this.host}:${source?.member.port}' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '${this.host}' (111 "Connection refused")`,
          Last_SQL_Errno: 0,
          Last_SQL_Error: '',
          Seconds_Behind_Master: up ? lag : null,
          Master_SSL_Allowed: 'No',
          Master_SSL_Verify_Server_Cert: 'No',
          Master_Server_Id: source?.member.serverId ?? 0,
          Using_Gtid: 'Slave_Pos',
          Gtid_IO_Pos: `0-${source?.member.serverId ?? 0}-100`,
        };
        conn.writeTextRow(SLAVE_COLUMNS.map(([n]) => (n in row ? row[n] : NUMERIC.has(n) ? 0 : '')));
      }
      return end();
    }
    if (q.startsWith('SELECT @@GLOBAL.GTID_SLAVE_POS')) {
      const sourceServerId = m.sourceId ? (this.members.get(m.sourceId)?.member.serverId ?? 0) : m.serverId;
      conn.writeColumns(VAR_COLUMNS.map(([n, t]) => column(n, t)));
      conn.writeTextRow([`0-${sourceServerId}-100`, `0-${sourceServerId}-100`, m.sourceId ? 1 : 0, m.serverId, 0, 0]);
      return end();
    }
    return false;
  }
}
