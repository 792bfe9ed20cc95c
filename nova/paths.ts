import path from 'node:path';

// Resolved from this file rather than process.cwd() so Nova behaves the same
// whether it is started from the repo root, a test runner or a script.
export const REPO_ROOT = path.resolve(__dirname, '..');
export const SERVER_INIT_SCRIPT = path.join(REPO_ROOT, 'nova', 'server-init.ts');

export function novaStateFile(dataDir: string): string {
  return path.join(dataDir, 'nova', 'state.json');
}

export function serverDir(dataDir: string, serverId: string): string {
  return path.join(dataDir, 'servers', serverId);
}
