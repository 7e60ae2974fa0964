import type { Bundle } from '@medplum/fhirtypes';
import { unprocessable } from '../fhir/outcome.js';
import type { ReceivedContent } from './received.js';
import type { CheckinPayload } from './submission.js';

/** Turns a check-in payload into FHIR content: fetch and decrypt an SHL, verify SHCs, or take a Bundle. */
export type PayloadResolver = (payload: CheckinPayload) => Promise<ReceivedContent>;

const ACCEPTED_BUNDLE_TYPES = new Set(['collection', 'document']);

export function fromPlainBundle(bundle: Bundle): ReceivedContent {
  if (!ACCEPTED_BUNDLE_TYPES.has(bundle.type ?? '')) {
    throw unprocessable('A check-in Bundle must be of type collection or document', ['Bundle.type']);
  }
  return { method: 'bundle', bundles: [{ bundle, profileSet: 'fhir' }], verified: false };
}

export function createPayloadResolver(): PayloadResolver {
  return async (payload) => {
    switch (payload.kind) {
      case 'bundle':
        return fromPlainBundle(payload.bundle);
      default:
        throw unprocessable(`${payload.kind} check-in is not wired yet`);
    }
  };
}
