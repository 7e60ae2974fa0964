import type { Request, Response } from 'express';
import { gone, notFound } from '../fhir/outcome.js';
import { isFhirId } from '../fhir/ids.js';
import { clientOf } from '../http/guards.js';
import type { Services } from '../services.js';
import { getSubscription, type StoredSubscription } from './subscription-store.js';

/** The caller's own subscription named by `:id`; other organizations' are indistinguishable from missing ones. */
export async function ownSubscription(s: Pick<Services, 'db'>, req: Request, res: Response): Promise<StoredSubscription> {
  const id = String(req.params.id);
  const sub = isFhirId(id) ? await getSubscription(s.db, id, clientOf(res).organization) : undefined;
  if (!sub) throw notFound('No such Subscription');
  if (sub.deletedAt) throw gone('The Subscription was deleted');
  return sub;
}
