import express, { type Express } from 'express';
import { auditCapability, auditRoutes } from './audit/routes.js';
import { checkinModule } from './checkin/module.js';
import { consentModule } from './consent/module.js';
import { ehrModule } from './ehr/module.js';
import { buildCapabilityStatement } from './fhir/capability.js';
import { fhirRoutes } from './fhir/route-table.js';
import { bodyParsers, sendFhir } from './http/body.js';
import { errorHandler, notFoundRoute } from './http/errors.js';
import { requestContext } from './http/request-context.js';
import { securityHeaders } from './http/security-headers.js';
import { mdlModule } from './identity/mdl/routes.js';
import { identityRoutes } from './identity/routes.js';
import { jwksRoutes } from './keys/routes.js';
import type { Module } from './module.js';
import { notificationsModule } from './notifications/module.js';
import { opsRoutes } from './ops/routes.js';
import type { Services } from './services.js';
import { shlRoutes } from './shl/routes.js';
import { summariesModule } from './summaries/module.js';
import { visitsModule } from './visits/module.js';
import { webRoutes } from './web/routes.js';

/** The capability modules, in mount order. Each owns its routes; app.ts only wires them. */
export function modules(s: Services): Module[] {
  const mdl = mdlModule(s);
  return [
    { router: opsRoutes(s) },
    { router: jwksRoutes(s.keys) },
    { router: identityRoutes(s) },
    ...(mdl ? [mdl] : []),
    { router: auditRoutes(s), capability: auditCapability },
    checkinModule(s),
    visitsModule(s),
    summariesModule(s),
    notificationsModule(s),
    ehrModule(s),
    consentModule(s),
    { router: shlRoutes(s) },
    { router: webRoutes() },
  ];
}

export function buildApp(s: Services, mods: Module[] = modules(s)): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');
  app.use(requestContext(s.log, s.metrics));
  app.use(securityHeaders);
  app.use(bodyParsers(s.config.bodyLimitBytes));

  const capabilityStatement = buildCapabilityStatement(
    s.config.publicBaseUrl,
    mods.flatMap((m) => (m.capability ? [m.capability] : [])),
    fhirRoutes(mods.map((m) => m.router)),
    new Date(s.clock.now()),
  );
  app.get('/fhir/metadata', (_req, res) => sendFhir(res, 200, capabilityStatement));
  for (const m of mods) app.use(m.router);

  app.use(notFoundRoute);
  app.use(errorHandler(s.log));
  return app;
}
