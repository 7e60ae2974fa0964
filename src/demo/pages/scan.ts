import type { Bundle } from '@medplum/fhirtypes';
import { byId } from '../../web/pages/dom.js';
import type { I18n } from '../../web/pages/i18n/catalogue.js';
import { api, clientToken, errorText, firstName, startDemoPage, type Say } from './api.js';

/**
 * The kiosk's scanner (demo): reads the code a wallet shows (a SMART Health Card, plus the
 * patient's sign-in) and checks the patient in with POST /checkin and the kiosk's own token.
 */

interface WalletScreen {
  qrText: string;
  identityToken: string;
}

const shown: { status?: Say; read?: number; checkedIn?: string } = {};

function draw({ m, number }: I18n) {
  byId('status').textContent = shown.status?.(m) ?? '';
  if (shown.read !== undefined) byId('read-text').textContent = m.demo.scan.read(number(shown.read));
  if (shown.checkedIn !== undefined) byId('done-message').textContent = m.demo.scan.checkedIn(shown.checkedIn);
}

const i18n = startDemoPage(draw);

function say(text: Say | undefined) {
  shown.status = text;
  draw(i18n);
}

async function scan() {
  byId('done').hidden = true;
  let screen: WalletScreen;
  try {
    screen = await api<WalletScreen>('/demo/api/screens/wallet');
  } catch {
    return say((m) => m.demo.scan.nothingShown);
  }
  shown.read = screen.qrText.length;
  byId('read').hidden = false;
  say((m) => m.demo.scan.working);
  try {
    const token = await clientToken('kiosk');
    const bundle = await api<Bundle>('/checkin', { method: 'POST', token, json: { identityToken: screen.identityToken, shc: [screen.qrText] } });
    shown.checkedIn = firstName(bundle);
    say(undefined);
    byId('done').hidden = false;
    byId('done-message').focus();
  } catch (err) {
    const why = errorText(err);
    say((m) => m.demo.scan.failed(why));
  }
}

byId('scan').addEventListener('click', () => void scan());
