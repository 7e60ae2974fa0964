import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per gateway instance (tests build several); capabilities add their own metrics to it. */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

const registered = new WeakMap<Registry, Map<string, unknown>>();

/**
 * An area's metrics on `registry`, made on first use and shared afterwards (routes and workers of
 * one instance ask separately; building the app twice over the same services must not register
 * twice, which prom-client refuses).
 */
export function metricsOnce<T>(registry: Registry, area: string, make: () => T): T {
  const areas = registered.get(registry) ?? new Map<string, unknown>();
  registered.set(registry, areas);
  if (!areas.has(area)) areas.set(area, make());
  return areas.get(area) as T;
}
