// The demo patient wallet. Two ways to check in: scan the kiosk's code (here: read what the kiosk
// shows, or paste its URL), agree to share, and the wallet submits a SMART Health Link to the
// gateway with the patient's identity token; or show the wallet's own SMART Health Card code for
// the kiosk to scan. Everything shown comes from textContent or attributes, never markup.
import { $, api, applyMessages } from './demo-api.js';

const MESSAGES = {
  pageTitle: 'Demo wallet',
  title: 'My health wallet (demo)',
  whoLabel: 'Who are you? (made-up patients)',
  scanTitle: 'Check in by scanning the kiosk’s code',
  scanHelp: 'Open the kiosk in another tab first. A phone would use its camera; here the button reads the code the kiosk shows.',
  scanButton: 'Scan the kiosk’s code',
  pasteLabel: 'Or paste the kiosk code’s address',
  pasteButton: 'Use this code',
  showTitle: 'Or let the kiosk scan your code',
  showHelp: 'Shows your insurance card as a SMART Health Card code. Then use the kiosk scanner page.',
  showButton: 'Show my code to the kiosk',
  consentTitle: 'Share with the clinic?',
  consent: (name, clinic) => `${clinic} asks for your health history and your insurance card. You signed in as ${name}. Share them?`,
  shareButton: 'Share and check in',
  cancelButton: 'Cancel',
  cardTitle: 'Hold this code up to the kiosk',
  cardAlt: 'Your SMART Health Card code',
  cardHelp: 'The kiosk also reads who you are from this wallet, the way you signed in.',
  backButton: 'Done',
  checkedIn: (clinic) => `Checked in at ${clinic}`,
  doneHelp: 'Please take a seat. After your visit you get a summary you can keep.',
  againButton: 'Start again',
  working: 'One moment…',
  noKioskCode: 'The kiosk is not showing a code. Open the kiosk page first.',
  notAKioskCode: 'That is not a check-in code of this clinic.',
  failed: (why) => `That did not work (${why}). Ask for a new code at the kiosk.`,
};
const CLINIC = 'Demo Clinic';
const SUBMIT_PATH = /^\/checkin\/sessions\/[A-Za-z0-9_-]{43}\/submit$/;

let sessionUrl;

function show(section) {
  for (const id of ['start', 'consent', 'card', 'done']) $(id).hidden = id !== section;
  $('who').hidden = section !== 'start';
}

const say = (text) => {
  $('status').textContent = text;
};
const patientId = () => $('patient').value;
const patientName = () => $('patient').selectedOptions[0]?.textContent ?? '';

async function loadPatients() {
  for (const p of await api('/demo/api/patients')) {
    const option = document.createElement('option');
    option.value = p.id;
    option.textContent = p.name;
    $('patient').append(option);
  }
}

/** Only this gateway's session submit URLs are check-in codes. */
function useKioskCode(text) {
  let url;
  try {
    url = new URL(text.trim());
  } catch {
    return say(MESSAGES.notAKioskCode);
  }
  if (url.origin !== location.origin || !SUBMIT_PATH.test(url.pathname)) return say(MESSAGES.notAKioskCode);
  sessionUrl = url.href;
  say('');
  $('consent-text').textContent = MESSAGES.consent(patientName(), CLINIC);
  show('consent');
  $('share').focus();
}

async function share() {
  say(MESSAGES.working);
  try {
    const { identityToken, shlink } = await api(`/demo/api/patients/${encodeURIComponent(patientId())}/share`, { method: 'POST' });
    await api(new URL(sessionUrl).pathname, { method: 'POST', token: identityToken, json: { shlink } });
    say('');
    $('done-message').textContent = MESSAGES.checkedIn(CLINIC);
    show('done');
    $('done-message').focus();
  } catch (err) {
    say(MESSAGES.failed(err.message));
    show('start');
  }
}

async function showCard() {
  say(MESSAGES.working);
  try {
    const card = await api(`/demo/api/patients/${encodeURIComponent(patientId())}/show-card`, { method: 'POST' });
    $('card-qr').src = card.png;
    say('');
    show('card');
  } catch (err) {
    say(MESSAGES.failed(err.message));
  }
}

$('scan-kiosk').addEventListener('click', async () => {
  try {
    useKioskCode((await api('/demo/api/screens/kiosk')).url);
  } catch {
    say(MESSAGES.noKioskCode);
  }
});
$('paste-form').addEventListener('submit', (event) => {
  event.preventDefault();
  useKioskCode($('kiosk-url').value);
});
$('share').addEventListener('click', () => void share());
$('cancel').addEventListener('click', () => show('start'));
$('show-card').addEventListener('click', () => void showCard());
$('card-back').addEventListener('click', () => {
  $('card-qr').removeAttribute('src');
  show('start');
});
$('again').addEventListener('click', () => show('start'));

applyMessages(MESSAGES);
show('start');
loadPatients().catch((err) => say(MESSAGES.failed(err.message)));
