import { createServer, type Server } from 'node:http';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { sendError, sendJson } from './respond.ts';

/**
 * `/metrics` and `/health/subgraphs` on a listener of their own (metrics.host:metrics.port,
 * loopback by default): process, traffic and subgraph figures are for the operator and the
 * scraper, not for every client of the public port.
 */
export function createMetricsServer(metrics: Metrics, log: Logger): Server {
  const server = createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      // Scrapes come seconds apart: a kept-alive socket would only sit idle in the gateway.
      res.setHeader('connection', 'close');
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics' && path !== '/health/subgraphs')
        return sendError(
          res,
          'NOT_FOUND',
          'Metrics are served at /metrics, the subgraph health view at /health/subgraphs.',
          req.headers.accept,
        );
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendError(
          res,
          'METHOD_NOT_ALLOWED',
          `${req.method} is not supported on ${path}; use GET.`,
          req.headers.accept,
          { allow: 'GET' },
        );
      // Breaker state, last failure and recent latency per subgraph (observability/subgraph-health.ts).
      if (path === '/health/subgraphs') return sendJson(res, 200, JSON.stringify({ subgraphs: metrics.health.view() }));
      metrics.registry.metrics().then(
        (text) => sendJson(res, 200, text, metrics.registry.contentType),
        (err: Error) => {
          log.error({ err: err.stack ?? err.message }, 'collecting metrics failed');
          sendError(res, 'INTERNAL_SERVER_ERROR', 'Internal server error', req.headers.accept);
        },
      );
    },
  );
  return server;
}
