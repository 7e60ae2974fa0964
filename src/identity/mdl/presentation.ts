import { z } from 'zod';

/** A DeviceResponse carrying the five elements asked for stays far below this (no portrait is requested). */
export const MAX_DEVICE_RESPONSE_CHARS = 64 * 1024;

/** `identityPresentation`: the Digital Credentials API result, plus the request it answers. */
export const identityPresentationSchema = z
  .object({
    requestId: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the id of an identity request'),
    protocol: z.string().min(1).max(64),
    data: z
      .object({
        vp_token: z.record(z.string().max(64), z.array(z.string().min(1).max(MAX_DEVICE_RESPONSE_CHARS).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')).min(1).max(4)),
      })
      .passthrough(),
  })
  .strict();

export type IdentityPresentation = z.infer<typeof identityPresentationSchema>;
