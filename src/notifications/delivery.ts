import type { Bundle } from '@medplum/fhirtypes';
import { OutboundError, type GuardedFetch } from '../net/types.js';
import type { SubscriptionErrorCode } from './backport.js';

export interface DeliveryError {
  code: SubscriptionErrorCode;
  /** For operators and the subscriber: names the failure, never the endpoint path or payload. */
  text: string;
}

/**
 * One POST's outcome: delivered (2xx); worth retrying (no answer, 408, 429, 5xx); rejected by the
 * endpoint (other 4xx, redirects), which the worker retries only a few times; or blocked by the
 * outbound guard, which no retry can fix.
 */
export type Attempt =
  | { kind: 'delivered' }
  | { kind: 'retry'; error: DeliveryError; retryAfterMs: number | undefined }
  | { kind: 'rejected'; error: DeliveryError }
  | { kind: 'blocked'; error: DeliveryError };

export interface Channel {
  endpoint: string;
  headers: readonly string[];
  contentType: string;
  timeoutSeconds: number;
}

/** A rejected event is tried this many times in all before it counts as failed. */
export const MAX_REJECTED_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 10 * 60 * 1000;
const RETRY_AFTER_CAP_MS = 60 * 60 * 1000;
// The endpoint's answer is only read for its status; a short cap keeps a chatty one cheap.
const RESPONSE_CAP_BYTES = 64 * 1024;

function headerRecord(lines: readonly string[], contentType: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  out['content-type'] = contentType;
  return out;
}

/** Retry-After as delay-seconds or an HTTP-date, in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - nowMs;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS) : undefined;
}

/**
 * Exponential backoff with jitter for the n-th failed attempt (1-based): 1 s, 2 s, 4 s ... up to
 * 10 min, each drawn from the upper half of its interval so replicas retrying together spread out.
 * A Retry-After the endpoint sent wins.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function fromOutboundError(e: OutboundError, timeoutSeconds: number): Attempt {
  switch (e.kind) {
    case 'insecure-scheme':
    case 'blocked-address':
    case 'bad-url':
      // Generic, as in outboundFailure: the guard's reason would tell the subscriber what an internal
      // name now resolves to (a DNS rebinding probe read back through $status).
      return { kind: 'blocked', error: { code: 'no-response', text: 'the endpoint is not an allowed destination' } };
    case 'timeout':
      return { kind: 'retry', error: { code: 'no-response', text: `no answer within ${timeoutSeconds} s` }, retryAfterMs: undefined };
    case 'dns':
    case 'unreachable':
      return { kind: 'retry', error: { code: e.kind === 'dns' ? 'dns-resolution-error' : 'no-response', text: e.message }, retryAfterMs: undefined };
    case 'too-large':
    case 'status':
    case 'bad-body':
      return { kind: 'retry', error: { code: 'error-response', text: 'the endpoint answered with an oversized body' }, retryAfterMs: undefined };
    case 'too-many-redirects':
      return { kind: 'rejected', error: { code: 'error-response', text: 'the endpoint answered with a redirect; notifications are not redirected' } };
  }
}

/** POSTs one notification through the SSRF-guarded fetch and classifies the outcome. */
export async function postNotification(fetch: GuardedFetch, channel: Channel, bundle: Bundle, nowMs: () => number): Promise<Attempt> {
  let status: number;
  let headers: Record<string, string>;
  try {
    ({ status, headers } = await fetch(channel.endpoint, {
      method: 'POST',
      headers: headerRecord(channel.headers, channel.contentType),
      body: JSON.stringify(bundle),
      timeoutMs: channel.timeoutSeconds * 1000,
      maxBytes: RESPONSE_CAP_BYTES,
      maxRedirects: 0,
    }));
  } catch (e) {
    if (e instanceof OutboundError) return fromOutboundError(e, channel.timeoutSeconds);
    throw e;
  }
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const error: DeliveryError = { code: 'error-response', text: `HTTP ${status} from the endpoint` };
  if (status >= 500 || status === 408 || status === 429) return { kind: 'retry', error, retryAfterMs: parseRetryAfter(headers['retry-after'], nowMs()) };
  return { kind: 'rejected', error };
}
