/** What the gateway asks a wallet for, in the W3C Digital Credentials API form of OpenID4VP 1.0. */

export const DC_API_PROTOCOL = 'openid4vp-v1-unsigned';
export const MDL_DOCTYPE = 'org.iso.18013.5.1.mDL';
export const MDL_NAMESPACE = 'org.iso.18013.5.1';
/** The DCQL credential query id; the wallet answers under this key of vp_token. */
export const CREDENTIAL_QUERY_ID = 'mdl';
/** Data minimisation: what binding and the pseudonymous subject need, and nothing else (no portrait, no address). */
export const REQUESTED_ELEMENTS = ['family_name', 'given_name', 'birth_date', 'document_number', 'issuing_authority'] as const;
/** Requests live five minutes: long enough to find the phone, short enough that an unused one is worthless. */
export const IDENTITY_REQUEST_TTL_SECONDS = 300;
/**
 * Open (unanswered, unexpired) requests at once: anyone may ask for a patient request, so they share
 * one budget; each kiosk has its own. With pruning an hour after expiry this bounds the table.
 */
export const MAX_OPEN_REQUESTS: Record<'checkin' | 'patient', number> = { checkin: 200, patient: 1000 };
/** Open unauthenticated requests per client address, so one address cannot spend the shared budget alone. */
export const MAX_OPEN_REQUESTS_PER_ADDRESS = 10;

/** Content encryption the gateway accepts for dc_api.jwt answers (A128GCM is the default wallets use). */
export const RESPONSE_ENC_VALUES = ['A128GCM', 'A256GCM'];

export interface DcApiRequest {
  protocol: typeof DC_API_PROTOCOL;
  data: {
    response_type: 'vp_token';
    response_mode: 'dc_api' | 'dc_api.jwt';
    nonce: string;
    client_metadata?: { jwks: { keys: Record<string, unknown>[] }; encrypted_response_enc_values_supported: string[]; vp_formats_supported: Record<string, object> };
    dcql_query: {
      credentials: {
        id: string;
        format: 'mso_mdoc';
        meta: { doctype_value: string };
        claims: { path: [string, string]; intent_to_retain: false }[];
      }[];
    };
  };
}

/**
 * Unsigned: no client_id; the browser tells the wallet the verifier's origin. With `responseKey`
 * (the public half of the request's ephemeral ECDH-ES key) the answer comes back as a JWE to it.
 */
export function dcApiRequest(nonce: string, responseKey?: Record<string, unknown>): DcApiRequest {
  return {
    protocol: DC_API_PROTOCOL,
    data: {
      response_type: 'vp_token',
      response_mode: responseKey ? 'dc_api.jwt' : 'dc_api',
      nonce,
      ...(responseKey
        ? { client_metadata: { jwks: { keys: [responseKey] }, encrypted_response_enc_values_supported: RESPONSE_ENC_VALUES, vp_formats_supported: { mso_mdoc: {} } } }
        : {}),
      dcql_query: {
        credentials: [
          {
            id: CREDENTIAL_QUERY_ID,
            format: 'mso_mdoc',
            meta: { doctype_value: MDL_DOCTYPE },
            claims: REQUESTED_ELEMENTS.map((e) => ({ path: [MDL_NAMESPACE, e], intent_to_retain: false })),
          },
        ],
      },
    },
  };
}
