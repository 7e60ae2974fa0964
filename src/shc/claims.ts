import { z } from 'zod';
import { DomainError } from '../errors.js';
import { HEALTH_CARD_TYPE, type ShcPayload } from './types.js';

/** Tolerated clock difference between issuer and gateway for nbf. */
export const NBF_SKEW_SECONDS = 60;

const seconds = z.number().finite().nonnegative();

// Loose objects: the payload is returned as signed, unknown members included.
const payloadSchema = z.looseObject({
  iss: z.string().min(1),
  nbf: seconds,
  exp: seconds.optional(),
  vc: z.looseObject({
    type: z.array(z.string()).refine((t) => t.includes(HEALTH_CARD_TYPE), { message: `does not include ${HEALTH_CARD_TYPE}` }),
    credentialSubject: z.looseObject({
      fhirVersion: z.string().min(1),
      fhirBundle: z.looseObject({ resourceType: z.literal('Bundle'), entry: z.array(z.looseObject({})).optional() }),
    }),
    rid: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,24}$/)
      .optional(),
  }),
});

/** Parses the inflated payload and checks the claims spec §2/§8 require; messages name fields, never values. */
export function parseCardPayload(inflated: Buffer): ShcPayload {
  let json: unknown;
  try {
    json = JSON.parse(inflated.toString('utf8'));
  } catch {
    throw new DomainError('ERR_SHC_PAYLOAD', 'The SMART Health Card payload is not JSON');
  }
  const r = payloadSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.length ? first.path.join('.') : 'payload';
    throw new DomainError('ERR_SHC_PAYLOAD', `The SMART Health Card payload is invalid at ${where}: ${first?.message ?? 'invalid'}`, { expression: [where] });
  }
  return json as ShcPayload;
}

/** nbf not ahead of now (beyond the skew), exp not passed, and exp after nbf. */
export function checkCardTimes(payload: ShcPayload, nowMs: number): void {
  const now = nowMs / 1000;
  if (payload.nbf > now + NBF_SKEW_SECONDS)
    throw new DomainError('ERR_SHC_NOT_YET_VALID', 'The SMART Health Card is not valid yet (nbf is in the future)', { expression: ['nbf'] });
  if (payload.exp === undefined) return;
  if (payload.exp <= payload.nbf) throw new DomainError('ERR_SHC_PAYLOAD', 'The SMART Health Card expires before it becomes valid (exp <= nbf)', { expression: ['exp'] });
  if (payload.exp < now) throw new DomainError('ERR_SHC_EXPIRED', 'The SMART Health Card has expired', { expression: ['exp'] });
}
