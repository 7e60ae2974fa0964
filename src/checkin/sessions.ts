import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import { conflict, gone, notFound } from '../fhir/outcome.js';
import { announceSessionChange } from './session-events.js';

export interface CheckinSession {
  id: string;
  organization: string;
  clientId: string;
  status: 'waiting' | 'completed' | 'expired';
  checkinId?: string;
  expiresAt: Date;
}

interface SessionRow {
  id: string;
  organization: string;
  client_id: string;
  status: 'waiting' | 'completed';
  checkin_id: string | null;
  expires_at: Date;
}

function fromRow(r: SessionRow, now: number): CheckinSession {
  const expired = r.status === 'waiting' && r.expires_at.getTime() <= now;
  return {
    id: r.id,
    organization: r.organization,
    clientId: r.client_id,
    status: expired ? 'expired' : r.status,
    ...(r.checkin_id ? { checkinId: r.checkin_id } : {}),
    expiresAt: r.expires_at,
  };
}

/** Session ids are 256-bit random: the QR is shown in a public place. */
export async function openSession(q: Queryable, owner: { organization: string; clientId: string }, expiresAt: Date): Promise<CheckinSession> {
  const id = randomBytes(32).toString('base64url');
  await q.query('INSERT INTO checkin_session (id, organization, client_id, status, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    id,
    owner.organization,
    owner.clientId,
    'waiting',
    expiresAt,
  ]);
  return { id, ...owner, status: 'waiting', expiresAt };
}

export async function getSession(q: Queryable, id: string, now: number): Promise<CheckinSession | undefined> {
  const { rows } = await q.query<SessionRow>('SELECT * FROM checkin_session WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0], now) : undefined;
}

/**
 * Locks a waiting session for the submission's transaction; a second submission waits on the
 * row lock and then finds it completed (409). Expired sessions are 410, unknown ones 404.
 */
export async function claimSession(q: Queryable, id: string, now: number): Promise<CheckinSession> {
  const { rows } = await q.query<SessionRow>('SELECT * FROM checkin_session WHERE id = $1 FOR UPDATE', [id]);
  return assertOpen(rows[0] ? fromRow(rows[0], now) : undefined);
}

/** A session a wallet may still submit to: 404 unknown, 409 used, 410 expired. */
export function assertOpen(s: CheckinSession | undefined): CheckinSession {
  if (!s) throw notFound('No such check-in session');
  if (s.status === 'completed') throw conflict('This check-in session has already been used');
  if (s.status === 'expired') throw gone('This check-in session has expired; ask the kiosk for a new code');
  return s;
}

export async function completeSession(q: Queryable, id: string, checkinId: string): Promise<void> {
  await q.query("UPDATE checkin_session SET status = 'completed', checkin_id = $2, identity = NULL WHERE id = $1", [id, checkinId]);
  await announceSessionChange(q, id);
}

/** The newest session of a kiosk still waiting for a wallet: the code its screen shows now. */
export async function newestWaitingSession(q: Queryable, clientId: string, now: number): Promise<CheckinSession | undefined> {
  const { rows } = await q.query<SessionRow>("SELECT * FROM checkin_session WHERE client_id = $1 AND status = 'waiting' AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1", [
    clientId,
    new Date(now),
  ]);
  return rows[0] ? fromRow(rows[0], now) : undefined;
}
