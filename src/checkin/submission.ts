import type { Bundle } from '@medplum/fhirtypes';
import { z } from 'zod';
import { badRequest } from '../fhir/outcome.js';
import { identityPresentationSchema, type IdentityPresentation } from '../identity/mdl/presentation.js';

/** What a wallet (or a kiosk on its behalf) can hand over: exactly one of shlink, shc, bundle. */
export type CheckinPayload =
  | { kind: 'shlink'; shlink: string; passcode?: string }
  | { kind: 'shc'; shc: string[] | { verifiableCredential: string[] } }
  | { kind: 'bundle'; bundle: Bundle };

const shcForms = z.union([
  z.array(z.string().min(1).max(20_000)).min(1).max(40),
  z
    .string()
    .min(1)
    .max(20_000)
    .transform((s) => [s]),
  z.object({ verifiableCredential: z.array(z.string().min(1).max(20_000)).min(1).max(40) }),
]);

const fields = {
  shlink: z.string().min(1).max(4096).optional(),
  shc: shcForms.optional(),
  bundle: z
    .object({ resourceType: z.literal('Bundle') })
    .passthrough()
    .optional(),
  passcode: z.string().min(1).max(256).optional(),
};

const patientSubmission = z.object({ ...fields, identityPresentation: identityPresentationSchema.optional() }).strict();
const kioskSubmission = z.object({ ...fields, identityToken: z.string().min(1).max(16_384).optional(), identityPresentation: identityPresentationSchema.optional() }).strict();

/** How the patient's identity comes with a submission: an identity token, or an mDL presented over OpenID4VP. */
export type IdentityEvidence = { kind: 'token'; token: string } | { kind: 'presentation'; presentation: IdentityPresentation };

function toPayload(body: Omit<z.infer<typeof patientSubmission>, 'identityPresentation'>): CheckinPayload {
  const given = (['shlink', 'shc', 'bundle'] as const).filter((k) => body[k] !== undefined);
  if (given.length !== 1) throw badRequest('Send exactly one of shlink, shc or bundle', given.length ? given : ['shlink', 'shc', 'bundle']);
  if (body.passcode !== undefined && !body.shlink) throw badRequest('passcode goes only with a shlink', ['passcode']);
  if (body.shlink !== undefined) return { kind: 'shlink', shlink: body.shlink, ...(body.passcode ? { passcode: body.passcode } : {}) };
  if (body.shc !== undefined) return { kind: 'shc', shc: body.shc };
  return { kind: 'bundle', bundle: body.bundle as unknown as Bundle };
}

function describe(error: z.ZodError): never {
  const first = error.issues[0];
  const where = first?.path.length ? first.path.join('.') : 'body';
  throw badRequest(`${where}: ${first?.message ?? 'invalid'}`, [where]);
}

function parseWith<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object');
  const r = schema.safeParse(body);
  if (!r.success) describe(r.error);
  return r.data;
}

/** The wallet's own submission (POST /checkin/sessions/{id}/submit); the identity may also come as a Bearer token. */
export function parsePatientSubmission(body: unknown): { presentation?: IdentityPresentation; payload: CheckinPayload } {
  const { identityPresentation, ...rest } = parseWith(patientSubmission, body);
  return { ...(identityPresentation ? { presentation: identityPresentation } : {}), payload: toPayload(rest) };
}

/** The kiosk's submission (POST /checkin): the payload plus the patient's identity token or mDL presentation. */
export function parseKioskSubmission(body: unknown): { identity: IdentityEvidence; payload: CheckinPayload } {
  const { identityToken, identityPresentation, ...rest } = parseWith(kioskSubmission, body);
  if ((identityToken === undefined) === (identityPresentation === undefined)) {
    throw badRequest('Send exactly one of identityToken or identityPresentation', ['identityToken', 'identityPresentation']);
  }
  const identity: IdentityEvidence = identityToken !== undefined ? { kind: 'token', token: identityToken } : { kind: 'presentation', presentation: identityPresentation! };
  return { identity, payload: toPayload(rest) };
}
