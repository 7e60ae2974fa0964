import { inflateRawSync } from 'node:zlib';

/**
 * Inflates raw DEFLATE (RFC 1951: zlib or gzip framing is an error), stopping at `maxBytes`, so a
 * small bomb costs at most that much memory. The caller names its two refusals.
 */
export function inflateRawWithin(data: Uint8Array, maxBytes: number, refuse: { tooLarge: () => Error; notDeflate: () => Error }): Buffer {
  try {
    return inflateRawSync(data, { maxOutputLength: maxBytes });
  } catch (e) {
    // zlib marks the cap with its own code; any other failure is the data's.
    throw (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? refuse.tooLarge() : refuse.notDeflate();
  }
}
