import { JWE_ALG, JWE_ENC, JWE_ZIP, LABEL_MAX, SHLINK_PREFIX } from '../../../shl/constants.js';
import { PasscodeError, ViewerError } from './errors.js';

/**
 * The SMART Health Links client of the viewer: reads the link from the address after `#` (never
 * sent to the server), fetches the manifest and files from this page's own origin (the CSP allows
 * nothing else), and decrypts them here with the link's key, which never leaves the browser.
 */

const RECIPIENT = 'Patient viewer (ktc-gateway)';
const EMBEDDED_LENGTH_MAX = 100000;
/** Largest file this page inflates (room for documents inside); a bigger one is refused, not shown. */
export const MAX_INFLATED_BYTES = 16 * 1024 * 1024;

export interface ViewerLink {
  url: URL;
  keyBytes: Uint8Array;
  passcode: boolean;
  direct: boolean;
  expiresAt: Date | undefined;
  label: string | undefined;
}

export interface PlainFile {
  contentType: string | undefined;
  text: string;
}

function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new ViewerError('brokenLink');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export const utf8 = (bytes: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

export function readLink(fragment: string, origin: string): ViewerLink {
  const at = fragment.indexOf(SHLINK_PREFIX);
  if (at < 0) throw new ViewerError('noLink');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(utf8(base64urlBytes(fragment.slice(at + SHLINK_PREFIX.length)))) as Record<string, unknown>;
  } catch {
    throw new ViewerError('brokenLink');
  }
  if (typeof payload !== 'object' || payload === null) throw new ViewerError('brokenLink');
  const { url, key, flag = '', exp, label, v = 1 } = payload;
  if (typeof v === 'number' && v > 1) throw new ViewerError('newerFormat');
  if (typeof url !== 'string' || typeof key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(key) || typeof flag !== 'string') throw new ViewerError('brokenLink');
  if (flag.includes('U') && flag.includes('P')) throw new ViewerError('brokenLink');
  let manifestUrl: URL;
  try {
    manifestUrl = new URL(url);
  } catch {
    throw new ViewerError('brokenLink');
  }
  if (manifestUrl.origin !== origin) throw new ViewerError('otherService');
  return {
    url: manifestUrl,
    keyBytes: base64urlBytes(key),
    passcode: flag.includes('P'),
    direct: flag.includes('U'),
    expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined,
    label: typeof label === 'string' ? label.slice(0, LABEL_MAX) : undefined,
  };
}

async function request(url: URL | string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch {
    throw new ViewerError('cannotReach');
  }
  if (res.status === 404 || res.status === 410) throw new ViewerError('noLongerWorks');
  if (res.status === 429) throw new ViewerError('tooManyTries');
  return res;
}

async function fetchManifest(link: ViewerLink, passcode: string | undefined): Promise<unknown[]> {
  const body = { recipient: RECIPIENT, ...(passcode === undefined ? {} : { passcode }), embeddedLengthMax: EMBEDDED_LENGTH_MAX };
  const res = await request(link.url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
  if (res.status === 401) {
    const answer = (await res.json().catch(() => ({}))) as { remainingAttempts?: unknown };
    throw new PasscodeError(typeof answer.remainingAttempts === 'number' ? answer.remainingAttempts : undefined);
  }
  if (!res.ok) throw new ViewerError('serverCannotOpen');
  const manifest = (await res.json().catch(() => undefined)) as { files?: unknown } | undefined;
  if (!Array.isArray(manifest?.files)) throw new ViewerError('unreadableAnswer');
  return manifest.files;
}

async function fetchJwe(url: URL | string): Promise<string> {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) throw new ViewerError('otherServiceFile');
  const res = await request(target, { headers: { Accept: 'application/jose' } });
  if (!res.ok) throw new ViewerError('serverCannotSend');
  return res.text();
}

