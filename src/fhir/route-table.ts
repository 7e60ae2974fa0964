import type { Router } from 'express';
import { R4_RESOURCE_TYPES } from './r4-resource-types.js';

/** One RESTful FHIR interaction or operation a mounted route serves. */
export interface FhirRoute {
  type: string;
  interaction?: 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';
  operation?: string;
}

interface Layer {
  route?: { path?: unknown; methods?: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method + path an express router (and the routers mounted in it) serves. */
export function routesOf(router: Pick<Router, 'stack'>): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const visit = (stack: Layer[]) => {
    for (const layer of stack) {
      const { route } = layer;
      if (route && typeof route.path === 'string') {
        for (const [method, on] of Object.entries(route.methods ?? {})) if (on) out.push({ method: method.toUpperCase(), path: route.path });
      } else if (layer.handle?.stack) visit(layer.handle.stack);
    }
  };
  visit(router.stack as unknown as Layer[]);
  return out;
}

const INSTANCE: Record<string, FhirRoute['interaction']> = { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
const TYPE: Record<string, FhirRoute['interaction']> = { GET: 'search-type', POST: 'create' };

/**
 * The FHIR interaction a route serves, read from its path: `/fhir/{Type}` (search, create),
 * `/fhir/{Type}/:id` (read, update, patch, delete), `_history`, and `$operation`s on the type or an
 * instance. Routes outside `/fhir/{R4 resource type}` (metadata, discovery, SubscriptionTopic,
 * which R4 serves as Basic) are not RESTful FHIR interactions and give undefined.
 */
export function fhirRouteOf(method: string, path: string): FhirRoute | undefined {
  const parts = path.split('/').slice(1);
  if (parts[0] !== 'fhir' || !parts[1]) return undefined;
  const type = parts[1];
  if (!R4_RESOURCE_TYPES.has(type)) return undefined;
  const rest = parts.slice(2);
  const last = rest.at(-1);
  if (last?.startsWith('$')) return { type, operation: last.slice(1) };
  if (rest.length === 0) return TYPE[method] ? { type, interaction: TYPE[method] } : undefined;
  if (rest.length === 1 && rest[0] === '_history') return method === 'GET' ? { type, interaction: 'history-type' } : undefined;
  if (rest.length === 1) return INSTANCE[method] ? { type, interaction: INSTANCE[method] } : undefined;
  if (rest.length === 2 && rest[1] === '_history') return method === 'GET' ? { type, interaction: 'history-instance' } : undefined;
  if (rest.length === 3 && rest[1] === '_history') return method === 'GET' ? { type, interaction: 'vread' } : undefined;
  return undefined;
}

/** The FHIR interactions and operations the routers serve, each once. */
export function fhirRoutes(routers: Pick<Router, 'stack'>[]): FhirRoute[] {
  const seen = new Map<string, FhirRoute>();
  for (const router of routers) {
    for (const { method, path } of routesOf(router)) {
      const r = fhirRouteOf(method, path);
      if (r) seen.set(`${r.type} ${r.interaction ?? `$${r.operation}`}`, r);
    }
  }
  return [...seen.values()];
}
