const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

/** A syntactically valid FHIR logical id; anything else is looked up as nothing. */
export function isFhirId(id: string): boolean {
  return FHIR_ID.test(id);
}
