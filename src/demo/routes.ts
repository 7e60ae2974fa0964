import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import { getCheckin, recentCheckins } from '../checkin/checkin-store.js';
import { newestWaitingSession } from '../checkin/sessions.js';
import { notFound } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import { requireScope } from '../http/guards.js';
import type { Services } from '../services.js';
import { bundledOnce } from '../web/page-scripts.js';
import { readFragment, renderPage, sendPage } from '../web/page-shell.js';
import { en, type Messages } from '../web/pages/i18n/en.js';
import { DEMO_CLINIC, DEMO_KIOSK_CLIENT_ID, type DemoRole } from './clients.js';
import { DEMO_PATIENTS, demoPatient, visitDocument, type DemoPatient } from './patients.js';
import type { DemoShcIssuer } from './shc-issuer.js';
import type { DemoWallet } from './wallet.js';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const PAGES_DIR = fileURLToPath(new URL('./pages/', import.meta.url));
/**
 * Each page is its <main> (pages/<name>.html) and its script (pages/<name>.ts, bundled here on
 * first use: the gateway's build never includes the demo); its words are `demo.<key>` in the
 * catalogues of src/web/pages/i18n.
 */
const PAGES: Record<string, { name: string; key: keyof Messages['demo'] }> = {
  '/demo': { name: 'index', key: 'start' },
  '/demo/wallet': { name: 'wallet', key: 'wallet' },
  '/demo/scan': { name: 'scan', key: 'scan' },
  '/demo/ehr': { name: 'ehr', key: 'ehr' },
};
const SCRIPTS = Object.fromEntries(Object.values(PAGES).map(({ name }) => [`${name}.js`, path.join(PAGES_DIR, `${name}.ts`)]));
const STYLES = new Set(['demo.css']);
/** What a wallet shows on its screen is gone after this long, as a phone screen would lock. */
const SCREEN_MS = 5 * 60_000;
const WORKLIST_LENGTH = 10;

export interface DemoRouteDeps {
  services: Services;
  wallet: DemoWallet;
  issuer: DemoShcIssuer;
  token(role: DemoRole): Promise<string>;
}

/** A demo page: its <main> in the shell it shares with /kiosk and /view. */
function page({ name, key }: { name: string; key: keyof Messages['demo'] }): string {
  return renderPage({
    title: en.demo[key].pageTitle,
    titleKey: `demo.${key}.pageTitle`,
    stylesheet: '/demo/static/demo.css',
    script: `/demo/static/${name}.js`,
    main: readFragment(path.join(PAGES_DIR, `${name}.html`)),
  });
}

function sendStatic(res: Response, next: NextFunction, file: string) {
  res.setHeader('Cache-Control', 'no-cache');
  res.sendFile(file, { root: STATIC_DIR, cacheControl: false, dotfiles: 'deny' }, (err?: Error) => {
    if (err && !res.headersSent) next(err);
  });
}

function patientParam(id: unknown): DemoPatient {
  const p = demoPatient(String(id));
  if (!p) throw notFound('No such demo patient');
  return p;
}

const fullName = (p: DemoPatient) => `${p.given.join(' ')} ${p.family}`;

/** The demo's pages, their assets, and the demo issuer's public keys. */
function pageRoutes(d: DemoRouteDeps): Router {
  const r = Router();
  const scripts = bundledOnce(SCRIPTS);
  for (const [route, p] of Object.entries(PAGES)) r.get(route, sendPage(page(p)));
  r.get('/demo/static/:file', async (req, res, next) => {
    const file = String(req.params.file);
    if (STYLES.has(file)) return sendStatic(res, next, file);
    if (!Object.hasOwn(SCRIPTS, file)) throw notFound('No such file');
    const code = (await scripts()).get(file);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/javascript; charset=utf-8').send(code);
  });
  r.get('/demo/issuer/.well-known/jwks.json', (_req, res) => {
    res.json(d.issuer.trust.jwks);
  });
  /** The kiosk page with a fresh access token in its fragment (the page keeps it in the tab only). */
  r.get('/demo/kiosk', async (_req, res) => {
    res.redirect(303, `/kiosk#token=${encodeURIComponent(await d.token('kiosk'))}`);
  });
  return r;
}

