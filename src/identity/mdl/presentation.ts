import { z } from 'zod';

/** A DeviceResponse carrying the five elements asked for stays far below this (no portrait is requested). */
export const MAX_DEVICE_RESPONSE_CHARS = 64 * 1024;

export const vpTokenSchema = z.record(
  z.string().max(64),
  z
    .array(
      z
        .string()
        .min(1)
        .max(MAX_DEVICE_RESPONSE_CHARS)
        .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url'),
    )
    .min(1)
    .max(4),
);

/**
 * `identityPresentation`: the Digital Credentials API result, plus the request it answers. `data`
 * holds `vp_token` (response_mode dc_api) or `response`, a JWE around it (dc_api.jwt).
 */
export const identityPresentationSchema = z
  .object({
    requestId: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the id of an identity request'),
    protocol: z.string().min(1).max(64),
    data: z
      .object({
        vp_token: vpTokenSchema.optional(),
        response: z
          .string()
          .min(1)
          .max(2 * MAX_DEVICE_RESPONSE_CHARS)
          .optional(),
      })
      .passthrough()
      .refine((d) => (d.vp_token === undefined) !== (d.response === undefined), 'must hold exactly one of vp_token or response'),
  })
  .strict();

export type IdentityPresentation = z.infer<typeof identityPresentationSchema>;
