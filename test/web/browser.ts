import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import express from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { securityHeaders } from '../../src/http/security-headers.js';
import { webRoutes } from '../../src/web/routes.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');

/** Every browser step waits at most this long, so a broken page fails the test instead of hanging it. */
export const BROWSER_TIMEOUT_MS = 30_000;

/** Why browser tests are skipped here, or undefined when Debian's Chromium is installed. */
export const noBrowser: string | undefined = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium); browser tests skipped`;
if (noBrowser) process.stdout.write(`# ${noBrowser}\n`);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: BROWSER_TIMEOUT_MS,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * The gateway's pages (web routes behind its security headers) on loopback, and a Chromium: started
 * before the suite's tests, closed after them. Read `origin` and `browser` inside the tests.
 */
export function pagesInChromium(): { readonly origin: string; readonly browser: Browser } {
  const env = {} as { origin: string; browser: Browser };
  let server: Server | undefined;
  before(async () => {
    const app = express().use(securityHeaders).use(webRoutes());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    env.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });
  return env;
}

/**
 * A phone-sized page whose console errors and uncaught exceptions (CSP violations among them) are
 * collected. Chromium's own "Failed to load resource" line for an expected 4xx answer is not an error of the page.
 */
export async function openPage(browser: Browser, opts: { locale?: string } = {}): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 412, height: 915 }, deviceScaleFactor: 1, ...(opts.locale ? { locale: opts.locale } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(BROWSER_TIMEOUT_MS);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');

/** A screenshot kept in the repository (docs/), for the README and reviewers. */
export async function docsScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(DOCS, { recursive: true });
  const file = path.join(DOCS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core run inside the page (injected through the DevTools protocol, so the page's CSP stays
 * as served) against WCAG 2.0-2.2 A and AA; returns the serious and critical violations.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
}
