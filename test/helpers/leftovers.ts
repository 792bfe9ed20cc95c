// What a stack leaves behind: Nova servers, server folders, processes, registry rows.
// Tests compare these before and after an operation that must not leak.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DOCKER_LABEL } from '../../nova/drivers/docker';
import type { TestStack } from './stack';

export interface ServerProcess {
  pid: number;
  serverId: string;
  cmd: string;
}

/** Processes of this stack's servers: their command line or environment names a server folder. */
export function serverProcesses(dataDir: string): ServerProcess[] {
  const serversDir = path.join(dataDir, 'servers') + path.sep;
  const found: ServerProcess[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const inCmd = cmd.indexOf(serversDir);
      const envDir = /TROVE_SERVER_DIR=([^\0]+)/.exec(environ)?.[1];
      const dir = inCmd >= 0 ? cmd.slice(inCmd) : envDir?.startsWith(serversDir) ? envDir : undefined;
      if (dir) found.push({ pid: Number(pid), serverId: dir.slice(serversDir.length).split(/[/\s]/)[0]!, cmd });
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
    registryRows: await env.registry!.instances.count(),
    folders: serverFolders(env.dataDir).length,
    processes: serverProcesses(env.dataDir).length,
  };
}

/**
 * The docker driver's containers (any state) and volumes on this network, by name
 * (trove-srv-<server id>); none when the stack runs no docker network.
 */
export function dockerLeftovers(network: string | undefined): { containers: string[]; volumes: string[] } {
  if (!network) return { containers: [], volumes: [] };
  const list = (args: string[]) => execFileSync('docker', [...args, '--filter', `label=${DOCKER_LABEL}=${network}`]).toString().split('\n').filter((l) => l !== '');
  return { containers: list(['ps', '-a', '--format', '{{.Names}}']), volumes: list(['volume', 'ls', '--format', '{{.Name}}']) };
}
