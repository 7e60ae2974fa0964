import { DomainError } from '../errors.js';
import { openCards } from '../shc/card-work.js';
import type { ShcWork } from '../shc/verify.js';
import type { CpuPool } from './pool.js';

/**
 * What opening cards may come to before it goes to a worker thread. A round trip to a thread costs
 * the event loop about 0.3 ms on a loaded two-core machine; opening a wallet's card (a few kB
 * inflated) costs 0.05 ms, so that runs inline. Anything bigger, a card inflating past this, a long
 * JWS or many cards, still goes to the pool. Signatures are checked there in every case, with the
 * validation of the cards' content (tasks.ts 'checkin.validate').
 */
export const INLINE_INFLATED_BYTES = 16 * 1024;
export const INLINE_CARDS = 2;
/** A card in one QR code is at most 1,195 characters; bytes after its DEFLATE stream would cost the event loop too. */
export const INLINE_JWS_CHARS = 8 * 1024;

const small = (jwsList: readonly string[]) => jwsList.length <= INLINE_CARDS && jwsList.reduce((n, jws) => n + jws.length, 0) <= INLINE_JWS_CHARS;

/** Opening SMART Health Cards on the worker pool, except inputs small enough that the round trip would cost more. */
export function pooledShcWork(cpu: CpuPool): ShcWork {
  return {
    async open(jwsList, maxInflatedBytes) {
      if (small(jwsList)) {
        const allowance = Math.min(maxInflatedBytes, INLINE_INFLATED_BYTES);
        try {
          return openCards(jwsList, allowance);
        } catch (e) {
          // Past the inline allowance is not past the real one: a thread opens it with the full allowance.
          if (allowance === maxInflatedBytes || !(e instanceof DomainError && e.code === 'ERR_SHC_INFLATE_LIMIT')) throw e;
        }
      }
      return cpu.run('shc.open', { jwsList, maxInflatedBytes });
    },
  };
}
