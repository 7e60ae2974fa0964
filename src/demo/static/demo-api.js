// What every demo page shares: its strings put in place from the page's one message object, and
// calls to the gateway (and to the demo's own little API) that fail with the gateway's diagnostics.

/** Sets the text of every element with data-msg="<key>" from the page's messages. */
export function applyMessages(messages) {
  for (const el of document.querySelectorAll('[data-msg]')) {
    const text = messages[el.dataset.msg];
    if (typeof text === 'string') el.textContent = text;
  }
  for (const el of document.querySelectorAll('[data-msg-alt]')) {
    const text = messages[el.dataset.msgAlt];
    if (typeof text === 'string') el.alt = text;
  }
  if (typeof messages.pageTitle === 'string') document.title = messages.pageTitle;
}

export const $ = (id) => document.getElementById(id);

/** An answer other than 2xx, with the OperationOutcome's (or OAuth's) explanation when there is one. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
    this.status = status;
  }
}

export async function api(path, { method = 'GET', token, json, fhir = false } = {}) {
  const headers = { Accept: 'application/json, application/fhir+json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = fhir ? 'application/fhir+json' : 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiError(res.status, body?.issue?.[0]?.diagnostics ?? body?.error_description);
  return body;
}

/** A fresh gateway access token of the demo's kiosk or EHR client. */
export async function clientToken(role) {
  return (await api(`/demo/api/tokens/${role}`, { method: 'POST' })).accessToken;
}

/** The first given name of the check-in's Patient (the greeting on a shared screen shows no more). */
export function firstName(bundle) {
  const patient = (bundle.entry ?? []).map((e) => e.resource).find((r) => r?.resourceType === 'Patient');
  return patient?.name?.[0]?.given?.[0] ?? '';
}
