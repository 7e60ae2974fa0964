import { Counter, type Registry } from 'prom-client';
import { metricsOnce } from '../ops/metrics.js';

/** SHL counters (the host routes and the receiver share them). */
export interface ShlMetrics {
  /** Host: manifest requests by outcome (ok, passcode, inactive, invalid). */
  manifestRequests: Counter<'outcome'>;
  /** Host: encrypted-file requests by route (location, direct) and outcome (ok, inactive). */
  fileRequests: Counter<'route' | 'outcome'>;
  /** Receiver: link retrievals by outcome (ok, or the error code). */
  retrievals: Counter<'outcome'>;
}

export function shlMetrics(registry: Registry): ShlMetrics {
  return metricsOnce(registry, 'shl', () => ({
    manifestRequests: new Counter({
      name: 'shl_manifest_requests_total',
      help: 'SMART Health Link manifest requests served, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    fileRequests: new Counter({
      name: 'shl_file_requests_total',
      help: 'SMART Health Link encrypted-file requests served, by route and outcome',
      labelNames: ['route', 'outcome'],
      registers: [registry],
    }),
    retrievals: new Counter({
      name: 'shl_retrievals_total',
      help: 'SMART Health Links fetched and decrypted as a receiver, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  }));
}
