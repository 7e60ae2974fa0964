import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NotifierDeps } from './handshake.js';
import { Lane } from './lane.js';
import { sweepOutbox } from './outbox.js';
import { claimDue } from './subscription-store.js';
import { onWakeup } from './wakeup.js';

export interface DeliveryWorkerOptions {
  /** Subscriptions this replica delivers to at once. */
  concurrency?: number;
  /** How often an idle worker looks for work other replicas recorded. */
  pollMs?: number;
}

export interface DeliveryWorker {
  /** Does everything due now (handshakes, deliveries, heartbeats) and returns when nothing is; for tests and benches. */
  runOnce(): Promise<void>;
  start(): void;
  /** Finishes in-flight attempts, records them and gives the leases back. */
  stop(): Promise<void>;
}

const SWEEP_EVERY_MS = 10_000;
const MAX_ROUNDS = 1000;

/** Logged instead of the error itself: driver messages can quote statement values. */
function errorSummary(e: unknown): { type: string; code?: string } {
  const err = e as { name?: string; code?: unknown };
  return { type: err?.name ?? typeof e, ...(typeof err?.code === 'string' ? { code: err.code } : {}) };
}

/** A wait that a wake() ends early; a wake() while no one waits is kept, so the next idle() returns at once. */
function createIdler(): { wake(): void; idle(ms: number): Promise<void> } {
  let nudged = false;
  let endIdle: (() => void) | undefined;
  return {
    wake() {
      nudged = true;
      endIdle?.();
    },
    idle: (ms) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          endIdle = undefined;
          nudged = false;
          resolve();
        };
        const timer = setTimeout(done, nudged ? 0 : ms);
        endIdle = done;
      }),
  };
}

/**
 * The outbox delivery worker of one replica. Each round it claims subscriptions with due work
 * (FOR UPDATE SKIP LOCKED, then a lease) and runs one Lane per subscription, so each
 * subscription is delivered by one replica at a time, in order, while different subscriptions
 * proceed in parallel on any number of replicas.
 */
export function createDeliveryWorker(d: NotifierDeps, opts: DeliveryWorkerOptions = {}): DeliveryWorker {
  const concurrency = opts.concurrency ?? 8;
  const pollMs = opts.pollMs ?? 250;
  const owner = `worker:${randomUUID()}`;
  const lanes = new Map<string, Promise<void>>();
  let stopping = false;
  let loop: Promise<void> | undefined;
  let lastSweep = -Infinity;
  const { wake, idle } = createIdler();

  const sweep = async (force: boolean) => {
    const now = d.clock.now();
    if (!force && now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    await sweepOutbox(d.db, new Date(now));
  };

  const claim = async (): Promise<number> => {
    const free = concurrency - lanes.size;
    if (free <= 0 || stopping) return 0;
    const leasedAt = performance.now();
    const subs = await claimDue(d.db, owner, new Date(d.clock.now()), free);
    for (const sub of subs) {
      const lane = new Lane(d, sub, owner, leasedAt, () => stopping)
        .run()
        .catch((e: unknown) => d.log.warn({ subscription: sub.id, err: errorSummary(e) }, 'notification delivery interrupted'))
        .finally(() => {
          lanes.delete(sub.id);
          wake();
        });
      lanes.set(sub.id, lane);
    }
    return subs.length;
  };

  const run = async () => {
    const unsubscribe = onWakeup(d.db, wake);
    try {
      while (!stopping) {
        let claimed = 0;
        let failed = false;
        try {
          await sweep(false);
          claimed = await claim();
        } catch (e) {
          failed = true;
          d.log.warn({ err: errorSummary(e) }, 'notification worker cannot reach the database; retrying');
        }
        if (failed) await idle(pollMs * 8);
        else if (claimed === 0 || lanes.size >= concurrency) await idle(pollMs);
      }
    } finally {
      unsubscribe();
    }
  };

  return {
    async runOnce() {
      await sweep(true);
      for (let round = 0; round < MAX_ROUNDS; round++) {
        await claim();
        if (lanes.size === 0) return;
        await Promise.all(lanes.values());
      }
    },
    start() {
      loop ??= run();
    },
    async stop() {
      stopping = true;
      wake();
      await loop;
      await Promise.all(lanes.values());
    },
  };
}
