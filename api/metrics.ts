// The API's metrics: requests by route (the pattern, never the ids in a URL) and status, and
// their latency. Served on their own port (TROVE_API_METRICS_PORT), not beside the API.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'trove_api_requests_total', help: 'API requests answered, by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly seconds = new Histogram({
    name: 'trove_api_request_duration_seconds',
    help: 'API request latency, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'trove_api_' });
  }

  register(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      // Unmatched URLs share one label: a scan of random paths must not grow the series.
      const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
      this.requests.inc(labels);
      this.seconds.observe(labels, reply.elapsedTime / 1000);
    });
  }
}
