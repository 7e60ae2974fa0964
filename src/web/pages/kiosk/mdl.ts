import { el } from '../dom.js';
import type { Messages } from '../i18n/en.js';
import { registerKioskExtension, type KioskContext, type KioskSession } from './extensions.js';

/**
 * "Use your mobile driver's licence". Where the browser has the W3C Digital Credentials API, the
 * kiosk asks for the patient's mDL with the OpenID4VP request its check-in session came with (the
 * browser reaches the patient's phone itself, e.g. by its own QR and Bluetooth); the gateway verifies
 * it for the session, and the wallet then sends the health data by scanning the session's code as
 * usual. Elsewhere nothing is shown and the QR flow is unchanged.
 */

type IdentityRequest = NonNullable<KioskSession['identityRequest']>;
type Say = (m: Messages['kiosk']) => string;

/** Feature detection only: the Digital Credentials API and navigator.credentials.get. */
export function canAskForDigitalCredential(): boolean {
  return 'DigitalCredential' in globalThis && typeof navigator.credentials?.get === 'function';
}

/** The DC API result as the gateway wants it; `data` is an object in current browsers, a JSON string in early ones. */
function presentationOf(identityRequest: IdentityRequest, credential: { protocol: string; data: unknown }) {
  const data = typeof credential.data === 'string' ? JSON.parse(credential.data) : credential.data;
  return { requestId: identityRequest.id, protocol: credential.protocol, data };
}

const offer: { session?: KioskSession & { identityRequest: IdentityRequest }; status?: Say; done?: boolean; busy?: boolean } = {};

async function askForLicence(ctx: KioskContext) {
  const session = offer.session;
  if (!session) return;
  Object.assign(offer, { busy: true, status: (k: Messages['kiosk']) => k.mdlFollowBrowser });
  render(ctx);
  let credential: { protocol: string; data: unknown };
  try {
    credential = (await navigator.credentials.get({ digital: { requests: [session.identityRequest.request] } } as CredentialRequestOptions)) as unknown as typeof credential;
  } catch {
    Object.assign(offer, { busy: false, status: (k: Messages['kiosk']) => k.mdlNotShared });
    return render(ctx);
  }
  const res = await fetch(`/checkin/sessions/${encodeURIComponent(session.id)}/identity`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ctx.token()}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ identityPresentation: presentationOf(session.identityRequest, credential) }),
    cache: 'no-store',
  }).catch(() => undefined);
  Object.assign(offer, { busy: false, done: true, status: res?.ok ? (k: Messages['kiosk']) => k.mdlVerified : (k: Messages['kiosk']) => k.mdlNotVerified });
  render(ctx);
}

function render(ctx: KioskContext) {
  if (!offer.session) return ctx.container.querySelector('.mdl-offer')?.remove();
  const k = ctx.i18n.m.kiosk;
  const button = el('button', { type: 'button', textContent: k.mdlButton, disabled: !!offer.busy, hidden: !!offer.done });
  button.addEventListener('click', () => void askForLicence(ctx));
  const status = el('p', { className: 'help' }, offer.status ? offer.status(k) : '');
  status.setAttribute('role', 'status');
  const box = el('div', { className: 'mdl-offer', id: 'mdl-offer' }, button, status);
  const previous = ctx.container.querySelector('.mdl-offer');
  if (previous) previous.replaceWith(box);
  else ctx.container.append(box);
}

registerKioskExtension({
  render,
  sessionShown(ctx, session) {
    const usable = session.identityRequest && ctx.token() && canAskForDigitalCredential();
    offer.session = usable ? { ...session, identityRequest: session.identityRequest! } : undefined;
    Object.assign(offer, { status: undefined, done: false, busy: false });
    render(ctx);
  },
});
