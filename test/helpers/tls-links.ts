// Replication links over TLS as MariaDB reports them, for the TLS tests of one stack.
import { adminQuery } from './mysql';
import { eventually, novaServerOf, type TestStack } from './stack';

export function tlsLinks(env: TestStack) {
  async function slaveStatus(id: string): Promise<Record<string, any>> {
    const [s] = await adminQuery<Record<string, any>>(env.dataDir, await novaServerOf(env, id), 'SHOW SLAVE STATUS');
    return s as Record<string, any>;
  }

  /** The link into `replica` runs, verified TLS with a CA file, from `sourceIp`. */
  async function expectTlsLink(replica: string, sourceIp: string) {
    await eventually(`${replica} replicating over TLS`, async () => {
      const s = await slaveStatus(replica);
      return s?.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes' ? s : undefined;
    }, 60_000);
    const s = await slaveStatus(replica);
    expect({ host: s.Master_Host, ssl: s.Master_SSL_Allowed, verify: s.Master_SSL_Verify_Server_Cert, ca: Boolean(s.Master_SSL_CA_File), ioError: s.Last_IO_Error }).toEqual({
      host: sourceIp,
      ssl: 'Yes',
      verify: 'Yes',
      ca: true,
      ioError: '',
    });
  }

  return { slaveStatus, expectTlsLink };
}
