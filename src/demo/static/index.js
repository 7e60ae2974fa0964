// The demo's start page: what to open, in which order.
import { applyMessages } from './demo-api.js';

const MESSAGES = {
  pageTitle: 'ktc-gateway demo',
  title: 'Try the check-in',
  intro: 'Everything runs on this computer: the gateway, an identity provider, a patient wallet, a kiosk, an EHR and an aligned network. Open each in its own tab.',
  kiosk: '1. Kiosk',
  kioskHelp: 'shows a check-in code and turns to "Checked in" when a wallet uses it.',
  wallet: '2. Patient wallet',
  walletHelp: 'pick a patient, scan the kiosk’s code, agree to share, or show your own code.',
  scan: '3. Kiosk scanner',
  scanHelp: 'the kiosk reads the code the wallet shows.',
  ehr: '4. EHR',
  ehrHelp: 'sends the visit summary to a checked-in patient and shows their viewer link and code.',
  note: 'All patients are made up. Keys and data are thrown away when the demo stops.',
};

applyMessages(MESSAGES);
