import { CATALOGUES, startI18n, type I18n } from '../i18n/catalogue.js';
import type { Messages } from '../i18n/en.js';
import { byId } from '../dom.js';
import { PasscodeError, ViewerError } from './errors.js';
import { formatDate } from './format.js';
import { sortFiles, type LinkContent } from './link-content.js';
import { renderLink } from './render-link.js';
import { openLink, readLink, type ViewerLink } from './shl-client.js';

/**
 * Patient viewer (GET /view#shlink:/…): opens the link, decrypts it in the browser and shows the
 * visit summary. What is on screen is kept as data and messages, so switching language renders
 * it again without fetching anything.
 */

type Say = (m: Messages, i18n: I18n) => string;

const state: { status?: Say; problem: boolean; passcodeError?: Say; content?: LinkContent; link?: ViewerLink } = { problem: false };

function say(status: Say | undefined, problem = false) {
  state.status = status;
  state.problem = problem;
  draw(i18n);
}

function draw(i18n: I18n) {
  const status = byId('status');
  status.textContent = state.status ? state.status(i18n.m, i18n) : '';
  status.classList.toggle('problem', state.problem);
  byId('passcode-error').textContent = state.passcodeError ? state.passcodeError(i18n.m, i18n) : '';
  const label = byId('label');
  const text = state.link?.label;
  // The gateway's own label repeats the page heading; another sharer's label says what this is.
  const repeats = !text || Object.values(CATALOGUES).some((m) => m.view.title.toLowerCase().replace(/^your /, '') === text.toLowerCase());
  label.textContent = repeats ? '' : text;
  label.hidden = repeats;
  if (state.content) {
    try {
      byId('summary').replaceChildren(...renderLink(state.content, i18n));
    } catch (err) {
      return fail(err);
    }
  }
}

function problemOf(err: unknown): Say {
  if (err instanceof ViewerError) return (m) => m.view.errors[err.problem];
  return (m) => m.view.errors.somethingWrong;
}

function fail(err: unknown) {
  state.content = undefined;
  byId('summary').hidden = true;
  byId('passcode-form').hidden = true;
  say(problemOf(err), true);
}

function askPasscode(message?: Say) {
  byId('passcode-form').hidden = false;
  state.passcodeError = message;
  byId<HTMLButtonElement>('passcode-submit').disabled = false;
  say((m) => m.view.passcodeNeeded);
  const input = byId<HTMLInputElement>('passcode');
  input.value = '';
  input.focus();
}

async function open(link: ViewerLink, passcode?: string) {
  say((m) => m.view.openingSummary);
  try {
    state.content = await sortFiles(await openLink(link, passcode));
    byId('passcode-form').hidden = true;
    byId('summary').hidden = false;
    byId('actions').hidden = false;
    say(undefined);
  } catch (err) {
    if (!(err instanceof PasscodeError)) return fail(err);
    const remaining = err.remainingAttempts;
    if (remaining === undefined || remaining > 0) return askPasscode((m) => m.view.passcodeWrong(remaining));
    byId('passcode-form').hidden = true;
    say((m) => m.view.passcodeLocked, true);
  }
}

function start() {
  let link: ViewerLink;
  try {
    link = readLink(location.hash, location.origin);
  } catch (err) {
    return say(err instanceof ViewerError ? problemOf(err) : (m) => m.view.errors.brokenLink, true);
  }
  state.link = link;
  const expiresAt = link.expiresAt;
  if (expiresAt && expiresAt.getTime() <= Date.now()) return say((m, i) => m.view.errors.expired(formatDate(expiresAt.toISOString(), i, false) ?? ''), true);
  if (!link.passcode) return void open(link);
  askPasscode();
  byId('passcode-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const passcode = byId<HTMLInputElement>('passcode').value;
    if (!passcode) {
      state.passcodeError = (m) => m.view.passcodeFirst;
      draw(i18n);
      byId('passcode').focus();
      return;
    }
    byId<HTMLButtonElement>('passcode-submit').disabled = true;
    void open(link, passcode);
  });
}

const i18n = startI18n(draw);
i18n.mountSwitcher(byId('languages'));
byId('print').addEventListener('click', () => window.print());
// A new link pasted into the address opens afresh.
window.addEventListener('hashchange', () => {
  if (location.hash.includes('shlink:/')) location.reload();
});
say((m) => m.view.opening);
start();
