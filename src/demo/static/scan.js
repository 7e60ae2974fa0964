// The kiosk's scanner (demo): reads the code a wallet shows (a SMART Health Card, plus the
// patient's sign-in) and checks the patient in with POST /checkin and the kiosk's own token.
import { $, api, applyMessages, clientToken, firstName } from './demo-api.js';

const MESSAGES = {
  pageTitle: 'Kiosk scanner (demo)',
  title: 'Kiosk scanner',
  intro: 'A kiosk camera would read the code on the patient’s phone. Here the button reads what the demo wallet shows.',
  scanButton: 'Scan the wallet’s code',
  read: (length) => `Read a SMART Health Card code (${length} characters) and the patient’s sign-in.`,
  checkedIn: (name) => (name ? `Checked in: ${name}` : 'Checked in'),
  doneHelp: 'The check-in is stored with its insurance card; the card’s signature was checked.',
  working: 'Checking in…',
  nothingShown: 'No wallet is showing a code. In the wallet, choose "Show my code to the kiosk".',
  failed: (why) => `Check-in failed (${why}).`,
};

const say = (text) => {
  $('status').textContent = text;
};

async function scan() {
  $('done').hidden = true;
  let screen;
  try {
    screen = await api('/demo/api/screens/wallet');
  } catch {
    return say(MESSAGES.nothingShown);
  }
  $('read-text').textContent = MESSAGES.read(screen.qrText.length);
  $('read').hidden = false;
  say(MESSAGES.working);
  try {
    const token = await clientToken('kiosk');
    const bundle = await api('/checkin', { method: 'POST', token, json: { identityToken: screen.identityToken, shc: [screen.qrText] } });
    say('');
    $('done-message').textContent = MESSAGES.checkedIn(firstName(bundle));
    $('done').hidden = false;
    $('done-message').focus();
  } catch (err) {
    say(MESSAGES.failed(err.message));
  }
}

$('scan').addEventListener('click', () => void scan());
applyMessages(MESSAGES);
