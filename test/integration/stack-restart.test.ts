// The local stack stopped as Ctrl-C stops it leaves no process behind, and the next start
// boots the database servers again from their disks: the instance is ACTIVE with its data.
import { createConnection } from 'mysql2/promise';
import { serverProcesses } from '../helpers/leftovers';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let env: TestStack | undefined;
afterAll(async () => {
  await env?.stop();
});

test('stop everything, start again: the server boots from its disk with its data', async () => {
  env = await startTestStack();
  const created = await env.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'durable', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'keep' }], users: [{ name: 'kept', password: 'kept-pass', databases: [{ name: 'keep' }] }] },
  });
  // The whole answer is compared, so a wrong one shows its status and body.
  expect(created).toMatchObject({ status: 202, body: { instance: { id: expect.any(String), name: 'durable', status: 'BUILD' } } });
  const id = created.body.instance.id as string;
  const shown = await eventually('ACTIVE', async () => {
    const i = (await env!.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
    if (i?.status === 'ERROR') throw new Error(`instance ${id} ended ERROR: ${JSON.stringify(i.fault)}`);
    return i?.status === 'ACTIVE' && !i.operation ? i : undefined;
  }, 120_000);
  const c = await createConnection({ host: shown.ip[0], port: 3306, user: 'kept', password: 'kept-pass', database: 'keep' });
  await c.query('CREATE TABLE t (v VARCHAR(20))');
  await c.query("INSERT INTO t VALUES ('survives')");
  await c.end();

  const { dataDir, ports } = env;
  await env.stop({ keepData: true });
  env = undefined;
  expect(serverProcesses(dataDir)).toEqual([]);

  env = await startTestStack({ reuse: { dataDir, ports } });
  const shownAgain = await env.api('GET', `/v1.0/proj-a/instances/${id}`);
  expect(shownAgain).toMatchObject({ status: 200, body: { instance: { id, status: 'ACTIVE' } } });
  const again = shownAgain.body.instance;
  const rows = await eventually('the row after the restart', async () => {
    try {
      const c2 = await createConnection({ host: again.ip[0], port: 3306, user: 'kept', password: 'kept-pass', database: 'keep' });
      const [r] = await c2.query('SELECT v FROM t');
      await c2.end();
      return r as { v: string }[];
    } catch {
      return undefined;
    }
  }, 60_000);
  expect(rows).toEqual([{ v: 'survives' }]);
});
