import { createDeliveryWorker } from './notifications/worker.js';
import type { Services } from './services.js';

export interface Workers {
  stop(): Promise<void>;
}

/** Background work every replica runs: notification delivery (replicas share it through the outbox). */
export function startWorkers(s: Services): Workers {
  const delivery = createDeliveryWorker(s);
  delivery.start();
  return { stop: () => delivery.stop() };
}
