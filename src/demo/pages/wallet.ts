import { byId, el } from '../../web/pages/dom.js';
import type { I18n } from '../../web/pages/i18n/catalogue.js';
import { api, errorText, startDemoPage, type Say } from './api.js';

/**
 * The demo patient wallet. Two ways to check in: scan the kiosk's code (here: read what the kiosk
 * shows, or paste its URL), agree to share, and the wallet submits a SMART Health Link to the
 * gateway with the patient's identity token; or show the wallet's own SMART Health Card code for
 * the kiosk to scan. Everything shown comes from textContent or attributes, never markup.
 */

const CLINIC = 'Demo Clinic';
const SUBMIT_PATH = /^\/checkin\/sessions\/[A-Za-z0-9_-]{43}\/submit$/;
const SECTIONS = ['start', 'consent', 'card', 'done'] as const;

const shown: { status?: Say; consentName?: string; checkedIn?: boolean } = {};
let sessionUrl: string | undefined;

function draw({ m }: I18n) {
  byId('status').textContent = shown.status?.(m) ?? '';
  if (shown.consentName !== undefined) byId('consent-text').textContent = m.demo.wallet.consent(shown.consentName, CLINIC);
  if (shown.checkedIn) byId('done-message').textContent = m.demo.wallet.checkedIn(CLINIC);
}

const i18n = startDemoPage(draw);

function say(text: Say | undefined) {
  shown.status = text;
  draw(i18n);
}

function show(section: (typeof SECTIONS)[number]) {
  for (const id of SECTIONS) byId(id).hidden = id !== section;
  byId('who').hidden = section !== 'start';
}

const picker = () => byId<HTMLSelectElement>('patient');
const patientId = () => picker().value;
const patientName = () => picker().selectedOptions[0]?.textContent ?? '';

async function loadPatients() {
  const patients = await api<{ id: string; name: string }[]>('/demo/api/patients');
  picker().append(...patients.map((p) => el('option', { value: p.id }, p.name)));
}

/** Only this gateway's session submit URLs are check-in codes. */
function useKioskCode(text: string) {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return say((m) => m.demo.wallet.notAKioskCode);
  }
  if (url.origin !== location.origin || !SUBMIT_PATH.test(url.pathname)) return say((m) => m.demo.wallet.notAKioskCode);
  sessionUrl = url.href;
  shown.consentName = patientName();
  say(undefined);
  show('consent');
  byId('share').focus();
}

async function share() {
  say((m) => m.demo.wallet.working);
  try {
    const { identityToken, shlink } = await api<{ identityToken: string; shlink: string }>(`/demo/api/patients/${encodeURIComponent(patientId())}/share`, { method: 'POST' });
    await api(new URL(sessionUrl as string).pathname, { method: 'POST', token: identityToken, json: { shlink } });
    shown.checkedIn = true;
    say(undefined);
    show('done');
    byId('done-message').focus();
  } catch (err) {
    const why = errorText(err);
    say((m) => m.demo.wallet.failed(why));
    show('start');
  }
}

async function showCard() {
  say((m) => m.demo.wallet.working);
  try {
    const card = await api<{ png: string }>(`/demo/api/patients/${encodeURIComponent(patientId())}/show-card`, { method: 'POST' });
    byId<HTMLImageElement>('card-qr').src = card.png;
    say(undefined);
    show('card');
  } catch (err) {
    const why = errorText(err);
    say((m) => m.demo.wallet.failed(why));
  }
}

byId('scan-kiosk').addEventListener('click', async () => {
  try {
    useKioskCode((await api<{ url: string }>('/demo/api/screens/kiosk')).url);
  } catch {
    say((m) => m.demo.wallet.noKioskCode);
  }
});
byId('paste-form').addEventListener('submit', (event) => {
  event.preventDefault();
  useKioskCode(byId<HTMLInputElement>('kiosk-url').value);
});
byId('share').addEventListener('click', () => void share());
byId('cancel').addEventListener('click', () => show('start'));
byId('show-card').addEventListener('click', () => void showCard());
byId('card-back').addEventListener('click', () => {
  byId('card-qr').removeAttribute('src');
  show('start');
});
byId('again').addEventListener('click', () => show('start'));

show('start');
loadPatients().catch((err: unknown) => {
  const why = errorText(err);
  say((m) => m.demo.wallet.failed(why));
});
