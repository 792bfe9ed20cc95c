// Where a server's MariaDB keeps its files, all inside the server's own disk folder so
// that deleting the server (Nova) deletes every trace of it.
import * as path from 'node:path';

export interface ServerLayout {
  dir: string;
  datadir: string;
  runDir: string;
  socket: string;
  pidFile: string;
  configFile: string;
  initFile: string;
  errorLog: string;
  adminFile: string;
  preparedMarker: string;
  /** TLS files, outside the datadir: a snapshot never carries a server's key to another server. */
  tlsDir: string;
  serverKey: string;
  serverCert: string;
  caCert: string;
}

export function serverLayout(dir: string): ServerLayout {
  const runDir = path.join(dir, 'run');
  return {
    dir,
    datadir: path.join(dir, 'mysql'),
    runDir,
    socket: path.join(runDir, 'mysqld.sock'),
    pidFile: path.join(runDir, 'mysqld.pid'),
    configFile: path.join(dir, 'my.cnf'),
    initFile: path.join(dir, 'init.sql'),
    errorLog: path.join(dir, 'mysqld.err'),
    adminFile: path.join(dir, 'admin.json'),
    preparedMarker: path.join(dir, 'prepared'),
    tlsDir: path.join(dir, 'tls'),
    serverKey: path.join(dir, 'tls', 'server-key.pem'),
    serverCert: path.join(dir, 'tls', 'server-cert.pem'),
    caCert: path.join(dir, 'tls', 'ca.pem'),
  };
}
