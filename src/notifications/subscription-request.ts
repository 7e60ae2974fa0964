import type { Extension, OperationOutcomeIssue, Subscription } from '@medplum/fhirtypes';
import { HttpError, badRequest, issue, outcome } from '../fhir/outcome.js';
import type { FhirValidator } from '../fhir/validator.js';
import { FHIR_VERSION_PARAMETERS } from '../fhir/version.js';
import { BP, PAYLOAD_CONTENTS, type PayloadContent } from './backport.js';
import { FilterError, PATIENT_IDENTIFIER, parseFilterCriteria, type Filter } from './filters.js';
import { TOPICS, topicByUrl, type Topic } from './topics.js';

/** What the gateway honours; anything outside is refused rather than silently changed. */
export const LIMITS = {
  timeoutSeconds: { min: 1, max: 60, default: 10 },
  heartbeatSeconds: { min: 1, max: 86_400 },
  maxCount: { min: 1, max: 100 },
  headers: 10,
  headerBytes: 4096,
  /** Identifiers of the one patient a subscription names (an MRN per organization, the verified identity ...). */
  patientIdentifiers: 20,
} as const;

/** A Subscription the gateway will honour, as the delivery side needs it. */
export interface SubscriptionRequest {
  topic: Topic;
  /** Filters read off the event's resource (patient identifiers are in patientKeys instead). */
  filters: Filter[];
  /** `system|value` of the patient filter, any of which matches; empty when there is none. */
  patientKeys: string[];
  endpoint: string;
  /** channel.header lines, `Name: value`. */
  headers: string[];
  contentType: string;
  payload: PayloadContent;
  heartbeatSeconds: number | undefined;
  timeoutSeconds: number;
  maxCount: number | undefined;
  end: Date | undefined;
  /** The resource to store: no id or meta, header values redacted. */
  resource: Subscription;
}

const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n]*)$/;
// The gateway sets these itself; a subscriber-chosen value would corrupt or smuggle the request.
const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

/** The extensions of a primitive's `_element`, whatever shape the client sent. */
function extensionsOf(element: unknown): Extension[] {
  const list = (element as { extension?: unknown } | null | undefined)?.extension;
  return Array.isArray(list) ? list.filter((e): e is Extension => typeof e === 'object' && e !== null) : [];
}

export function redactHeader(line: string): string {
  const m = HEADER_LINE.exec(line);
  return m ? `${m[1]}: [redacted]` : '[redacted]';
}

function integerExtension(
  extensions: Extension[] | undefined,
  url: string,
  key: 'valueUnsignedInt' | 'valuePositiveInt',
  range: { min: number; max: number },
  label: string,
  at: string,
  issues: OperationOutcomeIssue[],
): number | undefined {
  const ext = extensions?.find((e) => e?.url === url);
  if (!ext) return undefined;
  const v = ext[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max) {
    issues.push(issue('not-supported', `${label} must be ${key} from ${range.min} to ${range.max}`, [at]));
    return undefined;
  }
  return v;
}

/** `application/fhir+json` (or `application/json`), optionally `; fhirVersion=4.0`: the only payload the gateway produces. */
function parseContentType(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || !payload) return undefined;
  const [type, ...params] = payload.split(';').map((p) => p.trim());
  if (type !== 'application/fhir+json' && type !== 'application/json') return undefined;
  for (const p of params) {
    const [k, v] = p.split('=').map((x) => x.trim());
    if (k === 'fhirVersion' && !FHIR_VERSION_PARAMETERS.includes(v ?? '')) return undefined;
  }
  return payload.trim();
}

