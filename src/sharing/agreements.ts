import type { DataSharingAgreement } from '../config.js';
import type { Queryable } from '../db/db.js';
import { PATIENT_REQUEST, type PurposeOfUse } from '../identity/purpose-of-use.js';
import { hasActiveConsentFor } from '../consent/consent-store.js';

/**
 * The configured data-sharing agreements, asked one way: which of the recipient's purposes does
 * the source organization grant it. Within one organization nothing needs granting.
 */
export class Agreements {
  /** Purposes by [from, to]. */
  private readonly granted = new Map<string, Set<PurposeOfUse>>();
  /** Purposes any organization grants, by recipient. */
  private readonly toRecipient = new Map<string, Set<PurposeOfUse>>();

  constructor(agreements: readonly DataSharingAgreement[]) {
    const add = (map: Map<string, Set<PurposeOfUse>>, key: string, purposes: readonly PurposeOfUse[]) => {
      const set = map.get(key) ?? new Set<PurposeOfUse>();
      for (const p of purposes) set.add(p);
      map.set(key, set);
    };
    for (const a of agreements) {
      add(this.granted, JSON.stringify([a.from, a.to]), a.purposes);
      add(this.toRecipient, a.to, a.purposes);
    }
  }

  /** The first of `purposes` that `from` grants `to` by agreement, if any. */
  grant(from: string, to: string, purposes: readonly PurposeOfUse[]): PurposeOfUse | undefined {
    const set = this.granted.get(JSON.stringify([from, to]));
    return set ? purposes.find((p) => set.has(p)) : undefined;
  }

  /** True when some organization grants `to` this purpose. */
  anyGrants(to: string, purpose: PurposeOfUse): boolean {
    return this.toRecipient.get(to)?.has(purpose) ?? false;
  }
}

/**
 * The purposes a client's token may carry: those some agreement grants its organization, and
 * PATRQT while some patient's active Consent names it.
 */
export async function grantablePurposes(q: Queryable, agreements: Agreements, organization: string, requested: readonly PurposeOfUse[]): Promise<PurposeOfUse[]> {
  const out: PurposeOfUse[] = [];
  for (const p of requested) {
    if (p === PATIENT_REQUEST ? await hasActiveConsentFor(q, organization) : agreements.anyGrants(organization, p)) out.push(p);
  }
  return out;
}
