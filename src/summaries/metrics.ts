import { Counter, Histogram, type Registry } from 'prom-client';
import { metricsOnce } from '../ops/metrics.js';

/** AI calls, their latency and outcome, token use, and how each summary was answered. */
export interface SummaryMetrics {
  calls: Counter<'outcome'>;
  callDuration: Histogram<'outcome'>;
  tokens: Counter<'direction'>;
  answers: Counter<'source'>;
  fallbacks: Counter<'reason'>;
  unsafeStatements: Counter<'rule'>;
}

export function summaryMetrics(registry: Registry): SummaryMetrics {
  const registers = [registry];
  return metricsOnce(registry, 'summaries', () => ({
    calls: new Counter({
      name: 'ai_calls_total',
      help: 'Calls to the Claude Messages API by outcome: ok, invalid-output, unknown-reference, unsafe-advice (reply refused), timeout, rate-limited, unavailable, rejected',
      labelNames: ['outcome'],
      registers,
    }),
    callDuration: new Histogram({
      name: 'ai_call_duration_seconds',
      help: 'Latency of Claude calls (SDK retries included) by transport outcome',
      labelNames: ['outcome'],
      buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
      registers,
    }),
    tokens: new Counter({ name: 'ai_tokens_total', help: 'Claude tokens used, input and output', labelNames: ['direction'], registers }),
    answers: new Counter({
      name: 'plain_language_summaries_total',
      help: 'Plain-language summaries answered, by source (ai, fallback, cache)',
      labelNames: ['source'],
      registers,
    }),
    fallbacks: new Counter({
      name: 'plain_language_summary_fallbacks_total',
      help: 'Summaries answered by the deterministic fallback, by reason',
      labelNames: ['reason'],
      registers,
    }),
    unsafeStatements: new Counter({
      name: 'ai_unsafe_statements_total',
      help: 'AI statements refused by a safety rule (medicine-change, invented-number, unknown-medicine, educational-personal, guidance-uncited, speaks-to-model, lookalike-letters), by rule',
      labelNames: ['rule'],
      registers,
    }),
  }));
}
