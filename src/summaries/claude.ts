import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { once } from '../once.js';
import { SYSTEM_PROMPT, TOOL_NAME, summaryTool } from './prompt.js';

/**
 * One call to Claude through the SDK: the fixed system prompt, the summary tool forced with
 * tool_choice, the SDK's own retries for 429/5xx/connection errors (honouring retry-after), and a
 * deadline over the whole call including those retries, so one call never outlasts `timeoutMs`.
 */

export interface ClaudeSettings {
  apiKey: string;
  baseUrl: string | undefined;
  model: string;
  /** Deadline of one call, SDK retries included. */
  timeoutMs: number;
}

export type CallFailureKind = 'timeout' | 'rate-limited' | 'unavailable' | 'rejected';

/** Carries only the kind and HTTP status: SDK error messages can echo request details. */
export class ModelCallError extends Error {
  constructor(
    readonly kind: CallFailureKind,
    readonly status?: number,
  ) {
    super(`model call failed: ${kind}${status ? ` (HTTP ${status})` : ''}`);
    this.name = 'ModelCallError';
  }

  /** Worth one more attempt: the service was slow, busy or briefly failing, not refusing the request. */
  get retryable(): boolean {
    return this.kind !== 'rejected';
  }
}

export interface ModelReply {
  /** The forced tool call's input and id (to answer it on a retry); undefined when the reply has no such call. */
  toolInput: unknown;
  toolUseId: string | undefined;
  usage: { inputTokens: number; outputTokens: number };
}

export interface SummaryModel {
  readonly model: string;
  call(messages: MessageParam[]): Promise<ModelReply>;
}

const SDK_RETRIES = 2;
const MAX_OUTPUT_TOKENS = 4096;

// Loaded with the first call (about 170 ms of start otherwise), and not at all by a gateway without a key.
const loadSdk = once(() => import('@anthropic-ai/sdk').then((m) => m.default));

function classify(e: unknown, Sdk: typeof Anthropic): ModelCallError {
  if (e instanceof Sdk.APIUserAbortError || e instanceof Sdk.APIConnectionTimeoutError) return new ModelCallError('timeout');
  if (e instanceof Sdk.RateLimitError) return new ModelCallError('rate-limited', 429);
  if (e instanceof Sdk.InternalServerError) return new ModelCallError('unavailable', e.status);
  if (e instanceof Sdk.APIConnectionError) return new ModelCallError('unavailable');
  if (e instanceof Sdk.APIError) return new ModelCallError('rejected', e.status);
  return new ModelCallError('rejected');
}

export function createClaudeModel(s: ClaudeSettings): SummaryModel {
  const connect = once(() =>
    loadSdk().then((Sdk) => ({
      Sdk,
      client: new Sdk({
        apiKey: s.apiKey,
        // null, not undefined: the SDK would otherwise read these from the environment itself.
        baseURL: s.baseUrl ?? null,
        webhookKey: null,
        maxRetries: SDK_RETRIES,
        timeout: s.timeoutMs,
        // The SDK logs to the console by default; nothing of a call may reach a log.
        logLevel: 'off',
      }),
    })),
  );
  return {
    model: s.model,
    async call(messages) {
      // The deadline covers loading the SDK on the first call too.
      const signal = AbortSignal.timeout(s.timeoutMs);
      let sdk: Awaited<ReturnType<typeof connect>>;
      try {
        sdk = await connect();
      } catch {
        // An SDK that cannot load is a model that is not there: the summary falls back, as for an outage.
        throw new ModelCallError('unavailable');
      }
      let message: Anthropic.Message;
      try {
        message = await sdk.client.messages.create(
          {
            model: s.model,
            max_tokens: MAX_OUTPUT_TOKENS,
            system: SYSTEM_PROMPT,
            tools: [summaryTool()],
            tool_choice: { type: 'tool', name: TOOL_NAME },
            messages,
          },
          { signal },
        );
      } catch (e) {
        throw classify(e, sdk.Sdk);
      }
      const call = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use' && b.name === TOOL_NAME);
      return {
        toolInput: call?.input,
        toolUseId: call?.id,
        usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
      };
    },
  };
}
