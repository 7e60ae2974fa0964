import type { CodeableConcept, Coding, Consent } from '@medplum/fhirtypes';
import { HttpError, badRequest, issue, outcome } from '../fhir/outcome.js';
import type { FhirValidator } from '../fhir/validator.js';
import { ACT_REASON_SYSTEM, PATIENT_REQUEST } from '../identity/purpose-of-use.js';

/** How a Consent names its recipient: the organization as configured for its clients. */
export const ORGANIZATION_SYSTEM = 'urn:ktc-gateway:organization';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

const has = (codings: (Coding | undefined)[] | undefined, system: string, code: string) => (codings ?? []).some((c) => c?.system === system && c?.code === code);
const codingsOf = (concepts: CodeableConcept[] | undefined) => (concepts ?? []).flatMap((c) => c?.coding ?? []);

/**
 * A patient's permission for one organization to receive their encounter notifications (purpose
 * PATRQT) from every organization on the gateway: the Consent shape of API.md, checked strictly
 * so that what is stored means exactly that. Returns the recipient organization.
 */
export function parseConsentRequest(body: unknown, fhir: FhirValidator, knownOrganizations: ReadonlySet<string>): { consent: Consent; recipient: string } {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'Consent') throw badRequest('The body must be a FHIR Consent resource');
  const consent = body as Consent;
  fhir.validate(consent);
  const issues = [];
  if (consent.status !== 'active') issues.push(issue('value', 'A new Consent has status active', ['Consent.status']));
  if (!has(consent.scope?.coding, 'http://terminology.hl7.org/CodeSystem/consentscope', 'patient-privacy')) {
    issues.push(issue('value', 'scope must be consentscope#patient-privacy', ['Consent.scope']));
  }
  if (!has(codingsOf(consent.category), 'http://loinc.org', '59284-0')) issues.push(issue('value', 'category must include LOINC 59284-0 (Patient Consent)', ['Consent.category']));
  const provision = consent.provision;
  if (provision?.type !== 'permit') issues.push(issue('value', 'provision.type must be permit', ['Consent.provision.type']));
  if (!has(provision?.purpose, ACT_REASON_SYSTEM, PATIENT_REQUEST))
    issues.push(issue('value', `provision.purpose must include ${ACT_REASON_SYSTEM}#${PATIENT_REQUEST}`, ['Consent.provision.purpose']));
  if (provision?.provision?.length) issues.push(issue('not-supported', 'Nested provisions are not supported', ['Consent.provision.provision']));
  const actors = provision?.actor ?? [];
  const recipients = actors.filter((a) => has(a.role?.coding, PARTICIPATION_TYPE, 'IRCP'));
  const id = recipients[0]?.reference?.identifier;
  if (actors.length !== 1 || recipients.length !== 1 || id?.system !== ORGANIZATION_SYSTEM || !id.value) {
    issues.push(issue('value', `provision.actor must be one information recipient (IRCP) named by identifier ${ORGANIZATION_SYSTEM}|<organization>`, ['Consent.provision.actor']));
  } else if (!knownOrganizations.has(id.value)) {
    issues.push(issue('not-found', 'The recipient is not an organization registered at this gateway', ['Consent.provision.actor.reference.identifier']));
  }
  if (issues.length) throw new HttpError(422, outcome(issues));
  return { consent, recipient: id?.value as string };
}
