// Secrets of a local stack, made once per data dir and kept there (mode 0600), so a
// restarted stack can still read what it sealed and reach its own registry. A data dir from
// before a secret existed gets it added at its next start (its older values stay).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { newPayloadKey } from '../../lib/payload-codec';
import { newSecretKey, randomPassword } from '../../lib/secrets';

export interface LocalSecrets {
  secretKey: string;
  registryPassword: string;
  /** TROVE_PAYLOAD_KEYS: "local-1:<base64>" (the active key is the last one). */
  payloadKeys: string;
  /** The codec server's token, which the local Web UI's codec endpoint carries. */
  codecToken: string;
}

export function loadOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  const file = path.join(dataDir, 'local-secrets.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : {};
  const secrets: LocalSecrets = {
    secretKey: kept.secretKey ?? newSecretKey(),
    registryPassword: kept.registryPassword ?? randomPassword(),
    payloadKeys: kept.payloadKeys ?? newPayloadKey('local-1'),
    codecToken: kept.codecToken ?? randomBytes(18).toString('base64url'),
  };
  if (Object.keys(secrets).some((k) => kept[k as keyof LocalSecrets] === undefined)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return secrets;
}

/** The key that encrypts: the last of the ring (a rotation appends a key). */
export function activePayloadKeyId(payloadKeys: string): string {
  return payloadKeys.split(',').at(-1)!.split(':')[0]!;
}
