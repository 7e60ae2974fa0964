// The demo EHR: the clinic's arrivals, and for each the end-of-visit summary, posted to the gateway
// with the EHR's own token; the answer's viewer link and QR go to the patient.
import { $, api, applyMessages, clientToken } from './demo-api.js';

const MESSAGES = {
  pageTitle: 'Demo EHR',
  title: 'Clinic EHR (demo)',
  intro: 'Patients who checked in today. Send one the summary of their visit; they open it with the link or the code.',
  arrivalsTitle: 'Arrivals',
  refreshButton: 'Refresh',
  noArrivals: 'Nobody has checked in yet. Check in with the wallet first.',
  arrived: (time, reason) => `arrived ${time} · ${reason}`,
  sendButton: 'Send visit summary',
  sentTitle: (name) => `Visit summary sent to ${name}`,
  sentHelp: 'The patient scans this code, or opens the link, to see their visit in plain words.',
  qrAlt: 'Code that opens the visit summary',
  viewerLink: 'Open the patient’s viewer',
  expires: (when) => `The link works until ${when}.`,
  working: 'Sending…',
  failed: (why) => `That did not work (${why}).`,
};

const say = (text) => {
  $('status').textContent = text;
};
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });

async function sendSummary(arrival) {
  say(MESSAGES.working);
  try {
    const token = await clientToken('ehr');
    const document = await api(`/demo/api/ehr/arrivals/${encodeURIComponent(arrival.checkinId)}/visit-document`, { token });
    const result = await api(`/checkin/${encodeURIComponent(arrival.checkinId)}/visit-summary`, { method: 'POST', token, json: document, fhir: true });
    say('');
    $('sent-title').textContent = MESSAGES.sentTitle(arrival.name);
    $('sent-qr').src = result.qr.png;
    $('viewer-link').href = result.viewerUrl;
    $('expires').textContent = MESSAGES.expires(new Date(result.expiresAt).toLocaleDateString());
    $('sent').hidden = false;
    $('sent-title').focus();
  } catch (err) {
    say(MESSAGES.failed(err.message));
  }
}

function arrivalItem(arrival) {
  const li = document.createElement('li');
  li.className = 'card';
  const name = document.createElement('p');
  name.className = 'arrival-name';
  name.textContent = arrival.name;
  const detail = document.createElement('p');
  detail.className = 'small';
  detail.textContent = MESSAGES.arrived(time(arrival.arrivedAt), arrival.reason);
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = MESSAGES.sendButton;
  button.addEventListener('click', () => void sendSummary(arrival));
  li.append(name, detail, button);
  return li;
}

async function loadArrivals() {
  try {
    const arrivals = await api('/demo/api/ehr/arrivals', { token: await clientToken('ehr') });
    $('arrivals').replaceChildren(...arrivals.map(arrivalItem));
    $('no-arrivals').hidden = arrivals.length > 0;
    say('');
  } catch (err) {
    say(MESSAGES.failed(err.message));
  }
}

$('refresh').addEventListener('click', () => void loadArrivals());
applyMessages(MESSAGES);
void loadArrivals();