/**
 * The demo's pages and the little API behind them. The API stands in for what happens off the
 * gateway: the wallet app's sign-in and link, the kiosk's and the wallet's screens (a camera
 * would read them), and the EHR's own record of the visit. Everything else the pages do, they
 * do against the gateway's real API with real tokens.
 */
export function demoRoutes(d: DemoRouteDeps): Router {
  const r = Router();
  const s = d.services;
  /** The QR text the wallet shows now (and who signed in), for the kiosk's stand-in camera. */
  let walletScreen: { qrText: string; identityToken: string; shownAt: number } | undefined;

  r.use(pageRoutes(d));
  /** The kiosk page with a fresh access token in its fragment (the page keeps it in the tab only). */
  r.post('/demo/api/tokens/:role', async (req, res) => {
    const role = String(req.params.role);
    if (role !== 'kiosk' && role !== 'ehr') throw notFound('No such demo client');
    res.json({ accessToken: await d.token(role) });
  });

  r.get('/demo/api/patients', (_req, res) => {
    res.json(DEMO_PATIENTS.map((p) => ({ id: p.id, name: fullName(p), birthDate: p.birthDate })));
  });
  /** The wallet signs in and makes a link to the patient's history, to submit to a kiosk session. */
  r.post('/demo/api/patients/:id/share', async (req, res) => {
    const p = patientParam(req.params.id);
    res.json({ ...(await d.wallet.signIn(p)), shlink: await d.wallet.shareHistory(p) });
  });
  /** The wallet shows its health card QR (and the patient's sign-in) for the kiosk to scan. */
  r.post('/demo/api/patients/:id/show-card', async (req, res) => {
    const p = patientParam(req.params.id);
    const [{ identityToken }, card] = await Promise.all([d.wallet.signIn(p), d.wallet.healthCard(p)]);
    walletScreen = { qrText: card.qrText, identityToken, shownAt: s.clock.now() };
    res.json({ qrText: card.qrText, png: card.png });
  });
  r.get('/demo/api/screens/wallet', (_req, res) => {
    if (!walletScreen || s.clock.now() - walletScreen.shownAt > SCREEN_MS) throw notFound('No wallet is showing a code');
    res.json({ qrText: walletScreen.qrText, identityToken: walletScreen.identityToken });
  });
  r.get('/demo/api/screens/kiosk', async (_req, res) => {
    const session = await newestWaitingSession(s.db, DEMO_KIOSK_CLIENT_ID, s.clock.now());
    if (!session) throw notFound('No kiosk is showing a check-in code: open the kiosk page first');
    res.json({ url: `${s.config.publicBaseUrl}/checkin/sessions/${session.id}/submit` });
  });

  const ehr = requireScope(s.auth, 'system/checkin.read');
  /** The EHR's arrivals list: the clinic's latest check-ins of demo patients. */
  r.get('/demo/api/ehr/arrivals', ehr, async (_req, res) => {
    const rows = await recentCheckins(s.db, DEMO_CLINIC, WORKLIST_LENGTH);
    res.json(
      rows.flatMap((c) => {
        const p = demoPatient(c.patientSubject);
        return p ? [{ checkinId: c.id, patient: p.id, name: fullName(p), arrivedAt: c.createdAt.toISOString(), reason: p.visit.reason }] : [];
      }),
    );
  });
  /** The visit document the EHR writes for a check-in (the page posts it to the gateway itself). */
  r.get('/demo/api/ehr/arrivals/:checkinId/visit-document', ehr, async (req, res) => {
    const id = String(req.params.checkinId);
    const checkin = /^[0-9a-f-]{36}$/.test(id) ? await getCheckin(s.db, id) : undefined;
    const p = checkin?.organization === DEMO_CLINIC ? demoPatient(checkin.patientSubject) : undefined;
    if (!checkin || !p) throw notFound('No such check-in');
    sendFhir(res, 200, visitDocument(p, checkin.patientId, new Date(s.clock.now())));
  });
  return r;
}
