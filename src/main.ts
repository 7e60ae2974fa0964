import type { Server } from 'node:http';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createServices } from './services.js';
import { startWorkers } from './workers.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ktc-gateway: configuration error\n${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const services = await createServices(config);
  const { log } = services;
  const app = buildApp(services);
  const server: Server = app.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, database: services.db.kind, publicBaseUrl: config.publicBaseUrl }, 'listening');
  const workers = config.workers ? startWorkers(services) : { stop: async () => undefined };

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // In-flight requests get 10 s to finish; then their connections are cut.
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    await workers.stop();
    await closed;
    clearTimeout(force);
    await services.cpu.close();
    await services.db.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`ktc-gateway: failed to start: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(1);
});
