// The orchestrator's probe of a member's MariaDB settles on every way a connection ends: a
// probe that never settled held the monitor, and with it every failover decision.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { probeGreeting } from '../../activities/compute/activities';

type Behaviour = 'greets' | 'closes at once' | 'resets at once' | 'never greets';

async function serve(behaviour: Behaviour): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    if (behaviour === 'greets') s.write(Buffer.from([0x0a, 0x35, 0x2e, 0x35]));
    // A FIN and no data: what a server killed between accept and greeting sends.
    if (behaviour === 'closes at once') s.end();
    if (behaviour === 'resets at once') s.resetAndDestroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test.each<[Behaviour, boolean, RegExp | undefined]>([
  ['greets', true, undefined],
  ['closes at once', false, /closed before the greeting/],
  ['resets at once', false, /ECONNRESET|closed before the greeting/],
  ['never greets', false, /no greeting within 300 ms/],
])('a server that %s: reachable %s, settled within the timeout', async (behaviour, reachable, error) => {
  const server = await serve(behaviour);
  try {
    const t0 = performance.now();
    const r = await probeGreeting('127.0.0.1', server.port, undefined, 300);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.reachable).toBe(reachable);
    if (error) expect(r.error).toMatch(error);
  } finally {
    await server.close();
  }
});

test('nothing listening: not reachable, at once', async () => {
  const server = await serve('greets');
  const { port } = server;
  await server.close();
  const r = await probeGreeting('127.0.0.1', port, undefined, 300);
  expect(r).toMatchObject({ reachable: false, error: expect.stringMatching(/ECONNREFUSED/) });
});

test('a greeted probe from a bound address ends with a reset: none of its ports is left in TIME_WAIT', async () => {
  const server = await serve('greets');
  try {
    for (let i = 0; i < 20; i++) expect((await probeGreeting('127.0.0.1', server.port, '127.0.0.1', 1000)).reachable).toBe(true);
    // The probe's side of each connection: its destination is the server's port.
    const waiting = execFileSync('ss', ['-Htan', 'state', 'time-wait', 'dport', '=', `:${server.port}`]).toString().trim();
    expect(waiting).toBe('');
  } finally {
    await server.close();
  }
});
