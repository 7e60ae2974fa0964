// Entry of the CPU worker threads (piscina): src/cpu/worker.ts under tsx, dist/cpu/worker.js when built.
import { workerData } from 'node:worker_threads';
import { loadFhirPackages } from '../fhir/packages.js';
import { runTask } from './envelope.js';
import { configureThreadValidator } from './thread-validator.js';

// Each thread loads the operator's FHIR packages itself: parsed definitions do not cross threads cheaply.
const { packagesDir } = (workerData ?? {}) as { packagesDir?: string };
if (packagesDir) configureThreadValidator({ packages: loadFhirPackages(packagesDir) });

export default runTask;
