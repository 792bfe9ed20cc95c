// The user-defined docker network the docker driver's servers join (NOVA_DRIVER=docker).
// Its gateway is this host's address on it: the services the servers' guest agents call
// (Temporal, Swift) listen there, the defaults staying on 127.0.0.1 for every other stack.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DOCKER_LABEL, inspectNetwork, type DockerNetwork } from '../../nova/drivers/docker';

const run = promisify(execFile);

export interface ServerNetwork extends DockerNetwork {
  name: string;
  remove(): Promise<void>;
}

/** Creates `name` (docker picks a free subnet) and says where its gateway is. */
export async function createServerNetwork(name: string): Promise<ServerNetwork> {
  await run('docker', ['network', 'create', '--driver', 'bridge', '--label', `${DOCKER_LABEL}=${name}`, name]);
  return {
    name,
    ...inspectNetwork(name),
    async remove() {
      await run('docker', ['network', 'rm', name]).catch((err: { stderr?: string }) => {
        if (!/No such network|not found/i.test(err.stderr ?? '')) throw err;
      });
    },
  };
}

/** Whether this machine runs docker containers at all (the daemon answers us). */
export async function dockerRuns(): Promise<string | undefined> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return undefined;
  } catch (err) {
    return String((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n')[0];
  }
}
