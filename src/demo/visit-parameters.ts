import type { Bundle, Parameters } from '@medplum/fhirtypes';

/**
 * What the demo EHR posts to /checkin/{id}/visit-summary: the visit document with the option
 * that puts the plain-language summary into the patient's link (the signed card always is).
 * Shared by the walk and the EHR page, so both send the same request.
 */
export function visitSummaryParameters(document: Bundle): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'bundle', resource: document },
      { name: 'plainLanguageSummary', valueBoolean: true },
    ],
  };
}
