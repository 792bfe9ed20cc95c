// What a replication set's certificates say, as pure functions shared by the orchestrator
// (which signs) and the guest (which asks and installs): one copy of each rule.
import { isIP } from 'node:net';

/** P-256 keys: quick to make on every server, and MariaDB 10.11 (OpenSSL 3) serves them. */
export const KEY_ALGORITHM = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/** A server certificate lasts ~2 years (the CA/B ceiling clients still accept), the CA 10. */
export const SERVER_CERT_DAYS = 825;
export const CA_CERT_DAYS = 3650;

/**
 * The CA's subject: names the set, so a client that holds several CAs can tell them apart; a
 * rotation's CA also names when it was made, so the old and the new differ in name as in key.
 */
export const caSubject = (setId: string, rotatedAt?: Date): string =>
  // (In OU: a CN is at most 64 characters, which the set's id nearly fills.)
  `/O=trove-replication${rotatedAt ? `/OU=rotated ${rotatedAt.toISOString().replace(/\.\d+Z$/, 'Z')}` : ''}/CN=replication set ${setId} CA`;

/** A server certificate's subject: its address, as replicas and clients dial it. */
export const serverSubject = (address: string): string => `/O=trove-replication/CN=${address}`;

/**
 * What the CA writes into every server certificate. MASTER_SSL_VERIFY_SERVER_CERT (and a
 * client's own verification) compares the address dialled with the certificate's
 * subjectAltName, so it names the address the registry records, not what the CSR asked for.
 */
export function serverExtensions(address: string): string {
  if (!isIP(address)) throw new Error(`address: "${address}" is not an IP address`);
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth, clientAuth',
    `subjectAltName = IP:${address}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

/** The CA's own extensions: it signs certificates and nothing else, with no intermediate below it. */
export const caExtensions = ['-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

const PEM = (label: string) => new RegExp(`^-----BEGIN ${label}-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END ${label}-----\\r?\\n?$`);
export const isCertificatePem = (text: string): boolean => PEM('CERTIFICATE').test(text.trim() + '\n');
export const isCsrPem = (text: string): boolean => PEM('CERTIFICATE REQUEST').test(text.trim() + '\n');

/**
 * The certificates of a CA bundle (what a member trusts: its set's CA, and during a CA
 * rotation the new one beside it), or null when the text is anything else than one or more
 * PEM certificates (a private key slipped in, a request, garbage).
 */
export function splitCertificatePems(text: string): string[] | null {
  const blocks = text.trim().match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g);
  if (!blocks) return null;
  const rest = blocks.reduce((t, b) => t.replace(b, ''), text).trim();
  if (rest !== '') return null;
  return blocks.every((b) => isCertificatePem(b)) ? blocks.map((b) => `${b}\n`) : null;
}

export { caBundle } from './ca-bundle';

/** The headers a private key is written with, in clear; the secrets scan looks for them. */
export const PRIVATE_KEY_MARKERS = ['BEGIN PRIVATE KEY', 'BEGIN EC PRIVATE KEY', 'BEGIN RSA PRIVATE KEY', 'BEGIN ENCRYPTED PRIVATE KEY'];
