import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';

/** Listens on an ephemeral loopback port, over HTTPS when given a certificate; returns the base URL and a closer. */
export async function serve(
  handler: Express | Parameters<typeof createServer>[1],
  tls?: { cert: string; key: string },
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const listener = handler as Parameters<typeof createServer>[1];
  const server: Server = tls ? createTlsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The floor for HTTP benches: express answering JSON with nothing else in the way. */
export function helloWorld(): Express {
  const app = express();
  app.get('/', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}
