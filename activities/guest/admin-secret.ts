// The admin password is created on the server and never leaves it (Trove's os_admin).
import { promises as fs } from 'node:fs';
import { randomPassword } from '../../lib/secrets';
import type { ServerLayout } from './layout';

export async function ensureAdminPassword(layout: ServerLayout): Promise<string> {
  try {
    return (JSON.parse(await fs.readFile(layout.adminFile, 'utf8')) as { password: string }).password;
  } catch {
    const password = randomPassword();
    const tmp = `${layout.adminFile}.tmp`;
    await fs.writeFile(tmp, JSON.stringify({ password }), { mode: 0o600 });
    await fs.rename(tmp, layout.adminFile);
    return password;
  }
}
