import { byId, el } from '../dom.js';
import { startI18n, type I18n } from '../i18n/catalogue.js';
import type { Messages } from '../i18n/en.js';
import { renderExtensions, showSessionToExtensions, startExtensions, type KioskContext, type KioskSession } from './extensions.js';
import './mdl.js';
import { HttpStatusError, api, firstGivenName, follow, sleep } from './session.js';

/**
 * Kiosk check-in page: opens a check-in session, shows its QR code, follows the session until the
 * patient's wallet submits, then greets them by first name. The page's CSP allows only
 * same-origin scripts and styles, so nothing here is inline.
 */

const TOKEN_KEY = 'ktc-gateway.kiosk-token';
const RETRY_MS = 5000;
// The greeting shows a name on a public screen, so it does not stay up for long.
const RESET_AFTER_MS = 60000;

type Say = (m: Messages) => string;
const shown: { status?: Say; expiresAt?: string; checkedIn?: { name: string | undefined } } = {};

/** Set once the page's i18n exists (its first render runs before). */
let context: KioskContext | undefined;

/** The current session's controller: aborting it stops its requests and timers. */
let current: AbortController | undefined;

const token = () => sessionStorage.getItem(TOKEN_KEY);

/** `/kiosk#token=...`: keep the token in this tab's storage and drop it from the address bar and history. */
function takeTokenFromFragment() {
  const value = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value.trim());
  history.replaceState(null, '', location.pathname + location.search);
}

function show(section: 'setup' | 'waiting' | 'done') {
  for (const id of ['setup', 'waiting', 'done']) byId(id).hidden = id !== section;
}

function say(text: Say | undefined) {
  shown.status = text;
  draw(i18n);
}

function draw(i18n: I18n) {
  const m = i18n.m;
  byId('status').textContent = shown.status ? shown.status(m) : '';
  const until = byId('expires-line');
  if (shown.expiresAt) {
    const at = new Date(shown.expiresAt);
    // The sentence comes whole from the catalogue (word order differs by language); the time goes in a <time>.
    const [before = '', after = ''] = m.kiosk.worksUntil('\u0000').split('\u0000');
    until.replaceChildren(before, el('time', { dateTime: shown.expiresAt }, i18n.date(at, { hour: 'numeric', minute: '2-digit' })), after);
  }
  if (shown.checkedIn) byId('done-message').textContent = m.kiosk.checkedIn(shown.checkedIn.name);
  if (context) renderExtensions(context);
}

function showQr(session: KioskSession & { qr: { png: string } }) {
  byId<HTMLImageElement>('qr').src = session.qr.png;
  byId('waiting').dataset.sessionId = session.id;
  shown.expiresAt = session.expiresAt;
  draw(i18n);
  if (context) showSessionToExtensions(context, session);
  show('waiting');
}

async function showCheckedIn(checkinId: string, signal: AbortSignal) {
  let name: string | undefined;
  try {
    const bundle = await (await api(`/checkin/${encodeURIComponent(checkinId)}`, token(), { accept: 'application/fhir+json', signal })).json();
    name = firstGivenName(bundle);
  } catch (err) {
    // Without checkin.read the kiosk still knows the check-in happened, just not who it was.
    if (!(err instanceof HttpStatusError) || (err.status !== 403 && err.status !== 404)) throw err;
  }
  delete byId('waiting').dataset.sessionId;
  byId('qr').removeAttribute('src');
  shown.checkedIn = { name };
  say(undefined);
  show('done');
  byId('done-message').focus();
  await sleep(RESET_AFTER_MS, signal);
  startSession();
}

function needToken(message: Say | undefined) {
  current?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  show('setup');
  say(message);
  byId('token').focus();
}

async function runSession(signal: AbortSignal, message: Say | undefined) {
  try {
    const session = await (await api('/checkin/sessions', token(), { method: 'POST', signal })).json();
    say(message);
    showQr(session);
    const final = await follow(session.id, token(), signal);
    if (final.status === 'completed' && final.checkinId) await showCheckedIn(final.checkinId, signal);
    else startSession((m) => m.kiosk.codeExpired);
  } catch (err) {
    if (signal.aborted) return;
    if (err instanceof HttpStatusError && err.status === 401) return needToken((m) => m.kiosk.tokenRefused);
    if (err instanceof HttpStatusError && err.status === 403) return needToken((m) => m.kiosk.tokenNotAllowed);
    if (err instanceof HttpStatusError && err.status === 404) return startSession((m) => m.kiosk.newCode);
    say((m) => m.kiosk.cannotReach);
    await sleep(RETRY_MS, signal).then(
      () => startSession(),
      () => undefined,
    );
  }
}

function startSession(message?: Say) {
  current?.abort();
  current = new AbortController();
  shown.checkedIn = undefined;
  if (!token()) return needToken(undefined);
  void runSession(current.signal, message);
}

const i18n = startI18n((i) => draw(i));
context = { i18n, container: byId('kiosk-extensions'), token, say: (text) => say(() => text) };
i18n.mountSwitcher(byId('languages'));

byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('token');
  const value = input.value.trim();
  if (!value) {
    say((m) => m.kiosk.pasteFirst);
    input.focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  input.value = '';
  startSession();
});

byId('next').addEventListener('click', () => startSession());

window.addEventListener('hashchange', () => {
  if (!location.hash.includes('token=')) return;
  takeTokenFromFragment();
  startSession();
});

startExtensions(context);
takeTokenFromFragment();
startSession();
