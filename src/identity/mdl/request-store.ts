import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/db.js';
import { DomainError } from '../../errors.js';
import { MAX_OPEN_REQUESTS, MAX_OPEN_REQUESTS_PER_ADDRESS } from './request.js';

export type RequestPurpose = 'checkin' | 'patient';

/** Who may answer a request: a check-in request belongs to its kiosk (and session, when it has one). */
export interface RequestOwner {
  purpose: RequestPurpose;
  organization?: string;
  clientId?: string;
  sessionId?: string;
  /** The client address of an unauthenticated request: each address has its own small budget. */
  address?: string;
}

export interface StoredRequest extends RequestOwner {
  id: string;
  nonce: string;
  expiresAt: Date;
  /** The private key a dc_api.jwt answer is encrypted to (stored form), when the request asked for one. */
  responseKey?: string;
}

interface Row {
  id: string;
  purpose: RequestPurpose;
  nonce: string;
  organization: string | null;
  client_id: string | null;
  session_id: string | null;
  expires_at: Date;
  used_at: Date | null;
  response_key: string | null;
}

/** 429 once the owner's budget of open requests is spent, until the oldest of them expires. */
async function assertBelowBudget(q: Queryable, owner: RequestOwner, now: Date): Promise<void> {
  const { rows } = await q.query<{ n: number; first: Date | null }>(
    'SELECT count(*)::int AS n, min(expires_at) AS first FROM identity_request WHERE purpose = $1 AND client_id IS NOT DISTINCT FROM $2 AND used_at IS NULL AND expires_at > $3',
    [owner.purpose, owner.clientId ?? null, now],
  );
  throwWhenSpent(rows[0], MAX_OPEN_REQUESTS[owner.purpose], now);
  if (owner.address === undefined) return;
  const byAddress = await q.query<{ n: number; first: Date | null }>(
    'SELECT count(*)::int AS n, min(expires_at) AS first FROM identity_request WHERE purpose = $1 AND address = $2 AND used_at IS NULL AND expires_at > $3',
    [owner.purpose, owner.address, now],
  );
  throwWhenSpent(byAddress.rows[0], MAX_OPEN_REQUESTS_PER_ADDRESS, now);
}

function throwWhenSpent(open: { n: number; first: Date | null } | undefined, max: number, now: Date): void {
  if (!open || open.n < max) return;
  const retryAfter = Math.max(1, Math.ceil(((open.first ? new Date(open.first).getTime() : now.getTime()) - now.getTime()) / 1000));
  throw new DomainError('ERR_MDL_THROTTLED', 'Too many identity requests are open; ask again in a few minutes', { data: { retryAfterSeconds: retryAfter } });
}

/** Ids and nonces are 256-bit random; expired requests are pruned as new ones are made. */
export async function createRequest(q: Queryable, owner: RequestOwner, at: { expiresAt: Date; now: Date }, responseKey?: string): Promise<StoredRequest> {
  const id = randomBytes(32).toString('base64url');
  const nonce = randomBytes(32).toString('base64url');
  await q.query('DELETE FROM identity_request WHERE expires_at < $1', [new Date(at.now.getTime() - 3600_000)]);
  await assertBelowBudget(q, owner, at.now);
  await q.query(
    'INSERT INTO identity_request (id, purpose, nonce, organization, client_id, session_id, expires_at, response_key, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [id, owner.purpose, nonce, owner.organization ?? null, owner.clientId ?? null, owner.sessionId ?? null, at.expiresAt, responseKey ?? null, owner.address ?? null],
  );
  return { id, nonce, expiresAt: at.expiresAt, ...owner, ...(responseKey ? { responseKey } : {}) };
}

function ownedBy(r: Row, owner: RequestOwner): boolean {
  if (r.purpose !== owner.purpose) return false;
  if (owner.organization !== undefined && (r.organization !== owner.organization || r.client_id !== owner.clientId)) return false;
  return owner.sessionId === undefined || r.session_id === owner.sessionId;
}

/** An open request of this owner: 404 unknown (or someone else's), 409 already answered, 410 expired. */
export async function openRequest(q: Queryable, id: string, owner: RequestOwner, now: Date): Promise<StoredRequest> {
  const { rows } = await q.query<Row>('SELECT * FROM identity_request WHERE id = $1', [id]);
  const r = rows[0];
  if (!r || !ownedBy(r, owner)) throw new DomainError('ERR_MDL_REQUEST_UNKNOWN', 'No such identity request');
  if (r.used_at) throw new DomainError('ERR_MDL_REQUEST_USED', 'This identity request has already been answered; ask for a new one');
  if (r.expires_at.getTime() <= now.getTime()) throw new DomainError('ERR_MDL_REQUEST_EXPIRED', 'This identity request has expired; ask for a new one');
  return {
    id: r.id,
    nonce: r.nonce,
    expiresAt: r.expires_at,
    purpose: r.purpose,
    ...(r.organization ? { organization: r.organization } : {}),
    ...(r.client_id ? { clientId: r.client_id } : {}),
    ...(r.session_id ? { sessionId: r.session_id } : {}),
    ...(r.response_key ? { responseKey: r.response_key } : {}),
  };
}

/** Marks the request answered; false when another presentation got there first (a replay). */
export async function consumeRequest(q: Queryable, id: string, now: Date): Promise<boolean> {
  const { rows } = await q.query('UPDATE identity_request SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id', [id, now]);
  return rows.length === 1;
}
