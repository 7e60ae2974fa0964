import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IdentityProviderConfig } from '../../src/config.js';
import { assessAssurance } from '../../src/identity/assurance.js';
import { grantScopes } from '../../src/identity/scopes.js';

const policy: IdentityProviderConfig['assurance'] = {
  ial2: { acr: ['urn:acr.login.gov:verified-facial-match-required'], verifiedClaims: [{ trustFramework: 'nist_800_63A', assuranceLevel: 'ial2' }] },
  aal2: { acr: ['http://idmanagement.gov/ns/assurance/aal/2'], amr: [['mfa'], ['pwd', 'otp']] },
};
const NOW = 1_800_000_000;

describe('assessAssurance', () => {
  test('acr proves IAL2 and a complete amr set proves AAL2', () => {
    const a = assessAssurance({ acr: 'urn:acr.login.gov:verified-facial-match-required', amr: ['otp', 'pwd'] }, policy, NOW);
    assert.equal(a.ial, 2);
    assert.equal(a.aal, 2);
    assert.deepEqual(a.evidence, { acr: 'urn:acr.login.gov:verified-facial-match-required', amr: ['otp', 'pwd'] });
  });

  test('an incomplete amr set, an unknown acr or pwd alone stay at level 1', () => {
    assert.equal(assessAssurance({ acr: 'urn:acr.login.gov:verified', amr: ['pwd'] }, policy, NOW).ial, 1);
    assert.equal(assessAssurance({ amr: ['pwd'] }, policy, NOW).aal, 1);
    assert.equal(assessAssurance({ amr: 'mfa' }, policy, NOW).aal, 1);
  });

  test('verified_claims prove IAL2 in the current, combined (old draft) and higher-level forms; evidence is recorded', () => {
    const forms = [
      { trust_framework: 'nist_800_63A', assurance_level: 'ial2', time: '2024-05-01T10:00:00Z' },
      { trust_framework: 'nist_800_63A_ial_2' },
      { trust_framework: 'nist_800_63A', assurance_level: 'ial3' },
    ];
    for (const verification of forms) {
      const a = assessAssurance({ verified_claims: { verification, claims: {} }, amr: ['mfa'] }, policy, NOW);
      assert.equal(a.ial, 2, JSON.stringify(verification));
      assert.equal(a.evidence.trustFramework, verification.trust_framework);
    }
    const withTime = assessAssurance({ verified_claims: [{ verification: forms[0], claims: { given_name: 'x' } }] }, policy, NOW);
    assert.equal(withTime.evidence.verificationTime, '2024-05-01T10:00:00Z');
    assert.deepEqual(withTime.proofed?.claims, { given_name: 'x' });
  });

  test('a lower level, another framework or a missing trust_framework does not prove IAL2', () => {
    for (const verification of [
      { trust_framework: 'nist_800_63A', assurance_level: 'ial1' },
      { trust_framework: 'nist_800_63A_ial_1' },
      { trust_framework: 'eidas', assurance_level: 'ial2' },
      { assurance_level: 'ial2' },
    ]) {
      assert.equal(assessAssurance({ verified_claims: { verification } }, policy, NOW).ial, 1, JSON.stringify(verification));
    }
  });

  test('an authentication older than the 12 h AAL2 window drops AAL to 1', () => {
    assert.equal(assessAssurance({ amr: ['mfa'], auth_time: NOW - 3600 }, policy, NOW).aal, 2);
    assert.equal(assessAssurance({ amr: ['mfa'], auth_time: NOW - 13 * 3600 }, policy, NOW).aal, 1);
  });
});

describe('grantScopes', () => {
  const registered = ['system/checkin.write', 'system/checkin.read', 'system/Patient.rs'];
  test('grants the requested scopes the registration covers, as asked', () => {
    assert.deepEqual(grantScopes(['system/checkin.write', 'system/Patient.read', 'system/Encounter.rs'], registered), ['system/checkin.write', 'system/Patient.read']);
  });
  test('a wildcard request yields the registered scopes within it; nothing in common yields nothing', () => {
    assert.deepEqual(grantScopes(['system/*.rs'], registered), ['system/checkin.read', 'system/Patient.rs']);
    assert.deepEqual(grantScopes(['system/Observation.rs', 'openid'], registered), []);
  });
});
