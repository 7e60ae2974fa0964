import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { serverBusy } from '../cpu/pool.js';

/**
 * Load shedding: at most `max` requests of one route class in flight; past that a request is
 * answered 503 with Retry-After at once instead of queueing seconds of work behind the others.
 * Kiosks and wallets retry.
 */
export interface Admission extends RequestHandler {
  readonly inFlight: number;
}

export function admission(max: number): Admission {
  let inFlight = 0;
  const handler = (_req: Request, res: Response, next: NextFunction) => {
    if (inFlight >= max) {
      next(serverBusy());
      return;
    }
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
  return Object.defineProperty(handler, 'inFlight', { get: () => inFlight }) as Admission;
}

/** The route classes whose work is bounded together. */
export interface Admissions {
  /** POST /checkin, POST /checkin/sessions/{id}/submit. */
  checkin: Admission;
  /** Visit documents and FHIR writes (Encounter, Appointment). */
  write: Admission;
}
