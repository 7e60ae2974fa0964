import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { buildApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, trustFileSchema, type Config, type TrustConfig } from '../../src/config.js';
import type { Db } from '../../src/db/db.js';
import { accessTokens } from '../../src/identity/access-token.js';
import type { ClientPrincipal } from '../../src/identity/types.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createServices, type Services } from '../../src/services.js';

export interface TestGateway {
  services: Services;
  app: Express;
  /** Set when started with `listen: true`: http://127.0.0.1:<port>, also the PUBLIC_BASE_URL. */
  baseUrl: string;
  /** Every log line written, as parsed JSON (for "no secrets in logs" assertions). */
  logs: Record<string, unknown>[];
  /** A real gateway access token for a client (skips the /auth/token round trip). */
  clientToken(client: ClientPrincipal): Promise<string>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  db: Db;
  trust?: Partial<TrustConfig>;
  env?: Record<string, string>;
  clock?: Clock;
  /** Serve over a real loopback HTTP server (needed when peers call back, or a browser opens pages). */
  listen?: boolean;
}

/** A gateway built from real parts on the given database; the log is captured, not printed. */
export async function startTestGateway(opts: TestGatewayOptions): Promise<TestGateway> {
  let server: Server | undefined;
  let baseUrl = 'http://127.0.0.1:8080';
  if (opts.listen) {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const base = loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'debug', PUBLIC_BASE_URL: baseUrl, WORKERS: 'off', ...opts.env });
  const config: Config = { ...base, trust: trustFileSchema.parse(opts.trust ?? {}) };
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const services = await createServices(config, {
    db: opts.db,
    log: createLogger(config.logLevel, sink),
    metrics: createMetrics(),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const app = buildApp(services);
  server?.on('request', app);
  const tokens = accessTokens(services.keys, config.publicBaseUrl, services.clock);
  return {
    services,
    app,
    baseUrl,
    logs,
    clientToken: async (c) => (await tokens.issue(c)).token,
    close: async () => {
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await services.cpu.close();
    },
  };
}
