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

/**
 * Creates `name` and says where its gateway is. Docker takes a fixed address (--ip) only on a
 * network whose subnet was given, so one is: the first free 10.213.N.0/24 from a start spread
 * by pid (stacks side by side), unless `subnet` names one.
 */
export async function createServerNetwork(name: string, subnet?: string): Promise<ServerNetwork> {
  const candidates = subnet ? [subnet] : Array.from({ length: 32 }, (_, i) => `10.213.${(process.pid + i * 7) % 254 + 1}.0/24`);
  for (const [i, cidr] of candidates.entries()) {
    try {
      // The gateway is given too: with --subnet alone docker records none.
      const gateway = cidr.replace(/\.0\/\d+$/, '.1');
      await run('docker', ['network', 'create', '--driver', 'bridge', '--subnet', cidr, '--gateway', gateway, '--label', `${DOCKER_LABEL}=${name}`, name]);
      break;
    } catch (err) {
      // Another network (another stack's, or the machine's) holds it: the next one.
      if (!/overlap/i.test((err as { stderr?: string }).stderr ?? '') || i === candidates.length - 1) throw err;
    }
  }
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

/** `name` as it is, or created when missing: npm start keeps its network (and so its servers' addresses) across runs. */
export async function ensureServerNetwork(name: string): Promise<ServerNetwork> {
  try {
    return { name, ...inspectNetwork(name), remove: async () => undefined };
  } catch {
    return createServerNetwork(name);
  }
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
