import { Router } from 'express';
import type { KeyStore } from './keystore.js';

/** The gateway's public signing keys: SHC verifiers fetch `<iss>/.well-known/jwks.json`, with CORS. */
export function jwksRoutes(keys: KeyStore): Router {
  const r = Router();
  r.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(keys.jwks());
  });
  return r;
}
