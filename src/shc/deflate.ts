import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DomainError } from '../errors.js';

/** Default ceiling on an inflated card payload; real cards are a few kB, so 1 MB only stops bombs. */
export const DEFAULT_MAX_INFLATED_BYTES = 1024 * 1024;

/**
 * Inflates a card payload as raw DEFLATE (RFC 1951). zlib or gzip framing is an error, as the
 * spec and its validator require; inflation stops at `maxBytes` (413), so a small bomb costs
 * at most that much memory.
 */
export function inflateCardPayload(data: Uint8Array, maxBytes: number = DEFAULT_MAX_INFLATED_BYTES): Buffer {
  try {
    return inflateRawSync(data, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DomainError('ERR_SHC_INFLATE_LIMIT', `The SMART Health Card payload inflates to more than ${maxBytes} bytes`);
    }
    throw new DomainError('ERR_SHC_DEFLATE', 'The SMART Health Card payload is not raw DEFLATE data');
  }
}

export function deflateCardPayload(data: Uint8Array): Buffer {
  return deflateRawSync(data, { level: 9 });
}
