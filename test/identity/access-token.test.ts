import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import type { Db } from '../../src/db/db.js';
import { openPglite } from '../../src/db/pglite.js';
import { DomainError } from '../../src/errors.js';
import { ACCESS_TOKEN_TTL_SECONDS, accessTokens } from '../../src/identity/access-token.js';
import { KeyStore } from '../../src/keys/keystore.js';

/** A client's token is verified once and then known until it expires; nothing else about it changes. */

const ISSUER = 'https://gateway.example';
const KIOSK = { clientId: 'kiosk-1', organization: 'Clinic A', scopes: ['system/checkin.write'] };

describe('gateway access tokens', () => {
  let db: Db;
  let keys: KeyStore;
  before(async () => {
    db = await openPglite('memory:');
    keys = new KeyStore(db, undefined);
    await keys.init();
  });
  after(() => db.close());

  const refusal = (e: unknown) => e instanceof DomainError && e.code === 'ERR_ACCESS_TOKEN' && e.message;

  test('a token verified once is accepted until it expires, with the same clock tolerance as its first check', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 9));
    const tokens = accessTokens(keys, ISSUER, clock);
    const { token } = await tokens.issue(KIOSK);
    const first = await tokens.verify(token);
    assert.deepEqual(first, KIOSK);
    assert.equal(await tokens.verify(token), first, 'the second check is the first one remembered');
    clock.advance((ACCESS_TOKEN_TTL_SECONDS + 4) * 1000);
    assert.deepEqual(await tokens.verify(token), KIOSK, 'within the 5 s tolerance');
    clock.advance(2000);
    const e = await tokens.verify(token).catch(refusal);
    assert.equal(e, 'The access token has expired; request a new one');
    // A fresh verifier agrees: what is remembered is what the signature check would say.
    assert.equal(await accessTokens(keys, ISSUER, clock).verify(token).catch(refusal), e);
  });

  test('another text is another token: a forged signature is refused even after the genuine one was accepted', async () => {
    const tokens = accessTokens(keys, ISSUER, new ManualClock(Date.UTC(2026, 10, 30, 9)));
    const { token } = await tokens.issue(KIOSK);
    await tokens.verify(token);
    const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assert.equal(await tokens.verify(forged).catch(refusal), 'The access token is not valid');
    const [h, , sig] = token.split('.');
    const otherClaims = Buffer.from(JSON.stringify({ ...KIOSK, org: 'Clinic B', iss: ISSUER, aud: ISSUER, sub: 'kiosk-1', scope: 'system/checkin.write' })).toString('base64url');
    assert.equal(await tokens.verify(`${h}.${otherClaims}.${sig}`).catch(refusal), 'The access token is not valid');
  });

  test('the principal handed out is frozen, so no request can change what the next one sees', async () => {
    const tokens = accessTokens(keys, ISSUER, new ManualClock(Date.UTC(2026, 10, 30, 9)));
    const principal = await tokens.verify((await tokens.issue(KIOSK)).token);
    assert.throws(() => (principal.scopes as string[]).push('system/*.write'), TypeError);
    assert.throws(() => Object.assign(principal, { organization: 'Clinic B' }), TypeError);
  });
});
