import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Bundle, Parameters } from '@medplum/fhirtypes';

/** One notification as the subscriber saw it. */
export interface Notification {
  subscriptionId: string;
  type: string;
  status: string;
  eventsSinceStart: number | undefined;
  eventNumbers: number[];
  focus: string[];
  bundle: Bundle;
  headers: IncomingHttpHeaders;
}

/** How the endpoint answers: 2xx, a status (with headers), or never. */
export type SubscriberMode = { status: number; headers?: Record<string, string> } | 'hang';

export interface Subscriber {
  /** http://127.0.0.1:<port>/hook */
  url: string;
  port: number;
  /** Every notification answered with 2xx, in arrival order. */
  delivered: Notification[];
  /** Every POST, whatever the answer. */
  requests: number;
  /** The most notifications of one subscription ever in flight at once. */
  maxConcurrent(subscriptionId: string): number;
  setMode(mode: SubscriberMode): void;
  /** Each answer waits this long (widens the window in which a second concurrent delivery would show). */
  setDelay(ms: number): void;
  /** Stops listening: connections are refused until accept(). */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Delivered event numbers of one subscription (event notifications only), in arrival order. */
  events(subscriptionId: string): number[];
  waitFor(what: string, done: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function parseNotification(bundle: Bundle, headers: IncomingHttpHeaders): Notification {
  const status = bundle.entry?.[0]?.resource as Parameters;
  const param = (name: string) => status.parameter?.find((p) => p.name === name);
  const events = (status.parameter ?? []).filter((p) => p.name === 'notification-event');
  const part = (ev: (typeof events)[number], name: string) => ev.part?.find((p) => p.name === name);
  const since = param('events-since-subscription-start')?.valueString;
  return {
    subscriptionId: String(param('subscription')?.valueReference?.reference).split('/').pop() as string,
    type: String(param('type')?.valueCode),
    status: String(param('status')?.valueCode),
    eventsSinceStart: since === undefined ? undefined : Number(since),
    eventNumbers: events.map((ev) => Number(part(ev, 'event-number')?.valueString)),
    focus: events.flatMap((ev) => (part(ev, 'focus')?.valueReference?.reference ? [part(ev, 'focus')!.valueReference!.reference!] : [])),
    bundle,
    headers,
  };
}

/** Notifications in flight per subscription, and the most there ever were at once. */
function concurrencyMeter(): { enter(id: string): () => void; peak(id: string): number } {
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  return {
    /** Counts one in; the function returned counts it out, once however often it is called. */
    enter(id) {
      const now = (inFlight.get(id) ?? 0) + 1;
      inFlight.set(id, now);
      peak.set(id, Math.max(peak.get(id) ?? 0, now));
      let finished = false;
      return () => {
        if (finished) return;
        finished = true;
        inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
      };
    },
    peak: (id) => peak.get(id) ?? 0,
  };
}

/** A rest-hook subscriber endpoint on 127.0.0.1 (the demo's aligned network; in tests it can also fail, hang or refuse on demand). */
export async function startSubscriber(): Promise<Subscriber> {
  let mode: SubscriberMode = { status: 200 };
  let delay = 0;
  let requests = 0;
  const delivered: Notification[] = [];
  const concurrency = concurrencyMeter();
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      let n: Notification;
      try {
        n = parseNotification(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Bundle, req.headers);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const finish = concurrency.enter(n.subscriptionId);
      res.on('close', finish);
      const answer = mode;
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      setTimeout(() => {
        if (answer.status >= 200 && answer.status < 300) delivered.push(n);
        res.writeHead(answer.status, answer.headers).end();
        finish();
      }, delay);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    delivered,
    get requests() {
      return requests;
    },
    maxConcurrent: concurrency.peak,
    setMode(m) {
      mode = m;
      if (m !== 'hang') for (const r of hanging) r.destroy();
    },
    setDelay(ms) {
      delay = ms;
    },
    refuse: stopListening,
    accept: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    events: (id) => delivered.filter((n) => n.subscriptionId === id && n.type === 'event-notification').flatMap((n) => n.eventNumbers),
    async waitFor(what, done, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: stopListening,
  };
}
