// The stand-ins in a process of their own (their CPU is not the orchestrator's), driven over
// HTTP on loopback: POST /members [{id, port (0: any), serverId, sourceId?}] → {ports},
// POST /state {id, state}, GET /stats, POST /mark {at} and GET /marked (each member's first
// statement on a connection opened after the mark). Prints "standins <port>" when it listens. bench/watch-scale.ts starts it.
import { createServer, type IncomingMessage } from 'node:http';
import { StandIns, type StandInMember, type StandInState } from './mysql-standin';

const standIns = new StandIns();

async function body(req: IncomingMessage): Promise<any> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return JSON.parse(s || 'null');
}

const server = createServer((req, res) => {
  const reply = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  (async () => {
    if (req.method === 'POST' && req.url === '/members') {
      const members = (await body(req)) as StandInMember[];
      const ports: number[] = [];
      for (const m of members) ports.push(await standIns.add(m));
      return reply(200, { ports });
    }
    if (req.method === 'POST' && req.url === '/state') {
      const { id, state } = (await body(req)) as { id: string; state: StandInState };
      await standIns.set(id, state);
      return reply(200, { id, state, at: Date.now() });
    }
    if (req.method === 'GET' && req.url === '/stats') return reply(200, { queries: standIns.queries, reads: standIns.reads, connections: standIns.connections });
    if (req.method === 'POST' && req.url === '/mark') {
      const { at } = (await body(req)) as { at: number };
      standIns.mark(at);
      return reply(200, { at });
    }
    if (req.method === 'GET' && req.url === '/marked') return reply(200, standIns.marked());
    reply(404, { error: 'unknown' });
  })().catch((err: Error) => reply(500, { error: err.message }));
});

server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(`standins ${typeof a === 'object' && a ? a.port : ''}`);
});
process.on('SIGTERM', () => {
  void standIns.close().finally(() => process.exit(0));
});
