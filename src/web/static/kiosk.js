// Kiosk check-in page: opens a check-in session, shows its QR code, follows the session until the
// patient's wallet submits, then greets them by first name. No framework; the page's CSP allows
// only same-origin scripts and styles, so nothing here is inline.

import { offerMobileDriversLicence } from './kiosk-mdl.js';

const TOKEN_KEY = 'ktc-gateway.kiosk-token';
const POLL_MS = 2000;
const RETRY_MS = 5000;
// The greeting shows a name on a public screen, so it does not stay up for long.
const RESET_AFTER_MS = 60000;

const $ = (id) => document.getElementById(id);

class HttpStatusError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

/** The current session's controller: aborting it stops its requests and timers. */
let current;

const token = () => sessionStorage.getItem(TOKEN_KEY);

/** `/kiosk#token=...`: keep the token in this tab's storage and drop it from the address bar and history. */
function takeTokenFromFragment() {
  const value = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value.trim());
  history.replaceState(null, '', location.pathname + location.search);
}

function show(section) {
  for (const id of ['setup', 'waiting', 'done']) $(id).hidden = id !== section;
}

function say(text) {
  $('status').textContent = text;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

async function api(path, { method = 'GET', accept = 'application/json', signal }) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token()}`, Accept: accept },
    cache: 'no-store',
    signal,
  });
  if (!res.ok) throw new HttpStatusError(res.status);
  return res;
}

const sessionPath = (id) => `/checkin/sessions/${encodeURIComponent(id)}`;

/** Server-Sent Events read from a fetch body (EventSource cannot send an Authorization header). */
async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // A trailing CR waits for the next chunk: it may be the first half of CRLF.
      buffer = (buffer + value).replace(/\r\n|\r(?!$)/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') type = text;
          else if (field === 'data') data.push(text);
        }
        if (data.length) yield { type, data: data.join('\n') };
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** The session's final state from the event stream, or undefined when the stream ended early. */
async function followEvents(id, signal) {
  const res = await api(sessionPath(id), { accept: 'text/event-stream', signal });
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const view = await res.json();
    return view.status === 'waiting' ? undefined : view;
  }
  for await (const event of readEvents(res.body)) {
    if (event.type !== 'status') continue;
    const view = JSON.parse(event.data);
    if (view.status !== 'waiting') return view;
  }
  return undefined;
}

async function poll(id, signal) {
  for (;;) {
    await sleep(POLL_MS, signal);
    try {
      const view = await (await api(sessionPath(id), { signal })).json();
      if (view.status !== 'waiting') return view;
    } catch (err) {
      // A network blip is retried; an answer from the gateway (401, 404...) is not.
      if (err instanceof HttpStatusError || signal.aborted) throw err;
    }
  }
}

async function follow(id, signal) {
  try {
    const view = await followEvents(id, signal);
    if (view) return view;
  } catch (err) {
    if (err instanceof HttpStatusError || signal.aborted) throw err;
  }
  return poll(id, signal);
}

function firstGivenName(bundle) {
  const patient = (bundle.entry ?? []).map((e) => e.resource).find((r) => r?.resourceType === 'Patient');
  const names = patient?.name ?? [];
  const name = names.find((n) => n.use === 'usual') ?? names.find((n) => n.use === 'official') ?? names[0];
  const given = name?.given?.find((g) => typeof g === 'string' && g.trim()) ?? name?.text?.trim().split(/\s+/)[0];
  return typeof given === 'string' && given.trim() ? given.trim() : undefined;
}

function showQr(session) {
  $('qr').src = session.qr.png;
  $('waiting').dataset.sessionId = session.id;
  const expires = $('expires');
  expires.dateTime = session.expiresAt;
  expires.textContent = new Date(session.expiresAt).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  offerMobileDriversLicence(session, token());
  show('waiting');
}

async function showCheckedIn(checkinId, signal) {
  let name;
  try {
    const bundle = await (await api(`/checkin/${encodeURIComponent(checkinId)}`, { accept: 'application/fhir+json', signal })).json();
    name = firstGivenName(bundle);
  } catch (err) {
    // Without checkin.read the kiosk still knows the check-in happened, just not who it was.
    if (!(err instanceof HttpStatusError) || (err.status !== 403 && err.status !== 404)) throw err;
  }
  delete $('waiting').dataset.sessionId;
  $('qr').removeAttribute('src');
  say('');
  $('done-message').textContent = name ? `Checked in: ${name}` : 'Checked in';
  show('done');
  $('done-message').focus();
  await sleep(RESET_AFTER_MS, signal);
  startSession();
}

function needToken(message) {
  current?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  show('setup');
  say(message);
  $('token').focus();
}

async function runSession(signal, message) {
  try {
    const session = await (await api('/checkin/sessions', { method: 'POST', signal })).json();
    say(message);
    showQr(session);
    const final = await follow(session.id, signal);
    if (final.status === 'completed') await showCheckedIn(final.checkinId, signal);
    else startSession('That code has expired. Here is a new one.');
  } catch (err) {
    if (signal.aborted) return;
    if (err instanceof HttpStatusError && err.status === 401) return needToken('This kiosk token was not accepted. Ask your administrator for a new one.');
    if (err instanceof HttpStatusError && err.status === 403) return needToken('This kiosk token is not allowed to check people in.');
    if (err instanceof HttpStatusError && err.status === 404) return startSession('Here is a new code.');
    say('Cannot reach the check-in service right now. Trying again…');
    await sleep(RETRY_MS, signal).then(() => startSession(), () => undefined);
  }
}

function startSession(message = '') {
  current?.abort();
  current = new AbortController();
  if (!token()) return needToken('');
  void runSession(current.signal, message);
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('token');
  const value = input.value.trim();
  if (!value) {
    say('Paste the kiosk access token first.');
    input.focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  input.value = '';
  startSession();
});

$('next').addEventListener('click', () => startSession());

window.addEventListener('hashchange', () => {
  if (!location.hash.includes('token=')) return;
  takeTokenFromFragment();
  startSession();
});

takeTokenFromFragment();
startSession();
