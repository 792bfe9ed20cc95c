// Secrets of a local stack, made once per data dir and kept there (mode 0600), so a
// restarted stack can still read what it sealed and reach its own registry.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { newSecretKey, randomPassword } from '../../lib/secrets';

export interface LocalSecrets {
  secretKey: string;
  registryPassword: string;
}

export function loadOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  const file = path.join(dataDir, 'local-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  mkdirSync(dataDir, { recursive: true });
  const secrets = { secretKey: newSecretKey(), registryPassword: randomPassword() };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}
