import { Router, type Request, type Response } from 'express';
import type { Services } from '../services.js';
import { requestAudit } from '../audit/audit.js';
import { accessTokens } from './access-token.js';
import { CLIENT_ASSERTION_ALGORITHMS, OAuthError, createClientAssertionVerifier } from './client-assertion.js';
import { JwksCache } from '../net/jwks-cache.js';
import { mdlDiscovery } from './mdl/routes.js';
import { grantScopes } from './scopes.js';
import { Agreements, grantablePurposes } from '../sharing/agreements.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** One form parameter; absent, empty or repeated ones are invalid_request (RFC 6749 §3.2). */
function param(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (Array.isArray(v)) throw new OAuthError('invalid_request', `${name} is repeated`);
  if (typeof v !== 'string' || !v) throw new OAuthError('invalid_request', `${name} is required`);
  return v;
}

/** The OAuth error answer; audited when the assertion named a registered client. */
async function refuseToken(s: Pick<Services, 'config' | 'audit'>, req: Request, res: Response, e: OAuthError): Promise<void> {
  const registered = e.clientId ? s.config.trust.clients.find((c) => c.clientId === e.clientId) : undefined;
  if (registered) {
    await s.audit.record({
      ...requestAudit(req, res),
      actor: { kind: 'client', id: registered.clientId, organization: registered.organization },
      action: 'E',
      subtype: 'auth.token',
      outcome: '4',
      detail: { error: e.error },
    });
  }
  res.status(e.status).json({ error: e.error, error_description: e.description });
}

/**
 * SMART Backend Services: discovery and the client_credentials token endpoint. The token endpoint
 * answers in OAuth's own error format (RFC 6749 §5.2), the one place that is not OperationOutcome.
 */
export function identityRoutes(s: Pick<Services, 'config' | 'db' | 'clock' | 'keys' | 'audit' | 'fetch'>): Router {
  const r = Router();
  const base = s.config.publicBaseUrl;
  const clients = createClientAssertionVerifier({
    config: s.config,
    db: s.db,
    clock: s.clock,
    jwks: new JwksCache(s.fetch, s.clock, "The client's registered jwks_uri"),
  });
  const tokens = accessTokens(s.keys, base, s.clock);
  const agreements = new Agreements(s.config.trust.dataSharing);

  const smartConfiguration = {
    token_endpoint: `${base}/auth/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    // Every listed scope is one some registered client can be granted, so the server honours it.
    scopes_supported: [...new Set(s.config.trust.clients.flatMap((c) => c.scopes))].sort(),
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    // Extension field: patients may prove identity with an mDL over OpenID4VP (Digital Credentials API).
    ...(s.config.trust.mdl ? { mdl_identity: mdlDiscovery(base) } : {}),
  };
  const discovery = (_req: Request, res: Response) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.json(smartConfiguration);
  };
  // API.md names the root; SMART places it under the FHIR base too.
  r.get('/.well-known/smart-configuration', discovery);
  r.get('/fhir/.well-known/smart-configuration', discovery);

  r.post('/auth/token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new OAuthError('invalid_request', 'Send the token request as application/x-www-form-urlencoded');
      }
      const body = req.body as Record<string, unknown>;
      const grantType = param(body, 'grant_type');
      if (grantType !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'Only grant_type=client_credentials is supported');
      if (param(body, 'client_assertion_type') !== JWT_BEARER) throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
      const assertion = param(body, 'client_assertion');
      const requested = param(body, 'scope').split(' ').filter(Boolean);

      const { config: client, b2b } = await clients.authenticate(assertion);
      const scopes = grantScopes(requested, client.scopes);
      if (!scopes.length) throw new OAuthError('invalid_scope', 'None of the requested scopes is registered for this client', client.clientId);
      // Stating purposes asks for other organizations' data: each must be grantable, or the token would promise what no one gave.
      const purposes = b2b ? await grantablePurposes(s.db, agreements, client.organization, b2b.purposes) : [];
      if (b2b && !purposes.length) {
        throw new OAuthError('invalid_grant', `No data-sharing agreement or patient consent grants ${client.organization} any of: ${b2b.purposes.join(', ')}`, client.clientId);
      }

      const principal = { clientId: client.clientId, organization: client.organization, scopes, ...(purposes.length ? { purposes } : {}) };
      const { token, expiresIn } = await tokens.issue(principal);
      await s.audit.record({
        ...requestAudit(req, res),
        actor: { kind: 'client', id: client.clientId, organization: client.organization },
        action: 'E',
        subtype: 'auth.token',
        detail: { scope: scopes.join(' '), ...(b2b ? { purposeOfUse: purposes.join(' '), b2bOrganizationId: b2b.organizationId } : {}) },
      });
      res.status(200).json({ access_token: token, token_type: 'bearer', expires_in: expiresIn, scope: scopes.join(' ') });
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      await refuseToken(s, req, res, e);
    }
  });
  return r;
}
