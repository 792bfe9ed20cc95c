import { startTestStack, type TestStack } from '../helpers/stack';
let env: TestStack;
beforeAll(async () => { env = await startTestStack({ parts: ['registry'] }); });
afterAll(async () => { await env?.stop(); });
test('smoke', async () => {
  const [rows] = await env.registry!.pool.query('SHOW GRANTS');
  console.log(JSON.stringify(rows));
  const [v] = await env.registry!.pool.query('SELECT VERSION() v, @@tx_isolation t');
  console.log(JSON.stringify(v));
});
