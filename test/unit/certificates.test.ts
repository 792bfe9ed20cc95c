// The pure parts of TLS replication: what a set's certificates say, the option file's TLS
// lines, and the settings body's one-way tls.
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serverLayout } from '../../activities/guest/layout';
import { renderMyCnf } from '../../activities/guest/mariadb-config';
import { settingsBody } from '../../api/schemas';
import { caBundle, caExtensions, caSubject, isCertificatePem, isCsrPem, KEY_ALGORITHM, serverExtensions, serverSubject, splitCertificatePems } from '../../lib/certificates';
import { formatIssues } from '../../lib/validation';

describe('server certificates', () => {
  it('name the address replicas dial as an IP subjectAltName, for a server only', () => {
    const ext = serverExtensions('127.0.1.5');
    expect(ext).toContain('subjectAltName = IP:127.0.1.5');
    expect(ext).toContain('basicConstraints = critical, CA:FALSE');
    expect(ext).toContain('extendedKeyUsage = serverAuth, clientAuth');
  });

  it('refuse an address that is not an IP (MASTER_HOST is the recorded IP)', () => {
    expect(() => serverExtensions('db.example')).toThrow(/address: "db.example" is not an IP address/);
    expect(() => serverExtensions('127.0.1.5\nsubjectAltName = IP:10.0.0.1')).toThrow(/not an IP address/);
  });

  it('tell a certificate from a request and from anything else', () => {
    const body = 'MIIB' + 'A'.repeat(60);
    expect(isCertificatePem(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`)).toBe(true);
    expect(isCsrPem(`-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----`)).toBe(true);
    expect(isCertificatePem(`-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----`)).toBe(false);
    expect(isCertificatePem(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`)).toBe(false);
  });

  it.each([
    ['one certificate', (a: string) => a, 1],
    ['a bundle of two (a CA rotation)', (a: string, b: string) => caBundle(a, b), 2],
    ['a bundle without newlines between', (a: string, b: string) => a.trim() + b.trim(), 2],
    ['a certificate and a private key', (a: string) => `${a}-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n`, null],
    ['a certificate and text', (a: string) => `${a}hello\n`, null],
    ['a request', () => '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', null],
    ['nothing', () => '', null],
  ] as const)('a CA bundle: %s', (_what, make, count) => {
    const a = `-----BEGIN CERTIFICATE-----\n${'MIIB' + 'A'.repeat(60)}\n-----END CERTIFICATE-----\n`;
    const b = `-----BEGIN CERTIFICATE-----\n${'MIIB' + 'B'.repeat(60)}\n-----END CERTIFICATE-----\n`;
    const split = splitCertificatePems((make as (a: string, b: string) => string)(a, b));
    expect(split?.length ?? null).toBe(count);
    if (split) expect(split[0]).toBe(a);
  });

  it("a rotation's CA is named apart from the first (same set, when it was made)", () => {
    expect(caSubject('s-1')).toBe('/O=trove-replication/CN=replication set s-1 CA');
    expect(caSubject('s-1', new Date('2026-12-03T08:20:01.123Z'))).toBe('/O=trove-replication/OU=rotated 2026-12-03T08:20:01Z/CN=replication set s-1 CA');
  });

  // The same openssl steps as the activities (a CA, a request made with the server's key, the
  // signature with serverExtensions): what comes out verifies as MariaDB and clients verify.
  it('signed by the set CA with these extensions, verify for the address and only for it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trove-cert-unit-'));
    const f = (n: string) => path.join(dir, n);
    const ssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      ssl(['genpkey', ...KEY_ALGORITHM, '-out', f('ca-key.pem')]);
      const ca = ssl(['req', '-new', '-x509', '-key', f('ca-key.pem'), '-subj', caSubject('s-1'), '-days', '30', ...caExtensions]);
      writeFileSync(f('ca.pem'), ca);
      ssl(['genpkey', ...KEY_ALGORITHM, '-out', f('key.pem')]);
      writeFileSync(f('req.csr'), ssl(['req', '-new', '-key', f('key.pem'), '-subj', serverSubject('10.9.8.7')]));
      writeFileSync(f('ext'), serverExtensions('127.0.1.5'));
      const pem = ssl(['x509', '-req', '-in', f('req.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-set_serial', '0x01', '-days', '30', '-extfile', f('ext')]);
      const cert = new X509Certificate(pem);
      expect(cert.verify(new X509Certificate(ca).publicKey)).toBe(true);
      // The registry's address, not what the request asked for.
      expect(cert.checkIP('127.0.1.5')).toBe('127.0.1.5');
      expect(cert.checkIP('10.9.8.7')).toBeUndefined();
      expect(cert.ca).toBe(false);
      expect(new X509Certificate(ca).ca).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('my.cnf always names the server\'s TLS files, outside the datadir', () => {
  const cnf = renderMyCnf(serverLayout('/srv/x'), { serverId: 1, address: '127.0.1.7', flavorRamMb: 512, readOnly: false });
  expect(cnf).toContain('ssl_cert = /srv/x/tls/server-cert.pem');
  expect(cnf).toContain('ssl_key = /srv/x/tls/server-key.pem');
  expect(cnf).toContain('ssl_ca = /srv/x/tls/ca.pem');
  expect(cnf).toContain('datadir = /srv/x/mysql');
});

test.each([
  [{ replication: { tls: true } }, []],
  [{ replication: { tls: true, semi_sync: true } }, []],
  [{ replication: { tls: { renew: true } } }, []],
  [{ replication: { tls: false } }, ['replication.tls: can only be true (TLS replication, once on, is not turned off), {"renew": true} or {"rotate_ca": true}']],
  [{ replication: { tls: 'yes' } }, ['replication.tls: can only be true (TLS replication, once on, is not turned off), {"renew": true} or {"rotate_ca": true}']],
  [{ replication: { tls: { rotate_ca: true } } }, []],
  [{ replication: { tls: { rotate_ca: false } } }, ['replication.tls: can only be true (TLS replication, once on, is not turned off), {"renew": true} or {"rotate_ca": true}']],
  [{ replication: { tls: { rotate_ca: true, renew: true } } }, ['replication.tls: can only be true (TLS replication, once on, is not turned off), {"renew": true} or {"rotate_ca": true}']],
  [{ replication: { tls: { renew: false } } }, ['replication.tls: can only be true (TLS replication, once on, is not turned off), {"renew": true} or {"rotate_ca": true}']],
])('settings body %j', (body, errors) => {
  const parsed = settingsBody.safeParse(body);
  expect(parsed.success ? [] : formatIssues(parsed.error)).toEqual(errors);
});