function checkEndpoint(endpoint: unknown, issues: OperationOutcomeIssue[]): string | undefined {
  const at = ['Subscription.channel.endpoint'];
  if (typeof endpoint !== 'string' || !endpoint) {
    issues.push(issue('required', 'A rest-hook subscription needs channel.endpoint', at));
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    issues.push(issue('value', 'channel.endpoint is not an absolute URL', at));
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') issues.push(issue('value', 'channel.endpoint must be an https URL', at));
  else if (url.username || url.password) issues.push(issue('security', 'channel.endpoint must not carry credentials; use channel.header', at));
  return endpoint;
}

function checkHeaders(headers: unknown, issues: OperationOutcomeIssue[]): string[] {
  if (headers !== undefined && !(Array.isArray(headers) && headers.every((h) => typeof h === 'string'))) {
    issues.push(issue('structure', 'channel.header must be an array of strings', ['Subscription.channel.header']));
    return [];
  }
  const list = (headers ?? []) as string[];
  if (list.length > LIMITS.headers) issues.push(issue('not-supported', `At most ${LIMITS.headers} channel.header lines`, ['Subscription.channel.header']));
  list.forEach((line, i) => {
    const at = [`Subscription.channel.header[${i}]`];
    const m = HEADER_LINE.exec(line);
    if (!m || Buffer.byteLength(line) > LIMITS.headerBytes) issues.push(issue('value', 'A channel.header must be one "Name: value" line', at));
    else if (RESERVED_HEADERS.has((m[1] as string).toLowerCase())) issues.push(issue('not-supported', `The gateway sets ${m[1]} itself`, at));
  });
  return list;
}

/** The backport-filter-criteria extensions on criteria, parsed against what the topic can filter by. */
function checkFilters(sub: Subscription, topic: NonNullable<ReturnType<typeof topicByUrl>>, issues: OperationOutcomeIssue[]): Filter[] {
  const filters: Filter[] = [];
  for (const [i, ext] of extensionsOf((sub as { _criteria?: unknown })._criteria).entries()) {
    if (ext.url !== BP.filterCriteria) continue;
    const at = [`Subscription.criteria.extension[${i}]`];
    if (typeof ext.valueString !== 'string') {
      issues.push(issue('value', 'backport-filter-criteria takes a valueString', at));
      continue;
    }
    try {
      filters.push(...parseFilterCriteria(ext.valueString, topic.resourceType, topic.canFilterBy));
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      issues.push(issue('not-supported', `Filter criteria not supported: ${e.message}`, at));
    }
  }
  return filters;
}

/** The payload's MIME type (FHIR JSON only) and its backport-payload-content. */
function checkPayload(
  channel: Subscription['channel'],
  issues: OperationOutcomeIssue[],
): { contentType: ReturnType<typeof parseContentType>; payload: PayloadContent | undefined } {
  const contentType = parseContentType(channel.payload);
  if (!contentType) {
    issues.push(issue('not-supported', 'channel.payload must be application/fhir+json (FHIR R4): the only format this server sends', ['Subscription.channel.payload']));
  }
  const contentExt = extensionsOf((channel as { _payload?: unknown })._payload).find((e) => e.url === BP.payloadContent);
  const payload = contentExt?.valueCode as PayloadContent | undefined;
  if (!payload || !PAYLOAD_CONTENTS.includes(payload)) {
    issues.push(
      issue('not-supported', `channel.payload needs the backport-payload-content extension with valueCode ${PAYLOAD_CONTENTS.join(' | ')}`, [
        'Subscription.channel.payload.extension',
      ]),
    );
  }
  return { contentType, payload };
}

/**
 * Checks a Subscription against the base spec and the backport profile, and against what the
 * gateway honours (topics, filters, rest-hook, JSON payloads, limits). Throws 400 for something
 * that is not a Subscription, 422 listing every problem otherwise. The endpoint's address is
 * judged separately, by the outbound guard.
 */
export function parseSubscriptionRequest(body: unknown, fhir: FhirValidator, now: number): SubscriptionRequest {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'Subscription') {
    throw badRequest('The body must be a FHIR Subscription resource');
  }
  const sub = body as Subscription;
  fhir.validate(sub);
  const issues: OperationOutcomeIssue[] = [];

  const topic = typeof sub.criteria === 'string' ? topicByUrl(sub.criteria) : undefined;
  if (!topic) {
    issues.push(issue('not-supported', `criteria must be the canonical URL of a topic this server offers: ${TOPICS.map((t) => t.url).join(', ')}`, ['Subscription.criteria']));
  }
  const filters = topic ? checkFilters(sub, topic, issues) : [];

  if (sub.status !== 'requested' && sub.status !== 'active') {
    issues.push(issue('value', 'A new Subscription has status requested (the server activates it after the handshake)', ['Subscription.status']));
  }
  const end = typeof sub.end === 'string' && sub.end ? new Date(sub.end) : undefined;
  if (end && end.getTime() <= now) issues.push(issue('value', 'end is in the past', ['Subscription.end']));

  // The validator lets some malformed values through (empty strings, for one), so shapes are checked again.
  const channel: Subscription['channel'] = typeof sub.channel === 'object' && sub.channel !== null ? sub.channel : ({} as Subscription['channel']);
  if (channel.type !== 'rest-hook' || extensionsOf((channel as { _type?: unknown })._type).some((e) => e.url === BP.channelType)) {
    issues.push(issue('not-supported', 'Only the rest-hook channel is supported', ['Subscription.channel.type']));
  }
  const endpoint = checkEndpoint(channel.endpoint, issues);
  const headers = checkHeaders(channel.header, issues);
  const { contentType, payload } = checkPayload(channel, issues);
  const ext = Array.isArray(channel.extension) ? channel.extension : undefined;
  if (channel.extension !== undefined && !ext) issues.push(issue('structure', 'channel.extension must be an array', ['Subscription.channel.extension']));
  const heartbeatSeconds = integerExtension(
    ext,
    BP.heartbeatPeriod,
    'valueUnsignedInt',
    LIMITS.heartbeatSeconds,
    'backport-heartbeat-period',
    'Subscription.channel.extension',
    issues,
  );
  const timeoutSeconds =
    integerExtension(ext, BP.timeout, 'valueUnsignedInt', LIMITS.timeoutSeconds, 'backport-timeout', 'Subscription.channel.extension', issues) ?? LIMITS.timeoutSeconds.default;
  const maxCount = integerExtension(ext, BP.maxCount, 'valuePositiveInt', LIMITS.maxCount, 'backport-max-count', 'Subscription.channel.extension', issues);

  const patientTerms = filters.filter((f) => f.name === PATIENT_IDENTIFIER);
  if (patientTerms.some((f) => f.values.length > LIMITS.patientIdentifiers)) {
    issues.push(issue('not-supported', `At most ${LIMITS.patientIdentifiers} identifiers in ${PATIENT_IDENTIFIER}`, ['Subscription.criteria.extension']));
  }
  if (patientTerms.length > 1) {
    issues.push(issue('not-supported', `Give one ${PATIENT_IDENTIFIER} filter, with alternative identifiers comma-separated`, ['Subscription.criteria.extension']));
  }
  if (issues.length || !topic || !endpoint || !contentType || !payload) throw new HttpError(422, outcome(issues));

  const { id: _id, meta: _meta, ...rest } = sub;
  const resource: Subscription = {
    ...rest,
    status: 'requested',
    channel: { ...channel, ...(channel.header ? { header: channel.header.map(redactHeader) } : {}) },
  };
  const patientKeys = [...new Set(patientTerms.flatMap((f) => f.values))];
  const resourceFilters = filters.filter((f) => f.name !== PATIENT_IDENTIFIER);
  return { topic, filters: resourceFilters, patientKeys, endpoint, headers, contentType, payload, heartbeatSeconds, timeoutSeconds, maxCount, end, resource };
}
