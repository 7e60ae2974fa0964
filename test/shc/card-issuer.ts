import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';
import { CompactSign, type JWK } from 'jose';
import type { IssuerKey } from '../../src/demo/shc-issuer.js';
import { HEALTH_CARD_TYPE } from '../../src/shc/types.js';

export { issuerKey, type IssuerKey } from '../../src/demo/shc-issuer.js';

export const minimalBundle: Bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [{ fullUrl: 'resource:0', resource: { resourceType: 'Patient', name: [{ family: 'Anyperson', given: ['John', 'B.'] }], birthDate: '1951-01-20' } }],
};

/** A card payload; override any claim (undefined removes it). */
export function cardPayload(iss: string, nbf: number, over: Record<string, unknown> = {}, vcOver: Record<string, unknown> = {}): Record<string, unknown> {
  const vc = { type: [HEALTH_CARD_TYPE], credentialSubject: { fhirVersion: '4.0.1', fhirBundle: minimalBundle }, ...vcOver };
  return JSON.parse(JSON.stringify({ iss, nbf, vc, ...over })) as Record<string, unknown>;
}

/** Signs bytes (or a JSON payload, minified and raw-DEFLATEd) as a compact JWS card. */
export async function signCard(key: IssuerKey, payload: Record<string, unknown> | Buffer, header: Record<string, unknown> = {}): Promise<string> {
  const bytes = Buffer.isBuffer(payload) ? payload : deflateRawSync(JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ zip: 'DEF', alg: 'ES256', kid: key.kid, ...header }).sign(key.privateKey);
}

/** An SHC issuer host on 127.0.0.1 serving /.well-known/jwks.json and /.well-known/crl/<kid>.json, counting requests. */
export interface IssuerHost {
  iss: string;
  jwks: { keys: JWK[] };
  crls: Map<string, unknown>;
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startIssuerHost(): Promise<IssuerHost> {
  const host: Omit<IssuerHost, 'iss' | 'close'> = { jwks: { keys: [] }, crls: new Map(), hits: new Map() };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    host.hits.set(path, (host.hits.get(path) ?? 0) + 1);
    const crl = /^\/\.well-known\/crl\/([A-Za-z0-9_-]+)\.json$/.exec(path);
    const body = path === '/.well-known/jwks.json' ? host.jwks : crl ? host.crls.get(crl[1]!) : undefined;
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The same object the server reads, so tests can change what it serves.
  return Object.assign(host, {
    iss: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
