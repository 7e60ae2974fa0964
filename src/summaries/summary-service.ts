import type { AuditEntry, AuditService } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/db.js';
import type { VisitRecord } from '../visits/visit-store.js';
import { adviceChecks } from './lazy-advice-checks.js';
import { buildAnswer, outputOf, type Origin } from './answer.js';
import type { SummaryModel } from './claude.js';
import { fallbackOutput } from './fallback.js';
import { extractFacts } from './facts.js';
import { generateWithModel, type Generation } from './generate.js';
import type { SummaryMetrics } from './metrics.js';
import type { ReadingLevel } from './readability.js';
import { findRedFlags } from './red-flags.js';
import type { PlainLanguageSummary } from './schema.js';
import { cachedSummary, dropSummary, storeSummary, type CacheKey } from './summary-cache.js';

export interface SummaryDeps {
  db: Db;
  audit: AuditService;
  clock: Clock;
  metrics: SummaryMetrics;
  /** Undefined without ANTHROPIC_API_KEY: every answer is the deterministic one. */
  model: SummaryModel | undefined;
}

export interface SummaryRequest {
  visit: VisitRecord;
  language: string;
  readingLevel: ReadingLevel;
  audit: Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'>;
}

/**
 * A visit's plain-language summary: from the cache when this version of the visit was already
 * summarised by Claude in this language and level and the stored answer still passes the safety
 * checks, else written now (Claude, or the fallback when
 * there is no key or Claude did not give an acceptable reply). Only Claude's answers are cached: a
 * fallback after a failure should not outlive the failure. Each answer is audited with who asked,
 * the model, token counts and the ids of the safety rules that refused a reply, never the text.
 */
export async function plainLanguageSummary(deps: SummaryDeps, req: SummaryRequest): Promise<PlainLanguageSummary> {
  const key: CacheKey = { visitId: req.visit.id, visitVersion: req.visit.version, language: req.language, readingLevel: req.readingLevel };
  const audit = (detail: Record<string, unknown>) =>
    deps.audit.record({
      ...req.audit,
      action: 'E',
      subtype: 'visit.plain-language-summary',
      organization: req.visit.organization,
      entity: { type: 'Bundle', id: req.visit.id },
      detail: { visitVersion: req.visit.version, language: req.language, readingLevel: req.readingLevel, ...detail },
    });

  const facts = extractFacts(req.visit.bundle);
  const cached = await cachedSummary(deps.db, key);
  // Checked again on the way out: an entry written before a rule was added or tightened is never served.
  const stale = cached ? (await adviceChecks()).checkStatements(outputOf(cached, facts), facts) : [];
  for (const v of stale) deps.metrics.unsafeStatements.inc({ rule: v.ruleId });
  if (cached && !stale.length) {
    deps.metrics.answers.inc({ source: 'cache' });
    await audit({ cached: true, aiGenerated: cached.aiGenerated, model: cached.model });
    return cached;
  }
  if (cached) await dropSummary(deps.db, key);

  const redFlags = findRedFlags(facts.facts);
  let generation: Generation = { ok: false, reason: 'no-api-key', calls: 0, usage: { inputTokens: 0, outputTokens: 0 }, refusedRules: [] };
  let origin: Origin = { aiGenerated: false, fallbackReason: 'no-api-key' };
  if (deps.model) {
    generation = await generateWithModel(deps.model, facts, redFlags, { language: req.language, readingLevel: req.readingLevel }, deps.metrics);
    origin = generation.ok ? { aiGenerated: true, model: deps.model.model } : { aiGenerated: false, fallbackReason: generation.reason };
  }
  const now = new Date(deps.clock.now());
  const answer = buildAnswer({
    output: generation.ok ? generation.output : fallbackOutput(extractFacts(req.visit.bundle, { redact: false }), redFlags),
    facts,
    redFlags,
    key,
    origin,
    generatedAt: now.toISOString(),
  });

  if (answer.aiGenerated) await deps.db.transaction((tx) => storeSummary(tx, key, answer, now));
  deps.metrics.answers.inc({ source: answer.aiGenerated ? 'ai' : 'fallback' });
  if (answer.fallbackReason) deps.metrics.fallbacks.inc({ reason: answer.fallbackReason });
  await audit({
    cached: false,
    aiGenerated: answer.aiGenerated,
    model: deps.model?.model ?? null,
    ...(answer.fallbackReason ? { fallbackReason: answer.fallbackReason } : {}),
    ...(generation.refusedRules.length ? { safetyRules: generation.refusedRules } : {}),
    calls: generation.calls,
    inputTokens: generation.usage.inputTokens,
    outputTokens: generation.usage.outputTokens,
    redFlags: answer.redFlags.length,
  });
  return answer;
}
