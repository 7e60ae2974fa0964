import { DomainError } from '../errors.js';
import { allowlisted } from '../net/address-policy.js';
import { LABEL_MAX, SHLINK_PREFIX, URL_MAX } from './constants.js';

/**
 * The `shlink:/` codec (SMART Health Links, "Plain" links). Parsing applies the spec's rules and
 * ours (see specs/smart-health-links.md §1); diagnostics never echo the key or the URL path, which
 * are the link's secrets.
 */

export interface ShLink {
  /** Manifest URL, or the single file's URL with the U flag. */
  url: string;
  /** base64url of the 32-byte AES-256 key. */
  key: string;
  /** Expiry, epoch seconds. */
  exp?: number;
  /** Flag letters as received (unknown letters kept, and ignored). */
  flag: string;
  label?: string;
  v: number;
}

export { LABEL_MAX, SHLINK_PREFIX, URL_MAX };
const KEY = /^[A-Za-z0-9_-]{43}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Far more than any valid payload (url 128 + key 43 + label 80 + small fields), far less than harm. */
const PAYLOAD_MAX = 4096;

export function hasFlag(link: Pick<ShLink, 'flag'>, letter: 'L' | 'P' | 'U'): boolean {
  return link.flag.includes(letter);
}

export interface LinkPolicy {
  /** outboundAllowlist: hosts that may be reached over plain http (test peers). */
  allowlist: readonly string[];
}

const invalidLink = (why: string) => new DomainError('ERR_SHL_INVALID', `The SMART Health Link is not valid: ${why}`, { expression: ['shlink'] });

function payloadText(text: string): string {
  const trimmed = text.trim();
  // Bare, or in a viewer URL's fragment (`https://viewer.example#shlink:/...`).
  let at = 0;
  if (!trimmed.startsWith(SHLINK_PREFIX)) {
    const hash = trimmed.indexOf(`#${SHLINK_PREFIX}`);
    if (hash < 0) throw invalidLink('no shlink:/ payload found');
    at = hash + 1;
  }
  const encoded = trimmed.slice(at + SHLINK_PREFIX.length);
  if (encoded.length === 0 || encoded.length > PAYLOAD_MAX || !BASE64URL.test(encoded)) throw invalidLink('the payload is not base64url');
  return Buffer.from(encoded, 'base64url').toString('utf8');
}

function manifestUrl(value: unknown, policy: LinkPolicy): string {
  if (typeof value !== 'string') throw invalidLink('url is missing');
  if (value.length > URL_MAX) throw invalidLink(`url is longer than ${URL_MAX} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidLink('url is not an absolute URL');
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const trusted = url.protocol === 'http:' && allowlisted(url.hostname.replace(/^\[(.*)\]$/, '$1'), port, policy.allowlist);
  if (url.protocol !== 'https:' && !trusted) {
    throw new DomainError('ERR_SHL_INSECURE_URL', `The SMART Health Link's url must use https (host ${url.host})`, { expression: ['shlink'] });
  }
  return value;
}

/** Parses a bare `shlink:/…` or a viewer URL ending in `#shlink:/…`. Throws ERR_SHL_* for anything invalid. */
export function parseShlink(text: string, policy: LinkPolicy): ShLink {
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText(text));
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw invalidLink('the payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalidLink('the payload is not a JSON object');
  const p = payload as Record<string, unknown>;

  const v = p.v ?? 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidLink('v is not a positive integer');
  if (v > 1) {
    throw new DomainError('ERR_SHL_VERSION', `SMART Health Link version ${v} is newer than this gateway supports (1)`, { expression: ['shlink'] });
  }
  const flag = p.flag ?? '';
  if (typeof flag !== 'string') throw invalidLink('flag is not a string');
  if (flag.includes('U') && flag.includes('P')) throw invalidLink('flag U cannot be combined with P');
  if (typeof p.key !== 'string' || !KEY.test(p.key) || Buffer.from(p.key, 'base64url').length !== 32) {
    throw invalidLink('key is not 32 bytes of base64url');
  }
  if (p.exp !== undefined && (typeof p.exp !== 'number' || !Number.isFinite(p.exp))) throw invalidLink('exp is not a number');
  if (p.label !== undefined && (typeof p.label !== 'string' || p.label.length > LABEL_MAX)) {
    throw invalidLink(`label is not a string of at most ${LABEL_MAX} characters`);
  }
  return {
    url: manifestUrl(p.url, policy),
    key: p.key,
    flag,
    v,
    ...(p.exp !== undefined ? { exp: p.exp as number } : {}),
    ...(p.label !== undefined ? { label: p.label as string } : {}),
  };
}

/** Refuses a link whose `exp` has passed (ERR_SHL_EXPIRED), so no request is made for a stale link. */
export function assertNotExpired(link: ShLink, nowMs: number): void {
  if (link.exp !== undefined && link.exp * 1000 <= nowMs) throw new DomainError('ERR_SHL_EXPIRED', 'The SMART Health Link has expired', { expression: ['shlink'] });
}

export interface LinkFields {
  url: string;
  key: string;
  exp?: number;
  /** Any order; the link carries the letters sorted, as the spec asks. */
  flag?: string;
  label?: string;
}

/** `shlink:/…` for the fields, or `<viewerUrl>#shlink:/…` when a viewer is given. */
export function buildShlink(fields: LinkFields, viewerUrl?: string): string {
  const flag = [...new Set(fields.flag ?? '')].sort().join('');
  const payload = {
    url: fields.url,
    ...(flag ? { flag } : {}),
    key: fields.key,
    ...(fields.exp !== undefined ? { exp: fields.exp } : {}),
    ...(fields.label !== undefined ? { label: fields.label } : {}),
  };
  const link = `${SHLINK_PREFIX}${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  return viewerUrl ? `${viewerUrl.replace(/#.*$/, '')}#${link}` : link;
}
