import type { Services } from './services.js';

export interface Workers {
  stop(): Promise<void>;
}

/** Background work of every replica (notification delivery joins here). */
export function startWorkers(_s: Services): Workers {
  return { stop: async () => undefined };
}
