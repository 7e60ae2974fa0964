import type { Encounter } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.js';
import type { Services } from '../services.js';
import { Agreements } from '../sharing/agreements.js';
import { recordResourceChange, type ResourceChange } from './outbox.js';
import { wakeUp } from './wakeup.js';

/**
 * What the modules that change Encounters and Appointments (check-in, the EHR API) call, inside
 * their own transaction, so the events commit with the data; and after it, to nudge delivery.
 */
export interface Notifier {
  /** Records the events a change causes; returns how many outbox rows it wrote. */
  recordChange(tx: Queryable, change: ResourceChange): Promise<number>;
  /** The check-in hook: a checked-in patient's new Encounter fires encounter-start. */
  onEncounterStart(tx: Queryable, e: { organization: string; encounter: Encounter; occurredAt: Date }): Promise<void>;
  /** After the transaction committed events: this process's worker delivers them now rather than at its next poll. */
  committed(events: number): void;
}

export function createNotifier(s: Pick<Services, 'config' | 'db'>): Notifier {
  const agreements = new Agreements(s.config.trust.dataSharing);
  const recordChange = (tx: Queryable, change: ResourceChange) => recordResourceChange(tx, agreements, change);
  return {
    recordChange,
    async onEncounterStart(tx, e) {
      if (!e.encounter.id) throw new Error('onEncounterStart needs a stored Encounter (with an id)');
      await recordChange(tx, { organization: e.organization, resource: e.encounter as Encounter & { id: string }, occurredAt: e.occurredAt });
    },
    committed(events) {
      if (events > 0) wakeUp(s.db);
    },
  };
}
