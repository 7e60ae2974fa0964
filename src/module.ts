import type { Router } from 'express';
import type { CapabilityContribution } from './fhir/capability.js';

/**
 * One mounted capability: its routes and what it adds to the CapabilityStatement. Feature modules
 * build one; app.ts mounts them (so features never import the app).
 */
export interface Module {
  router: Router;
  capability?: CapabilityContribution;
}
