// A replication set's certificate authority: the certificate every member's server
// certificate is signed by (public; `show` hands it to clients) and its private key, sealed.
import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface SetAuthority {
  certificatePem: string;
  sealedKey: string;
}

/** A member's current server certificate, as issued (public facts). */
export interface ServerCertificate {
  instanceId: string;
  serial: string;
  notAfter: Date;
  issued: Date;
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

  /** The CA a rotation replaces the set's with, while the rotation runs. */
  async nextAuthority(setId: string): Promise<SetAuthority | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT next_ca_certificate, next_sealed_ca_key FROM replication_sets WHERE id = ?', [setId]);
    const r = rows[0];
    return r?.next_ca_certificate && r.next_sealed_ca_key ? { certificatePem: r.next_ca_certificate, sealedKey: r.next_sealed_ca_key } : undefined;
  }

  /** Records the next CA unless a rotation has one already: a rotation asked again finishes with the first. */
  async putNextAuthority(setId: string, a: SetAuthority): Promise<SetAuthority | undefined> {
    await this.pool.query('UPDATE replication_sets SET next_ca_certificate = ?, next_sealed_ca_key = ? WHERE id = ? AND ca_certificate IS NOT NULL AND next_ca_certificate IS NULL', [
      a.certificatePem,
      a.sealedKey,
      setId,
    ]);
    return this.nextAuthority(setId);
  }

  /**
   * The next CA becomes the set's (the old one is forgotten, key and all). Only the rotation
   * that installed `certificatePem` everywhere completes it; a retry after it did finds it done.
   */
  async completeRotation(setId: string, certificatePem: string): Promise<boolean> {
    await this.pool.query(
      'UPDATE replication_sets SET ca_certificate = next_ca_certificate, sealed_ca_key = next_sealed_ca_key, next_ca_certificate = NULL, next_sealed_ca_key = NULL WHERE id = ? AND next_ca_certificate = ?',
      [setId, certificatePem],
    );
    return (await this.authority(setId))?.certificatePem === certificatePem;
  }

  /** The set's CA certificate, only once every link runs TLS (what `show` gives clients). */
  async tlsCertificate(setId: string): Promise<string | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT ca_certificate FROM replication_sets WHERE id = ? AND tls = 1', [setId]);
    return rows[0]?.ca_certificate ?? undefined;
  }

  /** Records the certificate just issued to a member (the last one issued is the one it serves). */
  async recordServer(instanceId: string, setId: string, c: { serial: string; notAfter: Date }): Promise<void> {
    await this.pool.query(
      'INSERT INTO server_certificates (instance_id, set_id, serial, not_after) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE set_id = VALUES(set_id), serial = VALUES(serial), not_after = VALUES(not_after), issued = CURRENT_TIMESTAMP(3)',
      [instanceId, setId, c.serial, c.notAfter],
    );
  }

  /** The server certificates of the set's members (a member that left keeps none here). */
  async serverCertificates(setId: string): Promise<ServerCertificate[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT c.instance_id, c.serial, c.not_after, c.issued FROM server_certificates c JOIN instances i ON i.id = c.instance_id AND i.replication_set_id = ? WHERE c.set_id = ? ORDER BY c.instance_id',
      [setId, setId],
    );
    return rows.map((r) => ({ instanceId: r.instance_id as string, serial: r.serial as string, notAfter: new Date(r.not_after), issued: new Date(r.issued) }));
  }
}
