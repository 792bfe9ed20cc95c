// A server's TLS identity, made and kept on the server: its private key is generated here
// and never leaves (the orchestrator sees a certificate request and returns a certificate).
// Until its set's CA signs one, the server serves a self-signed certificate, so that mariadbd
// always starts with TLS files (their paths are read only at start) and a set can turn TLS
// on later with FLUSH SSL, no restart.
import { existsSync, promises as fs } from 'node:fs';
import { KEY_ALGORITHM, SERVER_CERT_DAYS, serverSubject } from '../../lib/certificates';
import { openssl } from '../tls/openssl';
import type { ServerLayout } from './layout';

// One agent per server: a lock in the process keeps two activities from making two keys.
const making = new Map<string, Promise<void>>();

/** The server's key and, if it has none yet, a self-signed certificate for its address. */
export function ensureServerIdentity(layout: ServerLayout, address: string): Promise<void> {
  const prior = making.get(layout.dir) ?? Promise.resolve();
  const next = prior.then(() => makeIdentity(layout, address));
  making.set(layout.dir, next.catch(() => undefined));
  return next;
}

async function makeIdentity(layout: ServerLayout, address: string): Promise<void> {
  if (existsSync(layout.serverKey) && existsSync(layout.serverCert) && existsSync(layout.caCert)) return;
  await fs.mkdir(layout.tlsDir, { recursive: true, mode: 0o700 });
  if (!existsSync(layout.serverKey)) {
    const tmp = `${layout.serverKey}.tmp`;
    await fs.rm(tmp, { force: true });
    await fs.writeFile(tmp, '', { mode: 0o600 }); // openssl writes into it, keeping the mode
    await openssl(['genpkey', ...KEY_ALGORITHM, '-out', tmp]);
    await fs.rename(tmp, layout.serverKey);
  }
  if (!existsSync(layout.serverCert)) {
    const selfSigned = await openssl([
      'req', '-new', '-x509', '-key', layout.serverKey, '-subj', serverSubject(address), '-days', String(SERVER_CERT_DAYS), '-sha256',
      '-addext', `subjectAltName=IP:${address}`,
    ]);
    await writeAtomically(layout.serverCert, selfSigned);
  }
  if (!existsSync(layout.caCert)) await writeAtomically(layout.caCert, await fs.readFile(layout.serverCert, 'utf8'));
}

/** The set's CA is installed: until then ca.pem is the server's own self-signed certificate. */
export async function setAuthorityInstalled(layout: ServerLayout): Promise<boolean> {
  const [ca, own] = await Promise.all([fs.readFile(layout.caCert, 'utf8').catch(() => ''), fs.readFile(layout.serverCert, 'utf8').catch(() => '')]);
  return ca !== '' && ca !== own;
}

async function writeAtomically(file: string, content: string): Promise<void> {
  await fs.writeFile(`${file}.tmp`, content, { mode: 0o644 });
  await fs.rename(`${file}.tmp`, file);
}
