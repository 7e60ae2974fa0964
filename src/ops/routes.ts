import { Router } from 'express';
import { issue, outcome } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import type { Services } from '../services.js';

/** Liveness, readiness and Prometheus metrics. */
export function opsRoutes(s: Pick<Services, 'db' | 'metrics' | 'migrations'>): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/ready', async (_req, res) => {
    try {
      const { rows } = await s.db.query<{ name: string }>('SELECT name FROM schema_migration');
      const done = new Set(rows.map((x) => x.name));
      const missing = s.migrations.filter((m) => !done.has(m));
      if (missing.length) {
        sendFhir(res, 503, outcome([issue('transient', `Migrations not yet applied: ${missing.join(', ')}`)]));
        return;
      }
      res.json({ status: 'ready', database: s.db.kind });
    } catch {
      sendFhir(res, 503, outcome([issue('transient', 'The database is unreachable')]));
    }
  });
  r.get('/metrics', async (_req, res) => {
    res.type(s.metrics.registry.contentType).send(await s.metrics.registry.metrics());
  });
  return r;
}
