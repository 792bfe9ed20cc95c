// One Prometheus endpoint per process: GET /metrics answers the process's own registry
// (prom-client) followed by, on a worker, the Temporal SDK's metrics read from the Runtime's
// exporter (a second, loopback-only listener the scrape never needs to know about).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** json: other GET routes of the same listener answering JSON (the API's service discovery). */
export async function serveMetrics(o: { host: string; port: number; registry: Registry; sdkMetricsUrl?: string; json?: Record<string, () => Promise<unknown>> }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const route = (req.url ?? '').split('?')[0]!;
    const json = o.json?.[route];
    if (req.method === 'GET' && json) {
      json().then(
        (body) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body)),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
      );
      return;
    }
    if (req.method !== 'GET' || route !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    void (async () => {
      const own = await o.registry.metrics();
      // The SDK's exporter may be slow to start or gone: the product's metrics still answer.
      const sdk = o.sdkMetricsUrl ? await fetch(o.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) => (r.ok ? r.text() : ''), () => '') : '';
      res.writeHead(200, { 'Content-Type': o.registry.contentType }).end(sdk ? `${own}\n${sdk}` : own);
    })().catch((err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
