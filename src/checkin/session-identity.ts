import type { Queryable } from '../db/db.js';
import type { VerifiedIdentity } from '../identity/types.js';

/**
 * The identity a kiosk verified (an mDL on the kiosk page) for a waiting session, so the wallet's
 * submission of the health data need not carry its own. Held only while the session waits:
 * completing the session clears it.
 */
export async function attachSessionIdentity(q: Queryable, sessionId: string, identity: VerifiedIdentity, now: Date): Promise<void> {
  await forgetExpiredSessionIdentities(q, now);
  await q.query("UPDATE checkin_session SET identity = $2 WHERE id = $1 AND status = 'waiting'", [sessionId, JSON.stringify(identity)]);
}

/**
 * Sessions that expired unused drop their identity; run whenever a session is opened or verified,
 * so a name and birth date never outlive a session by long even if no mDL is verified again.
 */
export async function forgetExpiredSessionIdentities(q: Queryable, now: Date): Promise<void> {
  await q.query('UPDATE checkin_session SET identity = NULL WHERE identity IS NOT NULL AND expires_at < $1', [now]);
}

export async function sessionIdentity(q: Queryable, sessionId: string): Promise<VerifiedIdentity | undefined> {
  const { rows } = await q.query<{ identity: VerifiedIdentity | null }>('SELECT identity FROM checkin_session WHERE id = $1', [sessionId]);
  return rows[0]?.identity ?? undefined;
}
