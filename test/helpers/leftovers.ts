// What a stack leaves behind: Nova servers, server folders, processes, registry rows.
// Tests compare these before and after an operation that must not leak.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TestStack } from './stack';

/** Processes of this stack's servers: their command line or environment names a server folder. */
export function serverProcesses(dataDir: string): string[] {
  const serversDir = path.join(dataDir, 'servers');
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(serversDir) || environ.includes(`TROVE_SERVER_DIR=${serversDir}`)) found.push(`${pid} ${cmdline.trim()}`);
    } catch {
      /* the process ended while we looked */
    }
  }
  return found;
}

export function serverFolders(dataDir: string): string[] {
  const dir = path.join(dataDir, 'servers');
  return existsSync(dir) ? readdirSync(dir) : [];
}

export async function resourceCounts(env: TestStack) {
  return {
    novaServers: (await env.nova.listServers()).length,
    registryRows: await env.store!.countInstances(),
    folders: serverFolders(env.dataDir).length,
    processes: serverProcesses(env.dataDir).length,
  };
}
