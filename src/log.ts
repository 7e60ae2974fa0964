import pino, { type Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Request bodies and FHIR content are
 * never logged at all; this list is the second line of defence for anything that slips through.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'identityToken',
  '*.identityToken',
  'client_assertion',
  '*.client_assertion',
  'passcode',
  '*.passcode',
  'key',
  '*.key',
  'apiKey',
  '*.apiKey',
  'shlink',
  '*.shlink',
  'name',
  '*.name',
  'given',
  '*.given',
  'family',
  '*.family',
  'birthDate',
  '*.birthDate',
  'birthdate',
  '*.birthdate',
  'identifier',
  '*.identifier',
  'address',
  '*.address',
  'telecom',
  '*.telecom',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ktc-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
