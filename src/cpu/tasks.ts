import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { ReceivedContent } from '../checkin/received.js';
import { validateCheckin, type EntryRef } from '../checkin/validate.js';
import { DomainError } from '../errors.js';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { budgeted } from '../limits/bounds.js';
import { checkSignatures, openCards, type OpenedCard } from '../shc/card-work.js';
import { decryptFile, type DecryptedFile } from '../shl/jwe.js';
import { validateVisitBundle } from '../visits/validate-visit.js';
import { threadValidator } from './thread-validator.js';

/**
 * The CPU-heavy work that runs off the event loop, by name. Inputs and outputs are plain data
 * (structured-clonable); errors come back as their HTTP answer (envelope.ts). The validation
 * functions are the ones routes used to call directly: what they check is theirs to change.
 */

export interface Tasks {
  /** Loads this thread's definitions before a patient waits for them. */
  warm: (i: Record<string, never>) => void;
  /**
   * The cards' signatures, then the content: refuses (ERR_SHC_SIGNATURE, ERR_FHIR_INVALID) on a
   * forgery or any error; otherwise the warnings to return and the entries not to store.
   */
  'checkin.validate': (i: { content: ReceivedContent; budgetMs: number }) => { warnings: OperationOutcomeIssue[]; dropped: EntryRef[] };
  'visit.validate': (i: { bundle: Bundle; patientId: string; budgetMs: number }) => void;
  'fhir.validate': (i: { resource: Resource; budgetMs: number }) => void;
  'shl.decrypt': (i: { jwe: string; key: Uint8Array; maxBytes: number }) => Promise<DecryptedFile>;
  /** SMART Health Cards: header, capped inflate and payload of every card of one input. */
  'shc.open': (i: { jwsList: string[]; maxInflatedBytes: number }) => OpenedCard[];
}

export type TaskName = keyof Tasks;
export type TaskInput<K extends TaskName> = Parameters<Tasks[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<Tasks[K]>>;

export const tasks: Tasks = {
  warm: () => void threadValidator(),
  'checkin.validate': ({ content, budgetMs }) => {
    checkSignatures(content.signatures);
    const { errors, warnings, dropped } = validateCheckin(content, budgeted(threadValidator(), budgetMs));
    if (errors.length) throw new DomainError('ERR_FHIR_INVALID', 'The check-in content is not valid', { issues: errors });
    return { warnings, dropped };
  },
  'visit.validate': ({ bundle, patientId, budgetMs }) => validateVisitBundle(bundle, patientId, budgeted(threadValidator(), budgetMs)),
  'fhir.validate': ({ resource, budgetMs }) => budgeted(threadValidator(), budgetMs).validate(resource),
  'shl.decrypt': ({ jwe, key, maxBytes }) => decryptFile(jwe, key, maxBytes),
  'shc.open': ({ jwsList, maxInflatedBytes }) => openCards(jwsList, maxInflatedBytes),
};
