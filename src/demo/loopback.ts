import { isIP } from 'node:net';
import { isForbiddenAddress } from '../net/address-policy.js';

/** The demo trusts keys it made up and hands out tokens to anyone who asks: it must never be reachable from elsewhere. */
export class NotLoopbackError extends Error {}

/**
 * The address the demo listens on for a PUBLIC_BASE_URL, which must name this machine only:
 * `localhost`, 127.0.0.0/8 or [::1]. Anything else is refused before a port is opened.
 */
export function loopbackListenHost(publicBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicBaseUrl);
  } catch {
    throw new NotLoopbackError(`PUBLIC_BASE_URL ${publicBaseUrl} is not a URL`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NotLoopbackError(`PUBLIC_BASE_URL must be an http(s) URL, not ${url.protocol}`);
  if (host === 'localhost') return '127.0.0.1';
  if (isIP(host) && isForbiddenAddress(host) === 'loopback') return host;
  throw new NotLoopbackError(`the demo runs on loopback only, and PUBLIC_BASE_URL ${url.origin} is not a loopback URL (use http://localhost:<port> or http://127.0.0.1:<port>)`);
}
