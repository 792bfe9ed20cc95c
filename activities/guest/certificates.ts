// A server's certificate from its set's CA: the guest makes the request with the key that
// never leaves the server (tls-identity.ts), the orchestrator signs it, the guest checks and
// installs what comes back and has MariaDB load it.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { isCertificatePem, serverSubject, splitCertificatePems } from '../../lib/certificates';
import { ErrorType } from '../../lib/errors';
import { openssl } from '../tls/openssl';
import { runningPid, startMariadb, stopMariadb } from './mariadb-process';
import { ensureServerIdentity } from './tls-identity';
import { queryRows, withAdmin, writeIfChanged, type GuestDeps } from './server';

export function createCertificateActivities(d: GuestDeps) {
  const { layout } = d;
  return {
    /** A request for a certificate naming this server's address, signed by its own key. */
    async certificateRequest(): Promise<{ address: string; csrPem: string }> {
      await ensureServerIdentity(layout, d.address);
      const csrPem = await openssl(['req', '-new', '-key', layout.serverKey, '-subj', serverSubject(d.address), '-sha256']);
      return { address: d.address, csrPem };
    },

    /**
     * Installs the certificate the set's CA signed and the CA itself (the server's ssl_ca, and
     * what this server verifies its own source with), then has MariaDB load them: FLUSH SSL
     * on a server started with TLS files, a restart on one started before it had them.
     * Refuses a certificate that would not verify: not for this key, not by this CA, or not
     * naming this server's address.
     */
    async installCertificate(input: { certificatePem: string; caCertificatePem: string }): Promise<{ address: string; reloaded: 'flush ssl' | 'restart' | 'next start'; notAfter: string }> {
      if (!isCertificatePem(input.certificatePem)) throw ApplicationFailure.nonRetryable('certificatePem: must be one PEM certificate', ErrorType.InvalidInput);
      const cas = splitCertificatePems(input.caCertificatePem);
      if (!cas) throw ApplicationFailure.nonRetryable('caCertificatePem: must be one or more PEM certificates (the set\'s CA; during a CA rotation, the new and the old)', ErrorType.InvalidInput);
      await ensureServerIdentity(layout, d.address);
      const cert = new X509Certificate(input.certificatePem);
      const problems = [
        !cert.checkPrivateKey(createPrivateKey(await fs.readFile(layout.serverKey))) && 'it is not for this server\'s key',
        !signedByOneOf(cert, cas) && 'it is not signed by the CA given',
        cert.checkIP(d.address) === undefined && `it does not name this server's address ${d.address}`,
      ].filter(Boolean);
      if (problems.length) throw ApplicationFailure.nonRetryable(`certificatePem: refused, ${problems.join('; ')}`, ErrorType.InvalidInput);
      await writeIfChanged(layout.caCert, input.caCertificatePem, 0o644);
      await writeIfChanged(layout.serverCert, input.certificatePem, 0o644);
      const reloaded = await reload();
      return { address: d.address, reloaded, notAfter: new Date(cert.validTo).toISOString() };
    },

    /**
     * What this server trusts (its ssl_ca, and what it verifies its own source with at the
     * next connection): during a CA rotation the old and the new CA, after it the new alone.
     * Refused if the server's own certificate would not verify with it: a member never stops
     * trusting the CA it serves a certificate from (its replicas verify it with the same file).
     */
    async installTrust(input: { caCertificatePem: string }): Promise<{ address: string; reloaded: 'flush ssl' | 'restart' | 'next start'; authorities: number }> {
      const cas = splitCertificatePems(input.caCertificatePem);
      if (!cas) throw ApplicationFailure.nonRetryable('caCertificatePem: must be one or more PEM certificates', ErrorType.InvalidInput);
      const own = new X509Certificate(await fs.readFile(layout.serverCert, 'utf8'));
      if (!signedByOneOf(own, cas)) throw ApplicationFailure.nonRetryable(`caCertificatePem: refused, this server's certificate (serial ${own.serialNumber}) is signed by none of them`, ErrorType.InvalidInput);
      await writeIfChanged(layout.caCert, input.caCertificatePem, 0o644);
      // Reloaded even when unchanged: a retry after a crash between the write and the reload.
      const reloaded = await reload();
      return { address: d.address, reloaded, authorities: cas.length };
    },
  };

  function signedByOneOf(cert: X509Certificate, cas: string[]): boolean {
    return cas.some((pem) => {
      const ca = new X509Certificate(pem);
      return cert.checkIssued(ca) && cert.verify(ca.publicKey);
    });
  }

  async function reload(): Promise<'flush ssl' | 'restart' | 'next start'> {
    if (!(await runningPid(layout))) return 'next start';
    const tlsOn = await withAdmin(d, async (c) => {
      const [row] = await queryRows<{ v: string }>(c, "SELECT @@global.have_ssl AS v");
      if (row?.v !== 'YES') return false;
      // LOCAL: a FLUSH is binlogged otherwise, an errant GTID on a replica (gtid_strict_mode stops it).
      await c.query('FLUSH LOCAL SSL');
      return true;
    });
    if (tlsOn) return 'flush ssl';
    // Started before its option file named TLS files (an older agent): one restart reads them.
    await d.maintenance.during(async () => {
      await stopMariadb(layout);
      await startMariadb(layout, d.binaries);
    });
    return 'restart';
  }
}

export type CertificateActivities = ReturnType<typeof createCertificateActivities>;
