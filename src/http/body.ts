import express, { type NextFunction, type Request, type Response } from 'express';
import { unsupportedMediaType } from '../fhir/outcome.js';

const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];

/** JSON (FHIR or plain) and the form encoding OAuth token requests use; everything size-capped. */
export function bodyParsers(limitBytes: number) {
  return [
    express.json({ limit: limitBytes, type: JSON_TYPES, strict: true }),
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
  res.status(status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(resource));
}
