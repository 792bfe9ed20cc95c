// Passwords never travel in clear through Temporal: callers seal them with the
// deployment's key (AES-256-GCM) and only the guest agent that needs one unseals it.
// Histories, search attributes and logs therefore only ever hold ciphertext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const b64 = (b: Buffer) => b.toString('base64url');

export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('TROVE_SECRET_KEY: must be 32 bytes, as 64 hex digits or base64');
  return key;
}

export function newSecretKey(): string {
  return randomBytes(32).toString('hex');
}

export function sealSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${b64(iv)}.${b64(data)}.${b64(cipher.getAuthTag())}`;
}

export function unsealSecret(key: Buffer, sealed: string): string {
  const [version, iv, data, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || data === undefined || !tag) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

/** A random password for accounts the system creates itself (admin, replication). */
export function randomPassword(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}
