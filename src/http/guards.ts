import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { forbidden, notFound, unauthorized } from './http-error.js';
import { scopeSatisfies } from '../identity/scopes.js';
import type { Authenticator, ClientPrincipal, Principal, VerifiedIdentity } from '../identity/types.js';

export function bearer(req: Request): string {
  const header = req.get('authorization');
  const m = header ? /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim()) : null;
  if (!m?.[1]) {
    throw unauthorized('A Bearer token is required', undefined, { 'WWW-Authenticate': 'Bearer realm="ktc-gateway"' });
  }
  return m[1];
}

function requireGrantedScope(client: ClientPrincipal, scope: string) {
  if (!scopeSatisfies(client.scopes, scope)) throw forbidden(`This route needs scope ${scope}`);
}

/** Client routes: a gateway access token whose scopes cover `scope`. Sets res.locals.principal. */
export function requireScope(auth: Authenticator, scope: string): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const client = await auth.client(bearer(req));
    requireGrantedScope(client, scope);
    res.locals.principal = { kind: 'client', client } satisfies Principal;
    next();
  };
}

/** Patient routes: an IAL2/AAL2 identity token from a trusted provider. */
export function requirePatient(auth: Authenticator): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const identity = await auth.patient(bearer(req));
    res.locals.principal = { kind: 'patient', identity } satisfies Principal;
    next();
  };
}

/** Routes open to either: a client with `scope`, or a patient (the route then checks ownership). */
export function requireClientOrPatient(auth: Authenticator, scope: string): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (auth.isClientToken(token)) {
      const client = await auth.client(token);
      requireGrantedScope(client, scope);
      res.locals.principal = { kind: 'client', client } satisfies Principal;
    } else {
      res.locals.principal = { kind: 'patient', identity: await auth.patient(token) } satisfies Principal;
    }
    next();
  };
}

export function principal(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw unauthorized('Not authenticated');
  return p;
}

export function clientOf(res: Response): ClientPrincipal {
  const p = principal(res);
  if (p.kind !== 'client') throw forbidden('This route is for registered clients');
  return p.client;
}

export function patientOf(res: Response): VerifiedIdentity {
  const p = principal(res);
  if (p.kind !== 'patient') throw forbidden('This route is for patients');
  return p.identity;
}

/** Whose patient data a record is: the tenant, and the verified identity it is about. */
export interface PatientDataOwner {
  organization: string;
  patientIssuer: string;
  patientSubject: string;
}

/**
 * Patient data is visible to clients of its organization and to the patient it is about. To
 * anyone else it does not exist: 404, the same as an unknown id.
 */
export function requireOwner<T extends PatientDataOwner>(res: Response, record: T | undefined, what: string): T {
  const p = principal(res);
  const allowed =
    record && (p.kind === 'client' ? p.client.organization === record.organization : p.identity.issuer === record.patientIssuer && p.identity.subject === record.patientSubject);
  if (!record || !allowed) throw notFound(`No such ${what}`);
  return record;
}
