// Placeholder replaced by the identity work (issue 4): until then every patient token is refused.
import { unauthorized } from '../fhir/outcome.js';
import type { VerifiedIdentity } from './types.js';
import type { AuthenticatorDeps } from './authenticator.js';

export function createPatientVerifier(_d: AuthenticatorDeps): { verify(token: string): Promise<VerifiedIdentity> } {
  return {
    verify: async () => {
      throw unauthorized('Patient identity tokens are not accepted yet');
    },
  };
}
