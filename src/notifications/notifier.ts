import type { Encounter, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.js';
import type { Services } from '../services.js';
import { Agreements } from '../sharing/agreements.js';
import { patientKeys } from './event-subject.js';
import { recordResourceChange, type ResourceChange } from './outbox.js';
import { wakeUp } from './wakeup.js';

/** The Patient a check-in has just stored, with the verified identity it is bound to. */
export interface CheckedInPatient {
  resource: Patient & { id: string };
  issuer: string;
  subject: string;
}

/**
 * What the modules that change Encounters and Appointments (check-in, the EHR API) call, inside
 * their own transaction, so the events commit with the data; and after it, to nudge delivery.
 */
export interface Notifier {
  /** Records the events a change causes; returns how many outbox rows it wrote. */
  recordChange(tx: Queryable, change: ResourceChange): Promise<number>;
  /** The check-in hook: a checked-in patient's new Encounter fires encounter-start. */
  onEncounterStart(tx: Queryable, e: { organization: string; encounter: Encounter; occurredAt: Date; patient?: CheckedInPatient }): Promise<void>;
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
      // The check-in just stored the Patient: handed over, not read back.
      const patient = e.patient && {
        id: e.patient.resource.id,
        resource: e.patient.resource,
        issuer: e.patient.issuer,
        subject: e.patient.subject,
        keys: patientKeys(e.patient.resource, e.patient.issuer, e.patient.subject),
      };
      await recordChange(tx, { organization: e.organization, resource: e.encounter as Encounter & { id: string }, occurredAt: e.occurredAt, patient });
    },
    committed(events) {
      if (events > 0) wakeUp(s.db);
    },
  };
}
