import type { Bundle, Patient } from '@medplum/fhirtypes';
import { startI18n, type I18n } from '../../web/pages/i18n/catalogue.js';
import type { Messages } from '../../web/pages/i18n/en.js';

/**
 * What every demo page shares: calls to the gateway (and to the demo's own little API) that fail
 * with the gateway's diagnostics, and the page's words from the catalogues under `demo`.
 */

/** An answer other than 2xx, with the OperationOutcome's (or OAuth's) explanation when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string | undefined,
  ) {
    super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
  }
}

interface CallOptions {
  method?: string;
  token?: string;
  json?: unknown;
  fhir?: boolean;
}

export async function api<T>(path: string, { method = 'GET', token, json, fhir = false }: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/fhir+json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = fhir ? 'application/fhir+json' : 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const body = (await res.json().catch(() => undefined)) as { issue?: { diagnostics?: string }[]; error_description?: string } | undefined;
  if (!res.ok) throw new ApiError(res.status, body?.issue?.[0]?.diagnostics ?? body?.error_description);
  return body as T;
}

/** A fresh gateway access token of the demo's kiosk or EHR client. */
export async function clientToken(role: 'kiosk' | 'ehr'): Promise<string> {
  return (await api<{ accessToken: string }>(`/demo/api/tokens/${role}`, { method: 'POST' })).accessToken;
}

/** The first given name of the check-in's Patient (the greeting on a shared screen shows no more). */
export function firstName(bundle: Bundle): string {
  const patient = (bundle.entry ?? []).map((e) => e.resource).find((r): r is Patient => r?.resourceType === 'Patient');
  return patient?.name?.[0]?.given?.[0] ?? '';
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A sentence the page shows, kept as a function of the catalogue so a language switch redraws it. */
export type Say = (m: Messages) => string;

/**
 * Starts the page's languages (html lang, marked markup, the switcher in #languages) and draws
 * the page's changing words with `draw` now and after every switch.
 */
export function startDemoPage(draw: (i18n: I18n) => void): I18n {
  const i18n = startI18n(draw);
  const switcher = document.getElementById('languages');
  if (switcher) i18n.mountSwitcher(switcher);
  return i18n;
}
