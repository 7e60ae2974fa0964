import express, { type NextFunction, type Request, type Response } from 'express';
import { MAX_JSON_DEPTH } from '../json-limits.js';
import { tooLarge, unsupportedMediaType } from './http-error.js';

const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];

/** Nesting depth of JSON text, counted without parsing (brackets inside strings ignored). */
export function jsonDepthExceeds(buf: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function checkDepth(_req: unknown, _res: unknown, buf: Buffer): void {
  if (jsonDepthExceeds(buf, MAX_JSON_DEPTH)) throw tooLarge(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
}

/** JSON (FHIR or plain) and the form encoding OAuth token requests use; everything size-capped. */
export function bodyParsers(limitBytes: number) {
  return [
    express.json({ limit: limitBytes, type: JSON_TYPES, strict: true, verify: checkDepth }),
    express.urlencoded({ limit: limitBytes, extended: false, parameterLimit: 50 }),
    rejectOtherBodies,
  ];
}

function rejectOtherBodies(req: Request, _res: Response, next: NextFunction) {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && req.body === undefined) {
    next(unsupportedMediaType(`Content-Type ${req.get('content-type') ?? '(none)'} is not accepted; send application/fhir+json or application/json`));
    return;
  }
  next();
}

/** Sends a FHIR resource as application/fhir+json. */
export function sendFhir(res: Response, status: number, resource: unknown) {
  sendFhirText(res, status, JSON.stringify(resource));
}

/** Sends a FHIR resource already serialized (as it was stored) as application/fhir+json. */
export function sendFhirText(res: Response, status: number, json: string) {
  res.status(status).type('application/fhir+json; charset=utf-8').send(json);
}
