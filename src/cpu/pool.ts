import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { HttpError, issue, outcome } from '../fhir/outcome.js';
import { tooComplex } from '../limits/bounds.js';
import { runTask, unwrap, type Envelope, type TaskMessage } from './envelope.js';
import type { TaskInput, TaskName, TaskOutput } from './tasks.js';

/**
 * CPU-heavy work (FHIR validation, JWE decryption and inflation) on worker threads, so the event
 * loop keeps answering /health, SSE and other requests while a large check-in is validated, and
 * every core is used. With 0 threads the same tasks run inline (the "without pool" bench row).
 */
export interface CpuPool {
  run<K extends TaskName>(task: K, input: TaskInput<K>): Promise<TaskOutput<K>>;
  readonly threads: number;
  /** Starts every thread and loads its definitions, in the background (a kiosk opening a session). */
  warm(): Promise<void>;
  /** Waits for running tasks, then ends the threads (SIGTERM drain, test teardown). */
  close(): Promise<void>;
}

export interface CpuPoolOptions {
  threads: number;
  /** An idle thread exits after this long, releasing its FHIR definitions (idle RSS). */
  idleMs: number;
  maxIssues: number;
  /**
   * A task still unfinished after this long is abandoned: its thread is ended (a single
   * pathological resource the per-resource budget cannot interrupt) and the request refused.
   */
  hardTimeoutMs: number;
  /** FHIR_PACKAGES_DIR, loaded by each thread for its validator. */
  packagesDir?: string;
}

/** The worker entry beside this module: worker.ts under tsx (tests, npm start), worker.js when built. */
function workerEntry(): { filename: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const filename = self.replace(/pool\.(ts|js)$/, ts ? 'worker.ts' : 'worker.js');
  // Threads inherit the parent's execArgv; a .ts entry needs tsx's loader even when the parent got it another way.
  const hasTsx = process.execArgv.some((a) => a.includes('tsx'));
  return { filename, execArgv: ts && !hasTsx ? [...process.execArgv, '--import', 'tsx'] : process.execArgv };
}

export function serverBusy(): HttpError {
  return new HttpError(503, outcome([issue('transient', 'The gateway is busy; retry shortly')]), { 'Retry-After': '1' });
}

function inlinePool(opts: CpuPoolOptions): CpuPool {
  return {
    threads: 0,
    run: async (task, input) => unwrap(await runTask({ task, input, maxIssues: opts.maxIssues })) as never,
    warm: async () => undefined,
    close: async () => undefined,
  };
}

export function createCpuPool(opts: CpuPoolOptions): CpuPool {
  if (opts.threads === 0) return inlinePool(opts);
  const piscina = new Piscina<TaskMessage, Envelope>({
    ...workerEntry(),
    minThreads: 0,
    maxThreads: opts.threads,
    idleTimeout: opts.idleMs,
    workerData: { packagesDir: opts.packagesDir },
  });
  const pool: CpuPool = {
    threads: opts.threads,
    // As many tasks at once as threads: piscina starts a thread for each while the others are busy.
    warm: async () => {
      await Promise.all(Array.from({ length: opts.threads }, () => pool.run('warm', {})));
    },
    async run(task, input) {
      let envelope: Envelope;
      try {
        envelope = await piscina.run({ task, input, maxIssues: opts.maxIssues }, { signal: AbortSignal.timeout(opts.hardTimeoutMs) });
      } catch (e) {
        // Aborted: a queue still waiting means the pool is saturated (retry later); otherwise this task itself ran too long.
        if ((e as Error)?.name === 'AbortError') throw piscina.queueSize > 0 ? serverBusy() : tooComplex(opts.hardTimeoutMs);
        throw e;
      }
      return unwrap(envelope) as never;
    },
    close: () => piscina.close(),
  };
  return pool;
}
