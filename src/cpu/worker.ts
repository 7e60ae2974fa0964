// Entry of the CPU worker threads (piscina): src/cpu/worker.ts under tsx, dist/cpu/worker.js when built.
import { runTask } from './envelope.js';

export default runTask;
