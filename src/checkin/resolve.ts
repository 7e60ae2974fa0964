import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Clock } from '../clock.js';
import type { CpuPool } from '../cpu/pool.js';
import { unprocessable } from '../fhir/outcome.js';
import type { GuardedFetch } from '../net/types.js';
import type { SignatureCheck } from '../shc/card-work.js';
import type { VerifiedCard } from '../shc/types.js';
import type { ShcVerifier } from '../shc/verify.js';
import { parseShlink } from '../shl/link.js';
import type { ShlMetrics } from '../shl/metrics.js';
import { SHC_TYPE, retrieveShl } from '../shl/receiver.js';
import type { ReceivedBundle, ReceivedContent } from './received.js';
import type { CheckinPayload } from './submission.js';

/** Turns a check-in payload into FHIR content: fetch and decrypt an SHL, open SHCs (their signatures checked with validation), or take a Bundle. */
export type PayloadResolver = (payload: CheckinPayload, ctx: { organization: string }) => Promise<ReceivedContent>;

export interface ResolverDeps {
  shc: ShcVerifier;
  /** SHL files are decrypted and inflated there. */
  cpu: CpuPool;
  /** Inflated size of one SHL file and of all of them together (no more than the body limit). */
  maxPlaintextBytes: number;
  fetch: GuardedFetch;
  clock: Clock;
  allowlist: readonly string[];
  metrics: ShlMetrics;
}

const ACCEPTED_BUNDLE_TYPES = new Set(['collection', 'document']);

function acceptedBundle(bundle: Bundle, where: string): Bundle {
  if (!ACCEPTED_BUNDLE_TYPES.has(bundle.type ?? '')) {
    throw unprocessable('A check-in Bundle must be of type collection or document', [`${where}Bundle.type`]);
  }
  return bundle;
}

function fromCards(cards: VerifiedCard[]): ReceivedBundle[] {
  return cards.map((c) => ({ bundle: c.bundle, profileSet: 'shc' }));
}

/** Several issuers (or hosts) are recorded as one space-separated source. */
function sourceOf(values: string[]): string | undefined {
  const unique = [...new Set(values)];
  return unique.length ? unique.join(' ') : undefined;
}

/** A FHIR file may hold a Bundle or a single resource (then wrapped, so every path yields Bundles). */
function asBundle(resource: Resource, index: number): Bundle {
  if (resource.resourceType === 'Bundle') return acceptedBundle(resource, `(file ${index}) `);
  return { resourceType: 'Bundle', type: 'collection', entry: [{ resource }] };
}

export function createPayloadResolver(d: ResolverDeps): PayloadResolver {
  return async (payload, ctx) => {
    switch (payload.kind) {
      case 'bundle':
        return { method: 'bundle', bundles: [{ bundle: acceptedBundle(payload.bundle, ''), profileSet: 'fhir' }], verified: false, signatures: [] };
      case 'shc': {
        const { cards, signatures } = await d.shc.openInput(payload.shc);
        return { method: 'shc', bundles: fromCards(cards), source: sourceOf(cards.map((c) => c.issuer)), verified: cards.every((c) => c.verified), signatures };
      }
      case 'shlink': {
        const link = parseShlink(payload.shlink, { allowlist: d.allowlist });
        const retrieval = await retrieveShl(
          link,
          { recipient: `${ctx.organization} check-in (ktc-gateway)`, ...(payload.passcode ? { passcode: payload.passcode } : {}) },
          {
            fetch: d.fetch,
            clock: d.clock,
            metrics: d.metrics,
            limits: { plaintextMaxBytes: d.maxPlaintextBytes },
            decrypt: (jwe, key, maxBytes = d.maxPlaintextBytes) => d.cpu.run('shl.decrypt', { jwe, key, maxBytes }),
          },
        );
        const cards: VerifiedCard[] = [];
        const signatures: SignatureCheck[] = [];
        const bundles: ReceivedBundle[] = [];
        for (const [i, file] of retrieval.files.entries()) {
          if (file.contentType === SHC_TYPE) {
            const opened = await d.shc.openInput({ verifiableCredential: file.verifiableCredential });
            cards.push(...opened.cards);
            signatures.push(...opened.signatures);
            bundles.push(...fromCards(opened.cards));
          } else {
            bundles.push({ bundle: asBundle(file.resource, i), profileSet: 'fhir' });
          }
        }
        if (bundles.length === 0) throw unprocessable('The SMART Health Link holds no SMART Health Card or FHIR file', ['shlink']);
        // A fhir+json file is only as trustworthy as its host; only signed cards count as verified.
        const verified = cards.length === bundles.length && cards.every((c) => c.verified);
        return { method: 'shlink', bundles, source: sourceOf([retrieval.host, ...cards.map((c) => c.issuer)]), verified, signatures };
      }
    }
  };
}
