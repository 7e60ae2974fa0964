import { deflateRawSync } from 'node:zlib';
import { DomainError } from '../errors.js';
import { inflateRawWithin } from '../inflate.js';

/** Default ceiling on an inflated card payload; real cards are a few kB, so 1 MB only stops bombs. */
export const DEFAULT_MAX_INFLATED_BYTES = 1024 * 1024;

/** Inflates a card payload as raw DEFLATE, as the spec and its validator require; beyond `maxBytes` it is 413. */
export function inflateCardPayload(data: Uint8Array, maxBytes: number = DEFAULT_MAX_INFLATED_BYTES): Buffer {
  return inflateRawWithin(data, maxBytes, {
    tooLarge: () => new DomainError('ERR_SHC_INFLATE_LIMIT', `The SMART Health Card payload inflates to more than ${maxBytes} bytes`),
    notDeflate: () => new DomainError('ERR_SHC_DEFLATE', 'The SMART Health Card payload is not raw DEFLATE data'),
  });
}

export function deflateCardPayload(data: Uint8Array): Buffer {
  return deflateRawSync(data, { level: 9 });
}
