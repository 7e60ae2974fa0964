import type { Module } from '../module.js';
import type { Services } from '../services.js';
import { createClaudeModel } from './claude.js';
import { summaryMetrics } from './metrics.js';
import { summaryRoutes } from './routes.js';
import type { SummaryDeps } from './summary-service.js';

const depsOf = new WeakMap<Services, SummaryDeps>();

/** One set per gateway: the visit-summary route writes summaries with the same model and metrics (registered once). */
export function summaryDeps(s: Services): SummaryDeps {
  let deps = depsOf.get(s);
  if (!deps) {
    const { apiKey, baseUrl, model, timeoutMs } = s.config.anthropic;
    deps = {
      db: s.db,
      audit: s.audit,
      clock: s.clock,
      metrics: summaryMetrics(s.metrics.registry),
      model: apiKey ? createClaudeModel({ apiKey, baseUrl, model, timeoutMs }) : undefined,
    };
    depsOf.set(s, deps);
  }
  return deps;
}

export function summariesModule(s: Services): Module {
  return { router: summaryRoutes(s, summaryDeps(s)) };
}
