import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildApp, modules } from '../app.js';
import { systemClock } from '../clock.js';
import { trustFileSchema, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { createServices, type Services } from '../services.js';
import { startWorkers, type Workers } from '../workers.js';
import { DEMO_DATA_SHARING, createDemoClients, requestAccessToken, tokenRequest, type DemoClient, type DemoRole, type TokenAnswer } from './clients.js';
import { startIdp, type Idp } from './idp.js';
import { loopbackListenHost } from './loopback.js';
import { subscribeNetwork } from './network.js';
import { DEMO_PATIENTS, walletHistoryBundle } from './patients.js';
import { demoRoutes } from './routes.js';
import { createDemoShcIssuer, type DemoShcIssuer } from './shc-issuer.js';
import { startShlWalletHost, type ShlWalletHost } from './shl-wallet-host.js';
import { startSubscriber, type Subscriber } from './subscriber.js';
import { createDemoWallet, type DemoWallet } from './wallet.js';

export interface DemoOptions {
  /** The gateway's settings from the environment; the demo replaces database and trust. */
  config: Config;
  /** Where keys, trust file, synthetic data, the embedded database and the gateway log go. */
  dir: string;
}

/** Everything `npm run demo` runs, in this one process, on loopback. */
export interface Demo {
  /** The gateway's public base URL (pages and API). */
  baseUrl: string;
  services: Services;
  idp: Idp;
  wallet: DemoWallet;
  /** Where the wallet's links live (it logs every request it gets). */
  walletHost: ShlWalletHost;
  issuer: DemoShcIssuer;
  /** The aligned network's rest-hook endpoint and its Subscription. */
  network: { subscriber: Subscriber; subscriptionId: string };
  /** A fresh gateway access token for a demo client (SMART Backend Services round trip). */
  token(role: DemoRole): Promise<string>;
  /** The token endpoint's answer to the network stating these purposes of use (the walk checks refusals too). */
  networkTokenRequest(purposes: readonly string[]): Promise<TokenAnswer>;
  close(): Promise<void>;
}

/** A server bound to loopback first, so a configured port of 0 is known before the base URL is used. */
async function listen(config: Config): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer();
  const host = loopbackListenHost(config.publicBaseUrl);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, resolve);
  });
  const url = new URL(config.publicBaseUrl);
  if (url.port === '0') url.port = String((server.address() as AddressInfo).port);
  return { server, baseUrl: url.toString().replace(/\/+$/, '') };
}

function writeDemoFiles(dir: string, config: Config, clients: DemoClient[]): void {
  mkdirSync(path.join(dir, 'clients'), { recursive: true });
  mkdirSync(path.join(dir, 'patients'), { recursive: true });
  writeFileSync(path.join(dir, 'trust.json'), `${JSON.stringify(config.trust, null, 2)}\n`);
  for (const c of clients) writeFileSync(path.join(dir, 'clients', `${c.registration.clientId}.private.jwk.json`), `${JSON.stringify(c.privateJwk, null, 2)}\n`, { mode: 0o600 });
  for (const p of DEMO_PATIENTS) writeFileSync(path.join(dir, 'patients', `${p.id}.json`), `${JSON.stringify(walletHistoryBundle(p), null, 2)}\n`);
}

/** Closes a server, its open connections (event streams) included; a second call does nothing. */
function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const { server, baseUrl } = await listen(opts.config);
  // One clock for the gateway and its demo peers (cards' nbf, links' exp, tokens' iat).
  const clock = systemClock;
  // Undone last-in first-out: workers, then the server, the database, the log and the peers.
  const closers: (() => Promise<void>)[] = [() => closeServer(server)];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const idp = await startIdp();
    closers.push(() => idp.close());
    const walletHost: ShlWalletHost = await startShlWalletHost();
    closers.push(() => walletHost.close());
    const subscriber = await startSubscriber();
    closers.push(() => subscriber.close());
    const issuer = await createDemoShcIssuer(`${baseUrl}/demo/issuer`, clock);
    const clients = await createDemoClients();
    const loopbackPeer = (url: string) => new URL(url).host;

    // Exactly the demo's peers are trusted, and only their loopback ports are reachable over http.
    const trust = trustFileSchema.parse({
      identityProviders: [idp.providerConfig()],
      clients: clients.map((c) => c.registration),
      shcIssuers: [issuer.trust],
      dataSharing: DEMO_DATA_SHARING,
      outboundAllowlist: [idp.issuer, walletHost.baseUrl, subscriber.url].map(loopbackPeer),
    });
    const config: Config = { ...opts.config, publicBaseUrl: baseUrl, databaseUrl: undefined, dataDir: path.join(opts.dir, 'db'), workers: true, trust };
    writeDemoFiles(opts.dir, config, clients);

    const logFile = createWriteStream(path.join(opts.dir, 'gateway.log'), { flags: 'a' });
    closers.push(() => new Promise<void>((resolve) => logFile.end(resolve)));
    const services = await createServices(config, { clock, log: createLogger(config.logLevel, logFile) });
    closers.push(() => services.db.close());

    const client = (role: DemoRole) => clients.find((c) => c.role === role) as DemoClient;
    const token = (role: DemoRole) => requestAccessToken(baseUrl, client(role));
    const networkTokenRequest = (purposes: readonly string[]) => tokenRequest(baseUrl, client('network'), purposes);
    const wallet = createDemoWallet({ idp, host: walletHost, issuer, clock });
    const app = buildApp(services, [...modules(services), { router: demoRoutes({ services, wallet, issuer, token }) }]);
    server.on('request', app);
    closers.push(() => closeServer(server));
    const workers: Workers = startWorkers(services);
    closers.push(() => workers.stop());
    const followed = DEMO_PATIENTS.map((p) => ({ system: idp.issuer, value: p.id }));
    const subscriptionId = await subscribeNetwork(baseUrl, await token('network'), subscriber.url, followed);

    return { baseUrl, services, idp, wallet, walletHost, issuer, network: { subscriber, subscriptionId }, token, networkTokenRequest, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