/** The compact JWEs of the link, each with the content type the manifest announced. */
async function encryptedFiles(link: ViewerLink, passcode: string | undefined): Promise<{ jwe: string; contentType?: string }[]> {
  if (link.direct) {
    const url = new URL(link.url);
    url.searchParams.set('recipient', RECIPIENT);
    return [{ jwe: await fetchJwe(url) }];
  }
  const files: { jwe: string; contentType?: string }[] = [];
  for (const f of (await fetchManifest(link, passcode)) as { embedded?: unknown; location?: unknown; contentType?: unknown }[]) {
    const contentType = typeof f?.contentType === 'string' ? f.contentType : undefined;
    if (typeof f?.embedded === 'string') files.push({ jwe: f.embedded, ...(contentType ? { contentType } : {}) });
    else if (typeof f?.location === 'string') files.push({ jwe: await fetchJwe(f.location), ...(contentType ? { contentType } : {}) });
  }
  return files;
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Raw DEFLATE, refused beyond MAX_INFLATED_BYTES (a bomb stops here, not in the page). */
export async function inflateRaw(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return concat(chunks);
    total += value.length;
    if (total > MAX_INFLATED_BYTES) {
      await reader.cancel();
      throw new ViewerError('tooLarge');
    }
    chunks.push(value);
  }
}

/** SMART Health Links files: compact JWE, alg "dir", enc "A256GCM", optional zip "DEF". */
async function decrypt(jwe: string, keyBytes: Uint8Array<ArrayBuffer>): Promise<PlainFile> {
  const parts = jwe.trim().split('.');
  if (parts.length !== 5 || parts[1] !== '') throw new ViewerError('cannotUnlock');
  let header: { alg?: unknown; enc?: unknown; zip?: unknown; cty?: unknown };
  let iv: Uint8Array<ArrayBuffer>;
  let data: Uint8Array<ArrayBuffer>;
  try {
    header = JSON.parse(utf8(base64urlBytes(parts[0]!))) as typeof header;
    iv = base64urlBytes(parts[2]!);
    const tag = base64urlBytes(parts[4]!);
    if (tag.length !== 16) throw new Error('tag');
    data = concat([base64urlBytes(parts[3]!), tag]);
  } catch {
    throw new ViewerError('cannotUnlock');
  }
  if (header?.alg !== JWE_ALG || header.enc !== JWE_ENC || iv.length !== 12) throw new ViewerError('cannotUnlock');
  if (!globalThis.crypto?.subtle) throw new ViewerError('needsHttps');
  let plain: Uint8Array<ArrayBuffer>;
  try {
    const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'AES-GCM' }, false, ['decrypt']);
    const aad = new TextEncoder().encode(parts[0]);
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, key, data));
  } catch {
    throw new ViewerError('cannotUnlock');
  }
  const bytes = header.zip === JWE_ZIP ? await inflateRaw(plain) : plain;
  try {
    return { contentType: typeof header.cty === 'string' ? header.cty : undefined, text: utf8(bytes) };
  } catch {
    throw new ViewerError('cannotUnlock');
  }
}

/** Every file of the link, decrypted; the JWE header's `cty` wins over the manifest's type. */
export async function openLink(link: ViewerLink, passcode: string | undefined): Promise<PlainFile[]> {
  const files: PlainFile[] = [];
  for (const f of await encryptedFiles(link, passcode)) {
    const plain = await decrypt(f.jwe, link.keyBytes as Uint8Array<ArrayBuffer>);
    files.push({ contentType: plain.contentType ?? f.contentType, text: plain.text });
  }
  return files;
}

/** The payload of a SMART Health Card's JWS (raw DEFLATE of JSON): shown, not verified, by this page. */
export async function cardPayload(jws: string): Promise<unknown> {
  const payload = jws.split('.')[1];
  if (!payload) throw new ViewerError('unreadableSummary');
  try {
    return JSON.parse(utf8(await inflateRaw(base64urlBytes(payload))));
  } catch (e) {
    if (e instanceof ViewerError && e.problem === 'tooLarge') throw e;
    throw new ViewerError('unreadableSummary');
  }
}

export { base64urlBytes };
