import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { SignatureCheck } from '../shc/card-work.js';

/** The resources a check-in payload yielded, and where they came from. */
export interface ReceivedContent {
  method: 'shlink' | 'shc' | 'bundle';
  /** One entry per Bundle received (an SHL can carry several files; a wallet several cards). */
  bundles: ReceivedBundle[];
  /** SHC issuer(s) or SHL host; undefined for a plain Bundle. */
  source?: string;
  /**
   * True only when every card is from a trusted issuer, so has a signature to check against its key
   * (plain FHIR is never verified). Holds only once `signatures` pass: until then nothing is stored.
   */
  verified: boolean;
  /**
   * The cards' signatures, not yet checked: the check-in checks them on a worker thread with the
   * validation, once the Patient is bound to the identity, and stores nothing unless they pass.
   */
  signatures: SignatureCheck[];
}

export interface ReceivedBundle {
  bundle: Bundle;
  /**
   * Where the content came from: card content (minimal by design) or any other FHIR Bundle. Either
   * way resources are held to the base spec, the profiles they claim and what check-in needs
   * (src/checkin/validate.ts); an IPS document's entries also to IPS.
   */
  profileSet: 'shc' | 'fhir';
}

export interface ReceivedEntry {
  bundleIndex: number;
  profileSet: ReceivedBundle['profileSet'];
  entryIndex: number;
  fullUrl: string | undefined;
  resource: Resource;
}

export function entriesOf(content: ReceivedContent): ReceivedEntry[] {
  return content.bundles.flatMap(({ bundle, profileSet }, bundleIndex) =>
    (bundle.entry ?? []).flatMap((e, entryIndex) => (e.resource ? [{ bundleIndex, profileSet, entryIndex, fullUrl: e.fullUrl, resource: e.resource }] : [])),
  );
}
