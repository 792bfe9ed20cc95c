// The orchestrator's side of TLS replication: each replication set's certificate authority.
// Its private key is made here, sealed with the deployment key before it is stored, and
// unsealed only inside signServerCertificate, in a private folder removed at once: no
// activity takes or returns it, so it never enters a workflow's history.
import { randomBytes, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { CA_CERT_DAYS, KEY_ALGORITHM, SERVER_CERT_DAYS, caBundle, caExtensions, caSubject, isCsrPem, serverExtensions } from '../../lib/certificates';
import { ErrorType } from '../../lib/errors';
import { sealSecret, unsealSecret } from '../../lib/secrets';
import type { Registry } from '../../registry';
import type { SetAuthority } from '../../registry/certificates';
import { inPrivateDir, openssl, writePrivate } from './openssl';

export interface TlsOptions {
  secretKey: Buffer;
  /** How long a server certificate lasts (TROVE_TLS_SERVER_CERT_DAYS; fractions allowed). */
  serverCertificateDays?: number;
}

/** A member's certificate as signed: the PEMs it installs, and its serial and expiry (public). */
export interface SignedCertificate {
  instanceId: string;
  certificatePem: string;
  caCertificatePem: string;
  serial: string;
  notAfter: string;
}

export function createTlsActivities(registry: Registry, options: TlsOptions) {
  const { certificates, instances } = registry;

  return {
    /** The set's CA, made once: a retry (or a second enable) finds the first and keeps it. */
    async ensureSetAuthority(input: { setId: string }): Promise<{ setId: string; created: boolean; caCertificatePem: string }> {
      const existing = await certificates.authority(input.setId);
      if (existing) return { setId: input.setId, created: false, caCertificatePem: existing.certificatePem };
      const made = await makeAuthority(input.setId);
      const stored = await certificates.putAuthority(input.setId, made);
      if (!stored) throw ApplicationFailure.nonRetryable(`replication set ${input.setId} does not exist`, ErrorType.NotFound);
      return { setId: input.setId, created: stored.certificatePem === made.certificatePem, caCertificatePem: stored.certificatePem };
    },

    /**
     * A CA rotation's new CA, made once: a rotation that failed half-way, asked again, finishes
     * with the CA it began (members may already serve certificates from it). Public answers only.
     */
    async beginCaRotation(input: { setId: string }): Promise<{ setId: string; created: boolean; caCertificatePem: string; previousCaCertificatePem: string }> {
      const current = await certificates.authority(input.setId);
      if (!current) throw ApplicationFailure.nonRetryable(`replication set ${input.setId} has no certificate authority to rotate`, ErrorType.InvalidInput);
      const pending = await certificates.nextAuthority(input.setId);
      if (pending) return { setId: input.setId, created: false, caCertificatePem: pending.certificatePem, previousCaCertificatePem: current.certificatePem };
      const made = await makeAuthority(input.setId, new Date());
      const stored = await certificates.putNextAuthority(input.setId, made);
      if (!stored) throw ApplicationFailure.nonRetryable(`replication set ${input.setId} does not exist`, ErrorType.NotFound);
      return { setId: input.setId, created: stored.certificatePem === made.certificatePem, caCertificatePem: stored.certificatePem, previousCaCertificatePem: current.certificatePem };
    },

    /** The rotation's new CA becomes the set's; the old one (and its key) is forgotten. */
    async completeCaRotation(input: { setId: string; caCertificatePem: string }): Promise<{ setId: string; caCertificatePem: string }> {
      if (!(await certificates.completeRotation(input.setId, input.caCertificatePem))) {
        throw ApplicationFailure.nonRetryable(`replication set ${input.setId}: the CA rotation to complete is not the one pending`, ErrorType.InvalidInput);
      }
      return { setId: input.setId, caCertificatePem: input.caCertificatePem };
    },

    /**
     * Signs a member's certificate request with its set's CA. The certificate names the
     * address the registry records for the member (what replicas dial), whatever the request
     * asked for; the request only brings the public key, whose private half never left the server.
     */
    async signServerCertificate(input: { setId: string; instanceId: string; csrPem: string; authority?: 'current' | 'next' }): Promise<SignedCertificate> {
      if (!isCsrPem(input.csrPem)) throw ApplicationFailure.nonRetryable('csrPem: must be one PEM certificate request', ErrorType.InvalidInput);
      const member = await instances.get(input.instanceId);
      if (!member || member.replicationSetId !== input.setId) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} is not a member of replication set ${input.setId}`, ErrorType.InvalidInput);
      if (!member.address) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} has no address yet`, ErrorType.InvalidInput);
      const [current, next] = await Promise.all([certificates.authority(input.setId), certificates.nextAuthority(input.setId)]);
      const authority = input.authority === 'next' ? next : current;
      if (!authority) throw ApplicationFailure.nonRetryable(`replication set ${input.setId} has no ${input.authority === 'next' ? 'CA rotation under way' : 'certificate authority yet'}`, ErrorType.InvalidInput);
      const certificatePem = await inPrivateDir(async (dir) => {
        const file = (name: string) => path.join(dir, name);
        await writePrivate(file('ca-key.pem'), unsealSecret(options.secretKey, authority.sealedKey));
        await writePrivate(file('ca.pem'), authority.certificatePem);
        await writePrivate(file('server.csr'), input.csrPem);
        await writePrivate(file('server.ext'), serverExtensions(member.address!));
        // A request signed by another key than the one it carries is refused here.
        await openssl(['req', '-verify', '-noout', '-in', file('server.csr')]);
        // `openssl ca` (not `x509 -req -days`): a validity of any length, to the second.
        const start = new Date();
        const end = new Date(start.getTime() + (options.serverCertificateDays ?? SERVER_CERT_DAYS) * 86_400_000);
        await writePrivate(file('ca.cnf'), SIGNER_CONFIG);
        await writePrivate(file('index.txt'), '');
        await writePrivate(file('serial'), `${randomBytes(16).toString('hex')}\n`);
        return openssl(
          ['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca-key.pem', '-in', 'server.csr', '-startdate', asn1Time(start), '-enddate', asn1Time(end), '-md', 'sha256', '-extfile', 'server.ext'],
          { cwd: dir },
        );
      });
      // Recorded as issued: `show` gives each member's expiry, and a renewal is seen to replace it.
      const issued = new X509Certificate(certificatePem);
      const notAfter = new Date(issued.validTo);
      await certificates.recordServer(input.instanceId, input.setId, { serial: issued.serialNumber, notAfter });
      // What the member trusts: during a rotation both CAs, so that it verifies a source that
      // serves a certificate from either (the one it signs with first).
      const trust = next ? caBundle(next.certificatePem, current!.certificatePem) : authority.certificatePem;
      return { instanceId: input.instanceId, certificatePem, caCertificatePem: trust, serial: issued.serialNumber, notAfter: notAfter.toISOString() };
    },
  };

  /** A new CA for the set: its key made here and sealed at once. */
  function makeAuthority(setId: string, rotatedAt?: Date): Promise<SetAuthority> {
    return inPrivateDir(async (dir) => {
      const key = path.join(dir, 'ca-key.pem');
      await openssl(['genpkey', ...KEY_ALGORITHM, '-out', key]);
      const certificatePem = await openssl(['req', '-new', '-x509', '-key', key, '-subj', caSubject(setId, rotatedAt), '-days', String(CA_CERT_DAYS), '-sha256', ...caExtensions]);
      return { certificatePem, sealedKey: sealSecret(options.secretKey, await fs.readFile(key, 'utf8')) };
    });
  }
}

/** What `openssl ca` needs to sign one request in a private folder: no policy beyond a CN, no copied extensions (serverExtensions says them all). */
const SIGNER_CONFIG = [
  '[ ca ]',
  'default_ca = signer',
  '[ signer ]',
  'database = index.txt',
  'new_certs_dir = .',
  'serial = serial',
  'default_md = sha256',
  'policy = any',
  'unique_subject = no',
  'copy_extensions = none',
  '[ any ]',
  'organizationName = optional',
  'commonName = supplied',
  '',
].join('\n');

/** YYYYMMDDHHMMSSZ, as `openssl ca -startdate/-enddate` take it. */
const asn1Time = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, '');

export type TlsActivities = ReturnType<typeof createTlsActivities>;
