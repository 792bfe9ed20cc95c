// The REST calls the benchmarks make on a test stack: a call that must succeed, an
// instance's view, and waiting for an instance to be idle (ACTIVE, no operation).
import { eventually, type TestStack } from '../../test/helpers/stack';

export interface Member {
  id: string;
  ip: string;
  novaServerId: string;
}

export async function apiOk(env: TestStack, method: string, url: string, body?: unknown) {
  const res = await env.api(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export const showInstance = async (env: TestStack, id: string) => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;

const idle = (i: any) => i && i.status === 'ACTIVE' && !i.operation;

export async function waitIdle(env: TestStack, id: string, timeoutMs = 300_000) {
  return eventually(`${id} idle`, async () => {
    const i = await showInstance(env, id);
    return idle(i) ? i : undefined;
  }, timeoutMs);
}

/** Where an instance runs, from the registry. */
export async function member(env: TestStack, id: string): Promise<Member> {
  const row = (await env.registry!.instances.get(id))!;
  return { id, ip: row.address!, novaServerId: row.novaServerId! };
}
