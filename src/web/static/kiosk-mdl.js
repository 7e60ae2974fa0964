// @ts-check
// Kiosk: "Use your mobile driver's licence". Where the browser has the W3C Digital Credentials API,
// the kiosk asks for the patient's mDL with the OpenID4VP request its check-in session came with (the
// browser reaches the patient's phone itself, e.g. by its own QR and Bluetooth); the gateway verifies
// it for the session, and the wallet then sends the health data by scanning the session's code as
// usual. Elsewhere nothing is shown and the QR flow is unchanged.

const BOX_ID = 'mdl-offer';

/**
 * @typedef {{ id: string, expiresAt: string, request: { protocol: string, data: unknown } }} IdentityRequest
 * @typedef {{ id: string, identityRequest?: IdentityRequest }} Session
 */

/** Feature detection only: the Digital Credentials API and navigator.credentials.get. */
export function canAskForDigitalCredential() {
  return typeof globalThis.DigitalCredential !== 'undefined' && typeof navigator.credentials?.get === 'function';
}

/** @param {string} text @param {HTMLElement} box */
function tell(box, text) {
  const status = /** @type {HTMLElement} */ (box.querySelector('[role="status"]'));
  status.textContent = text;
}

/**
 * The DC API result as the gateway wants it; `data` is an object in current browsers, a JSON string in early ones.
 * @param {IdentityRequest} identityRequest @param {any} credential
 */
function presentationOf(identityRequest, credential) {
  const data = typeof credential.data === 'string' ? JSON.parse(credential.data) : credential.data;
  return { requestId: identityRequest.id, protocol: credential.protocol, data };
}

/**
 * @param {HTMLElement} box @param {HTMLButtonElement} button
 * @param {Session & { identityRequest: IdentityRequest }} session @param {string} token
 */
async function askForLicence(box, button, session, token) {
  button.disabled = true;
  tell(box, 'Follow the steps your browser shows to share your licence from your phone.');
  let credential;
  try {
    credential = await navigator.credentials.get(/** @type {any} */ ({ digital: { requests: [session.identityRequest.request] } }));
  } catch {
    button.disabled = false;
    tell(box, 'Your licence was not shared. You can try again, or just scan the code.');
    return;
  }
  const res = await fetch(`/checkin/sessions/${encodeURIComponent(session.id)}/identity`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ identityPresentation: presentationOf(session.identityRequest, credential) }),
    cache: 'no-store',
  }).catch(() => undefined);
  button.hidden = true;
  tell(box, res?.ok
    ? 'Licence verified. Now scan the code with your health wallet app to share your health information.'
    : 'Your licence could not be verified here. Please scan the code with your health wallet app instead.');
}

/**
 * Offers the licence button for this session, replacing the previous session's; one call from the kiosk page.
 * @param {Session} session @param {string | null} token
 */
export function offerMobileDriversLicence(session, token) {
  document.getElementById(BOX_ID)?.remove();
  const identityRequest = session.identityRequest;
  if (!identityRequest || !token || !canAskForDigitalCredential()) return;
  const box = document.createElement('div');
  box.id = BOX_ID;
  box.className = 'mdl-offer';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = "Use your mobile driver's licence";
  const status = document.createElement('p');
  status.className = 'help';
  status.setAttribute('role', 'status');
  box.append(button, status);
  document.getElementById('waiting')?.append(box);
  button.addEventListener('click', () => void askForLicence(box, button, { ...session, identityRequest }, token));
}
