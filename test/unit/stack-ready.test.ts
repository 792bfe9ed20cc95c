// The stack's ports and readiness probes, without starting the stack: a port it hands out
// can be listened on at once; a probe is satisfied only by the part itself, never by another
// server listening on the part's port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, probes } from '../../scripts/stack/stack';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** An HTTP server answering every request with `answer`; its base URL. */
async function serve(answer: (url: string, headers: Record<string, unknown>) => [number, string]): Promise<string> {
  server = createServer((req, res) => {
    const [status, body] = answer(req.url ?? '/', req.headers);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a port freePort hands out can be listened on at once (it is held in TIME_WAIT, not by a listener)', async () => {
  const port = await freePort();
  server = createServer();
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(port, '127.0.0.1', resolve);
  });
  expect((server.address() as AddressInfo).port).toBe(port);
});

describe('another server on the part port is not the part', () => {
  test.each<[string, [number, string]]>([
    ["Temporal's metrics endpoint", [404, '404 page not found\n']],
    ['any server answering 200 with other JSON', [200, '{"ok":true}']],
    ['a server answering 200 with no JSON', [200, 'hello']],
  ])('%s', async (_label, answer) => {
    const url = await serve(() => answer);
    await expect(probes.api(url, 'tok', 'proj')).rejects.toThrow();
    const nova = await probes.nova(`${url}/v2.1`, 'tok').catch(() => false);
    expect(nova).toBe(false);
  });
});

test('the API probe goes through the token and the registry: a 401 or 500 there is not ready', async () => {
  let listStatus = 401;
  const url = await serve((u) => (u === '/' ? [200, '{"versions":[{"id":"v1.0","status":"CURRENT"}]}'] : [listStatus, '{}']));
  await expect(probes.api(url, 'tok', 'proj')).rejects.toThrow(/answered 401/);
  listStatus = 500;
  await expect(probes.api(url, 'tok', 'proj')).rejects.toThrow(/answered 500/);
});

test('the parts themselves satisfy their probes', async () => {
  const url = await serve((u, headers) => {
    if (u === '/') return [200, '{"versions":[{"id":"v1.0","status":"CURRENT"}]}'];
    if (u === '/v1.0/proj/instances' && headers['x-auth-token'] === 'tok') return [200, '{"instances":[]}'];
    if (u === '/v2.1/flavors' && headers['x-auth-token'] === 'nova-tok') return [200, '{"flavors":[{"id":"1"}]}'];
    return [401, '{}'];
  });
  expect(await probes.api(url, 'tok', 'proj')).toBe(true);
  expect(await probes.nova(`${url}/v2.1`, 'nova-tok')).toBe(true);
  await expect(probes.nova(`${url}/v2.1`, 'wrong')).rejects.toThrow(/answered 401/);
});
