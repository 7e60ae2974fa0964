import type { Response } from 'express';
import type { Clock } from '../clock.js';
import type { SessionEvents } from './session-events.js';
import type { CheckinSession } from './sessions.js';

export interface SessionStreamDeps {
  events: SessionEvents;
  clock: Clock;
  /** The session as its kiosk may see it, or undefined once it is not there (or not theirs). */
  load: () => Promise<CheckinSession | undefined>;
}

export function sessionView(s: CheckinSession) {
  return { id: s.id, status: s.status, expiresAt: s.expiresAt.toISOString(), ...(s.checkinId ? { checkinId: s.checkinId } : {}) };
}

/**
 * Server-Sent Events for one waiting session: a `status` event now and at every change, until it is
 * completed or expired. Woken by the check-in (on whichever replica it happened) and by a timer at
 * the expiry; the database is read only then.
 */
export async function streamSession(res: Response, first: CheckinSession, d: SessionStreamDeps): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
  let last = '';
  let done = false;
  let expiry: NodeJS.Timeout | undefined;
  let unwatch = () => {};
  const stop = () => {
    done = true;
    clearTimeout(expiry);
    unwatch();
    res.end();
  };
  const push = (session: CheckinSession | undefined) => {
    if (done) return;
    if (!session) return stop();
    const data = JSON.stringify(sessionView(session));
    if (data !== last) res.write(`event: status\ndata: ${data}\n\n`);
    last = data;
    if (session.status !== 'waiting') stop();
  };
  const reload = () => {
    if (!done) d.load().then(push, stop);
  };
  res.on('close', () => {
    if (!done) stop();
  });
  push(first);
  if (done) return;
  const stopWatching = await d.events.watch(first.id, reload);
  if (done) return stopWatching();
  unwatch = stopWatching;
  // A change between the first read and the watch would otherwise go unseen.
  reload();
  expiry = setTimeout(reload, Math.max(0, first.expiresAt.getTime() - d.clock.now()) + 50);
}
