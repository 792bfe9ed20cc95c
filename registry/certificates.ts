// A replication set's certificate authority: the certificate every member's server
// certificate is signed by (public; `show` hands it to clients) and its private key, sealed.
import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface SetAuthority {
  certificatePem: string;
  sealedKey: string;
}

export class CertificateStore {
  constructor(private readonly pool: Pool) {}

  async authority(setId: string): Promise<SetAuthority | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT ca_certificate, sealed_ca_key FROM replication_sets WHERE id = ?', [setId]);
    const r = rows[0];
    return r?.ca_certificate && r.sealed_ca_key ? { certificatePem: r.ca_certificate, sealedKey: r.sealed_ca_key } : undefined;
  }

  /** Records the set's authority unless it has one: a retry keeps the first (signed certificates name it). */
  async putAuthority(setId: string, a: SetAuthority): Promise<SetAuthority | undefined> {
    await this.pool.query('UPDATE replication_sets SET ca_certificate = ?, sealed_ca_key = ? WHERE id = ? AND ca_certificate IS NULL', [a.certificatePem, a.sealedKey, setId]);
    return this.authority(setId);
  }

  /** The set's CA certificate, only once every link runs TLS (what `show` gives clients). */
  async tlsCertificate(setId: string): Promise<string | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT ca_certificate FROM replication_sets WHERE id = ? AND tls = 1', [setId]);
    return rows[0]?.ca_certificate ?? undefined;
  }
}
