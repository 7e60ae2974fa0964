import type { Bundle } from '@medplum/fhirtypes';
import { byId, el } from '../../web/pages/dom.js';
import type { I18n } from '../../web/pages/i18n/catalogue.js';
import { visitSummaryParameters } from '../visit-parameters.js';
import { api, clientToken, errorText, startDemoPage, type Say } from './api.js';

/**
 * The demo EHR: the clinic's arrivals, and for each the end-of-visit summary, posted to the
 * gateway with the EHR's own token and the plain-language summary asked for; the answer's viewer
 * link and QR go to the patient.
 */

interface Arrival {
  checkinId: string;
  name: string;
  arrivedAt: string;
  reason: string;
}
interface VisitCreated {
  viewerUrl: string;
  expiresAt: string;
  qr: { png: string };
}

const shown: { status?: Say; arrivals?: Arrival[]; sent?: { name: string; expiresAt: string } } = {};

function arrivalItem(i18n: I18n, arrival: Arrival): HTMLLIElement {
  const time = i18n.date(new Date(arrival.arrivedAt), { hour: 'numeric', minute: '2-digit' });
  const button = el('button', { type: 'button' }, i18n.m.demo.ehr.sendButton);
  button.addEventListener('click', () => void sendSummary(arrival));
  // The reason is the record's own words (English in the demo's data), so it keeps its language.
  const [before = '', after = ''] = i18n.m.demo.ehr.arrived(time, '\u0000').split('\u0000');
  const detail = el('p', { className: 'small' }, before, el('span', { lang: 'en' }, arrival.reason), after);
  return el('li', { className: 'card' }, el('p', { className: 'arrival-name' }, arrival.name), detail, button);
}

function draw(i18n: I18n) {
  const m = i18n.m.demo.ehr;
  byId('status').textContent = shown.status?.(i18n.m) ?? '';
  if (shown.arrivals) {
    byId('arrivals').replaceChildren(...shown.arrivals.map((a) => arrivalItem(i18n, a)));
    byId('no-arrivals').hidden = shown.arrivals.length > 0;
  }
  if (shown.sent) {
    byId('sent-title').textContent = m.sentTitle(shown.sent.name);
    byId('expires').textContent = m.expires(i18n.date(new Date(shown.sent.expiresAt), { dateStyle: 'long' }));
  }
}

const i18n = startDemoPage(draw);

function say(text: Say | undefined) {
  shown.status = text;
  draw(i18n);
}

async function sendSummary(arrival: Arrival) {
  say((m) => m.demo.ehr.working);
  try {
    const token = await clientToken('ehr');
    const id = encodeURIComponent(arrival.checkinId);
    const document = await api<Bundle>(`/demo/api/ehr/arrivals/${id}/visit-document`, { token });
    const result = await api<VisitCreated>(`/checkin/${id}/visit-summary`, { method: 'POST', token, json: visitSummaryParameters(document), fhir: true });
    byId<HTMLImageElement>('sent-qr').src = result.qr.png;
    byId<HTMLAnchorElement>('viewer-link').href = result.viewerUrl;
    shown.sent = { name: arrival.name, expiresAt: result.expiresAt };
    say(undefined);
    byId('sent').hidden = false;
    byId('sent-title').focus();
  } catch (err) {
    const why = errorText(err);
    say((m) => m.demo.ehr.failed(why));
  }
}

async function loadArrivals() {
  try {
    shown.arrivals = await api<Arrival[]>('/demo/api/ehr/arrivals', { token: await clientToken('ehr') });
    say(undefined);
  } catch (err) {
    const why = errorText(err);
    say((m) => m.demo.ehr.failed(why));
  }
}

byId('refresh').addEventListener('click', () => void loadArrivals());
void loadArrivals();
