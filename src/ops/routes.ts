import { Router } from 'express';
import { pendingMigrations } from '../db/migrate.js';
import { issue, outcome } from '../http/http-error.js';
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
      const missing = await pendingMigrations(s.db, s.migrations);
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
