import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { DomainError } from '../../src/errors.js';
import { httpErrorOf } from '../../src/http/errors.js';
import { dcApiRequest } from '../../src/identity/mdl/request.js';
import { loadTrustAnchors, type TrustAnchor } from '../../src/identity/mdl/trust-anchors.js';
import { verifyDeviceResponse } from '../../src/identity/mdl/verify-presentation.js';
import { ALICE, issueMdl, makeIaca, present, type TestMdl } from '../identity/mdl-wallet.js';

/** Validity edges on the gateway's injected clock, where the library's own checks use the system clock. */
const ORIGIN = 'https://gateway.example';
const DAY = 24 * 3600_000;

describe('mDL validity edges on the injected clock', () => {
  // Whole seconds: the MSO's tdates carry no milliseconds.
  const start = Math.floor(Date.now() / 1000) * 1000;
  const clock = new ManualClock(start);
  const request = dcApiRequest('v-'.padEnd(43, 'x'));
  const from = start - DAY;
  const until = start + 2 * DAY;
  const verifyWith = async (mdl: TestMdl, anchors: TrustAnchor[]) =>
    verifyDeviceResponse(await present(mdl, request, ORIGIN), { origin: ORIGIN, nonce: request.data.nonce, anchors, clock });
  const refused = (p: Promise<unknown>, why: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === 'ERR_MDL_PRESENTATION' && httpErrorOf(e).status === 401 && why.test(e.message));
  let anchors: TrustAnchor[];
  let mdl: TestMdl;
  let shortDsAnchors: TrustAnchor[];
  let shortDsMdl: TestMdl;

  before(async () => {
    const iaca = await makeIaca('Edge DMV', start);
    anchors = await loadTrustAnchors({ trustAnchors: [iaca.pem], ial: 2, aal: 2 } as never);
    mdl = await issueMdl(iaca, ALICE, { from: new Date(from), until: new Date(until) });
    // makeIaca's document signer is valid 365 days from `now`: here it ends one day after start, before the MSO does.
    const early = await makeIaca('Short DS DMV', start - 364 * DAY);
    shortDsAnchors = await loadTrustAnchors({ trustAnchors: [early.pem], ial: 2, aal: 2 } as never);
    shortDsMdl = await issueMdl(early, ALICE, { from: new Date(from), until: new Date(until) });
  });

  test('the MSO window is inclusive at both ends and nothing beyond', async () => {
    for (const [at, ok] of [
      [from - 1000, false],
      [from, true],
      [until, true],
      [until + 1, false],
    ] as const) {
      clock.set(at);
      if (ok) assert.equal((await verifyWith(mdl, anchors)).claims.familyName, ALICE.family_name);
      else await refused(verifyWith(mdl, anchors), /licence data is not valid now/);
    }
  });

  test('a document signer certificate that has ended on the gateway clock is refused though the MSO is still valid', async () => {
    clock.set(start);
    assert.equal((await verifyWith(shortDsMdl, shortDsAnchors)).claims.familyName, ALICE.family_name);
    clock.set(start + DAY + 1000);
    await refused(verifyWith(shortDsMdl, shortDsAnchors), /document signer certificate is not valid now/);
  });
});
