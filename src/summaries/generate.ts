import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { SafetyRuleId } from './advice/statement-check.js';
import { type AdviceChecks, adviceChecks } from './lazy-advice-checks.js';
import { checkModelOutput } from './check-output.js';
import { ModelCallError, type ModelReply, type SummaryModel } from './claude.js';
import type { VisitFacts } from './facts.js';
import type { SummaryMetrics } from './metrics.js';
import { TOOL_NAME, readabilityFeedback, userPrompt } from './prompt.js';
import type { ReadingLevel } from './readability.js';
import type { RedFlagHit } from './red-flags.js';
import { enforceSeekCare, readabilityOf } from './safety.js';
import type { FallbackReason, ModelOutput } from './schema.js';

/**
 * Claude's side of a summary: at most two attempts at an acceptable reply (the second one told
 * what was wrong with the first), then one more call if the accepted reply reads above the
 * requested level. So a summary costs at most three calls, each bounded by its own deadline.
 * A reply is acceptable when it matches the schema, cites only the facts sent, and every statement
 * passes the safety checks (advice/statement-check.ts). A summary in a language the checks have no
 * word lists for is not asked of the model at all.
 */

interface Outcome {
  calls: number;
  usage: Usage;
  /** Safety rules that refused a reply, in the order met (ids only: the text is never kept). */
  refusedRules: SafetyRuleId[];
}

export type Generation = ({ ok: true; output: ModelOutput } | { ok: false; reason: FallbackReason }) & Outcome;

interface Usage {
  inputTokens: number;
  outputTokens: number;
}

interface Accepted {
  output: ModelOutput;
  input: unknown;
  toolUseId: string | undefined;
}

const ATTEMPTS = 2;

function answerToolCall(first: MessageParam, call: { input: unknown; toolUseId: string | undefined }, feedback: string): MessageParam[] {
  if (!call.toolUseId) return [first];
  return [
    first,
    { role: 'assistant', content: [{ type: 'tool_use', id: call.toolUseId, name: TOOL_NAME, input: call.input }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.toolUseId, is_error: true, content: feedback }] },
  ];
}

type Checked = Accepted | { kind: FallbackReason; problem: string };

/** Schema and citations first, then the safety rules on every statement; refusals are counted by rule and remembered by id. */
function replyCheck(checks: AdviceChecks, facts: VisitFacts, redFlags: RedFlagHit[], metrics: SummaryMetrics, refusedRules: SafetyRuleId[]): (reply: ModelReply) => Checked {
  return (reply) => {
    const check = checkModelOutput(reply.toolInput, facts);
    const violations = check.ok ? checks.checkStatements(check.output, facts) : [];
    for (const v of violations) {
      metrics.unsafeStatements.inc({ rule: v.ruleId });
      if (!refusedRules.includes(v.ruleId)) refusedRules.push(v.ruleId);
    }
    metrics.calls.inc({ outcome: !check.ok ? check.kind : violations.length ? 'unsafe-advice' : 'ok' });
    if (!check.ok) return { kind: check.kind, problem: check.problem };
    if (violations.length) return { kind: 'unsafe-advice', problem: checks.safetyFeedback(violations) };
    return { output: enforceSeekCare(check.output, redFlags), input: reply.toolInput, toolUseId: reply.toolUseId };
  };
}

export async function generateWithModel(
  model: SummaryModel,
  facts: VisitFacts,
  redFlags: RedFlagHit[],
  opts: { language: string; readingLevel: ReadingLevel },
  metrics: SummaryMetrics,
): Promise<Generation> {
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const refusedRules: SafetyRuleId[] = [];
  const checks = await adviceChecks();
  if (!checks.languageChecked(opts.language)) return { ok: false, reason: 'unchecked-language', calls: 0, usage, refusedRules };
  let calls = 0;

  const call = async (messages: MessageParam[]): Promise<ModelReply | ModelCallError> => {
    calls += 1;
    const started = process.hrtime.bigint();
    const finish = (outcome: string) => metrics.callDuration.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    try {
      const reply = await model.call(messages);
      usage.inputTokens += reply.usage.inputTokens;
      usage.outputTokens += reply.usage.outputTokens;
      metrics.tokens.inc({ direction: 'input' }, reply.usage.inputTokens);
      metrics.tokens.inc({ direction: 'output' }, reply.usage.outputTokens);
      finish('ok');
      return reply;
    } catch (e) {
      if (!(e instanceof ModelCallError)) throw e;
      finish(e.kind);
      metrics.calls.inc({ outcome: e.kind });
      return e;
    }
  };

  const accept = replyCheck(checks, facts, redFlags, metrics, refusedRules);

  const first: MessageParam = { role: 'user', content: userPrompt(facts.facts, opts.language, opts.readingLevel) };
  let messages: MessageParam[] = [first];
  let accepted: Accepted | undefined;
  let reason: FallbackReason = 'api-error';
  for (let attempt = 0; attempt < ATTEMPTS && !accepted; attempt++) {
    const reply = await call(messages);
    if (reply instanceof ModelCallError) {
      if (reason !== 'unsafe-advice') reason = reply.kind === 'timeout' ? 'timeout' : 'api-error';
      if (!reply.retryable) break;
      continue;
    }
    const result = accept(reply);
    if ('output' in result) accepted = result;
    else {
      // Once a reply was unsafe, that is why the answer falls back, whatever the retry did.
      if (reason !== 'unsafe-advice') reason = result.kind;
      messages = answerToolCall(first, { input: reply.toolInput, toolUseId: reply.toolUseId }, result.problem);
    }
  }
  if (!accepted) return { ok: false, reason, calls, usage, refusedRules };

  const readability = readabilityOf(accepted.output, opts.language, opts.readingLevel);
  if (readability.withinTarget !== false || readability.fleschKincaidGrade === null) return { ok: true, output: accepted.output, calls, usage, refusedRules };

  // Too hard to read: one rewrite, kept only if it is valid and reads easier.
  const rewrite = await call(answerToolCall(first, accepted, readabilityFeedback(readability.fleschKincaidGrade, readability.targetGrade)));
  if (!(rewrite instanceof ModelCallError)) {
    const result = accept(rewrite);
    if ('output' in result) {
      const grade = readabilityOf(result.output, opts.language, opts.readingLevel).fleschKincaidGrade;
      if (grade !== null && grade < readability.fleschKincaidGrade) return { ok: true, output: result.output, calls, usage, refusedRules };
    }
  }
  return { ok: true, output: accepted.output, calls, usage, refusedRules };
}
