import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactEncrypt } from 'jose';

/**
 * A patient wallet's SMART Health Link host on 127.0.0.1, for the demo wallet and check-in tests.
 * It serves links made with createLink() the way the spec says (manifest POST with passcode
 * counting and lockout, `location` files, U-flag GET) and logs every request, so tests can also
 * assert that none was made. The gateway reaches it only when `outboundAllowlist` names it.
 */

export type ShlFlags = '' | 'L' | 'P' | 'U' | 'LP' | 'LU';

export interface WalletFile {
  contentType: string;
  /** The plaintext (an SHC file's JSON, or a FHIR resource's JSON). */
  content: string;
  /** Compress with `zip: "DEF"`. */
  zip?: boolean;
  /** Overrides the JWE `cty` (default: contentType); null leaves it out, as older producers did. */
  cty?: string | null;
}

export interface WalletLinkOptions {
  files: WalletFile[];
  flags?: ShlFlags;
  /** Required with P. */
  passcode?: string;
  /** Lifetime wrong-passcode allowance with P (default 5); at 0 the manifest answers 404. */
  maxAttempts?: number;
  /** Embed files in the manifest (within the client's embeddedLengthMax); otherwise `location`s. */
  embedded?: boolean;
  /** The link's `exp`, epoch seconds. Not enforced here: a receiver must refuse a stale link itself. */
  exp?: number;
  label?: string;
}

export interface WalletRequest {
  method: string;
  /** Path without the query. */
  path: string;
  recipient?: string;
  passcode?: string;
  embeddedLengthMax?: number;
}

export interface ShlWalletHost {
  baseUrl: string;
  /** A new link: `shlink:/…`. */
  createLink(opts: WalletLinkOptions): Promise<string>;
  /** Every request received, in order. */
  requests: WalletRequest[];
  /** Makes the link's manifest and files answer 404 from now on. */
  revoke(shlink: string): void;
  close(): Promise<void>;
}

interface HostedLink {
  jwes: { contentType: string; jwe: string; location: string }[];
  flags: string;
  passcode: string | undefined;
  remaining: number;
  embedded: boolean;
  revoked: boolean;
}

const random43 = () => randomBytes(32).toString('base64url');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 65_536) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function encryptFile(f: WalletFile, key: Uint8Array): Promise<string> {
  const cty = f.cty === undefined ? f.contentType : f.cty;
  return new CompactEncrypt(new TextEncoder().encode(f.content))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...(cty === null ? {} : { cty }), ...(f.zip ? { zip: 'DEF' } : {}) })
    .encrypt(key);
}

/** The manifest POST: recipient required, passcode counted against the link's allowance, files embedded when small enough. */
async function answerManifest(req: IncomingMessage, res: ServerResponse, entry: WalletRequest, link: HostedLink | undefined): Promise<void> {
  let body: { recipient?: unknown; passcode?: unknown; embeddedLengthMax?: unknown } = {};
  try {
    body = JSON.parse(await readBody(req)) as typeof body;
  } catch {
    return send(res, 400, 'text/plain', 'bad json');
  }
  if (typeof body.recipient === 'string') entry.recipient = body.recipient;
  if (typeof body.passcode === 'string') entry.passcode = body.passcode;
  if (typeof body.embeddedLengthMax === 'number') entry.embeddedLengthMax = body.embeddedLengthMax;
  if (!link || link.revoked || link.flags.includes('U') || (link.flags.includes('P') && link.remaining <= 0)) return send(res, 404, 'text/plain', 'not found');
  if (typeof body.recipient !== 'string' || !body.recipient) return send(res, 400, 'text/plain', 'recipient required');
  if (link.flags.includes('P') && body.passcode !== link.passcode) {
    link.remaining -= 1;
    return send(res, 401, 'application/json', JSON.stringify({ remainingAttempts: link.remaining }));
  }
  const max = entry.embeddedLengthMax;
  const manifest = {
    files: link.jwes.map((f) =>
      link.embedded && (max === undefined || f.jwe.length <= max) ? { contentType: f.contentType, embedded: f.jwe } : { contentType: f.contentType, location: f.location },
    ),
  };
  return send(res, 200, 'application/json', JSON.stringify(manifest));
}

export async function startShlWalletHost(): Promise<ShlWalletHost> {
  const links = new Map<string, HostedLink>();
  const files = new Map<string, { link: HostedLink; jwe: string }>();
  const requests: WalletRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, 'text/plain', 'error'));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://wallet.test');
    const [, kind, id = ''] = url.pathname.split('/');
    const entry: WalletRequest = { method: req.method ?? '', path: url.pathname };
    requests.push(entry);
    const notFound = () => send(res, 404, 'text/plain', 'not found');

    if (req.method === 'POST' && kind === 'm') return answerManifest(req, res, entry, links.get(id));
    if (req.method === 'GET' && kind === 'f') {
      const file = files.get(id);
      if (!file || file.link.revoked) return notFound();
      return send(res, 200, 'application/jose', file.jwe);
    }
    if (req.method === 'GET' && kind === 'u') {
      entry.recipient = url.searchParams.get('recipient') ?? undefined;
      const link = links.get(id);
      if (!link || link.revoked || !link.flags.includes('U')) return notFound();
      return send(res, 200, 'application/jose', link.jwes[0]?.jwe ?? '');
    }
    notFound();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    requests,
    async createLink(opts) {
      const flags = opts.flags ?? '';
      if (flags.includes('P') && opts.passcode === undefined) throw new Error('a P link needs a passcode');
      if (flags.includes('U') && opts.files.length !== 1) throw new Error('a U link has exactly one file');
      const keyText = random43();
      const key = Buffer.from(keyText, 'base64url');
      const link: HostedLink = {
        jwes: [],
        flags,
        passcode: opts.passcode,
        remaining: opts.maxAttempts ?? 5,
        embedded: opts.embedded ?? false,
        revoked: false,
      };
      for (const f of opts.files) {
        const jwe = await encryptFile(f, key);
        const fileId = random43();
        files.set(fileId, { link, jwe });
        link.jwes.push({ contentType: f.contentType, jwe, location: `${baseUrl}/f/${fileId}` });
      }
      const id = random43();
      links.set(id, link);
      const payload = {
        url: `${baseUrl}/${flags.includes('U') ? 'u' : 'm'}/${id}`,
        ...(flags ? { flag: flags } : {}),
        key: keyText,
        ...(opts.exp !== undefined ? { exp: opts.exp } : {}),
        ...(opts.label !== undefined ? { label: opts.label } : {}),
      };
      return `shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    },
    revoke(shlink) {
      const payload = JSON.parse(Buffer.from(shlink.slice('shlink:/'.length), 'base64url').toString('utf8')) as { url: string };
      const link = links.get(new URL(payload.url).pathname.split('/')[2] ?? '');
      if (link) link.revoked = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
