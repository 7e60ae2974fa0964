import type { Module } from '../module.js';
import type { Services } from '../services.js';
import { createClaudeModel } from './claude.js';
import { summaryMetrics } from './metrics.js';
import { summaryRoutes } from './routes.js';

export function summariesModule(s: Services): Module {
  const { apiKey, baseUrl, model, timeoutMs } = s.config.anthropic;
  return {
    router: summaryRoutes(s, {
      db: s.db,
      audit: s.audit,
      clock: s.clock,
      metrics: summaryMetrics(s.metrics.registry),
      model: apiKey ? createClaudeModel({ apiKey, baseUrl, model, timeoutMs }) : undefined,
    }),
  };
}
