import type { I18n } from '../i18n/catalogue.js';

/**
 * Where another page module joins the kiosk (e.g. "Use your mobile driver's licence"): it calls
 * registerKioskExtension at import time and is imported by kiosk/main.ts. It gets its own
 * container (#kiosk-extensions, shown with the check-in code), the page's i18n (its strings live in
 * the catalogue under `kiosk`), the kiosk token and the status line; `render` runs again after a
 * language switch.
 */
export interface KioskContext {
  i18n: I18n;
  container: HTMLElement;
  token(): string | null;
  say(text: string): void;
}

/** A check-in session as POST /checkin/sessions returns it (identityRequest only when mDL is configured). */
export interface KioskSession {
  id: string;
  expiresAt: string;
  identityRequest?: { id: string; expiresAt: string; request: { protocol: string; data: unknown } };
}

export interface KioskExtension {
  start?(ctx: KioskContext): void;
  render?(ctx: KioskContext): void;
  /** A new session's code is on screen (the previous session's offer is stale). */
  sessionShown?(ctx: KioskContext, session: KioskSession): void;
}

const extensions: KioskExtension[] = [];

export function registerKioskExtension(extension: KioskExtension): void {
  extensions.push(extension);
}

export function startExtensions(ctx: KioskContext): void {
  for (const e of extensions) e.start?.(ctx);
}

export function renderExtensions(ctx: KioskContext): void {
  for (const e of extensions) e.render?.(ctx);
}

export function showSessionToExtensions(ctx: KioskContext, session: KioskSession): void {
  for (const e of extensions) e.sessionShown?.(ctx, session);
}
