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

export interface KioskExtension {
  start(ctx: KioskContext): void;
  render?(ctx: KioskContext): void;
}

const extensions: KioskExtension[] = [];

export function registerKioskExtension(extension: KioskExtension): void {
  extensions.push(extension);
}

export function startExtensions(ctx: KioskContext): void {
  for (const e of extensions) e.start(ctx);
}

export function renderExtensions(ctx: KioskContext): void {
  for (const e of extensions) e.render?.(ctx);
}
