// What the pair tests read of a member: the API's view, the registry's record, the server as
// the administrator and as the application's account sees it.
import { createConnection, type Connection } from 'mysql2/promise';
import { appInsertCommits, writableForApp } from '../../bench/lib/app-probes';
import { adminQuery } from './mysql';
import type { TestStack } from './stack';

export function pairMembers(env: TestStack, account: { user: string; password: string }) {
  const rec = async (id: string) => (await env.registry!.instances.get(id))!;
  const ipOf = async (id: string) => (await rec(id)).address!;
  const appAt = async (id: string) => ({ host: await ipOf(id), ...account, database: 'shop' });
  return {
    async show(id: string) {
      const res = await env.api('GET', `/v1.0/proj-a/instances/${id}`);
      if (res.status !== 200) throw new Error(`show ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.instance;
    },
    async action(id: string, body: unknown) {
      const res = await env.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
      if (res.status !== 202) throw new Error(`action answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    result: (operationId: string) => env.temporal.workflow.getHandle(operationId).result(),
    census: async () => ({ instances: await env.registry!.instances.count(), servers: (await env.nova.listServers()).length }),
    rec,
    ipOf,
    admin: async <T = Record<string, unknown>>(id: string, sql: string) => adminQuery<T>(env.dataDir, (await rec(id)).novaServerId!, sql),
    app: async (id: string, timeoutMs = 1000): Promise<Connection> => createConnection({ ...(await appAt(id)), port: 3306, connectTimeout: timeoutMs }),
    writable: async (id: string) => writableForApp(await appAt(id)),
    /** Whether the application's account can write there now (an INSERT that commits). */
    appCanWrite: async (id: string, row: number) => appInsertCommits(await appAt(id), 'INSERT INTO probes VALUES (?)', [row]),
  };
}
