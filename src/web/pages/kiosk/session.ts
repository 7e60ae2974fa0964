/** The kiosk's talk with the gateway: its API calls and following a check-in session (event stream, else polling). */

const POLL_MS = 2000;

export class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export interface SessionView {
  status: 'waiting' | 'completed' | 'expired';
  checkinId?: string;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export async function api(
  path: string,
  token: string | null,
  { method = 'GET', accept = 'application/json', signal }: { method?: string; accept?: string; signal: AbortSignal },
): Promise<Response> {
  const res = await fetch(path, { method, headers: { Authorization: `Bearer ${token ?? ''}`, Accept: accept }, cache: 'no-store', signal });
  if (!res.ok) throw new HttpStatusError(res.status);
  return res;
}

export const sessionPath = (id: string) => `/checkin/sessions/${encodeURIComponent(id)}`;

/** Server-Sent Events read from a fetch body (EventSource cannot send an Authorization header). */
async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ type: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // A trailing CR waits for the next chunk: it may be the first half of CRLF.
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n|\r(?!$)/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') type = text;
          else if (field === 'data') data.push(text);
        }
        if (data.length) yield { type, data: data.join('\n') };
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** The session's final state from the event stream, or undefined when the stream ended early. */
async function followEvents(id: string, token: string | null, signal: AbortSignal): Promise<SessionView | undefined> {
  const res = await api(sessionPath(id), token, { accept: 'text/event-stream', signal });
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
    const view = (await res.json()) as SessionView;
    return view.status === 'waiting' ? undefined : view;
  }
  for await (const event of readEvents(res.body)) {
    if (event.type !== 'status') continue;
    const view = JSON.parse(event.data) as SessionView;
    if (view.status !== 'waiting') return view;
  }
  return undefined;
}

async function poll(id: string, token: string | null, signal: AbortSignal): Promise<SessionView> {
  for (;;) {
    await sleep(POLL_MS, signal);
    try {
      const view = (await (await api(sessionPath(id), token, { signal })).json()) as SessionView;
      if (view.status !== 'waiting') return view;
    } catch (err) {
      // A network blip is retried; an answer from the gateway (401, 404...) is not.
      if (err instanceof HttpStatusError || signal.aborted) throw err;
    }
  }
}

export async function follow(id: string, token: string | null, signal: AbortSignal): Promise<SessionView> {
  try {
    const view = await followEvents(id, token, signal);
    if (view) return view;
  } catch (err) {
    if (err instanceof HttpStatusError || signal.aborted) throw err;
  }
  return poll(id, token, signal);
}

export function firstGivenName(bundle: { entry?: { resource?: { resourceType?: string; name?: { use?: string; given?: unknown[]; text?: string }[] } }[] }): string | undefined {
  const patient = (bundle.entry ?? []).map((e) => e.resource).find((r) => r?.resourceType === 'Patient');
  const names = patient?.name ?? [];
  const name = names.find((n) => n.use === 'usual') ?? names.find((n) => n.use === 'official') ?? names[0];
  const given = name?.given?.find((g): g is string => typeof g === 'string' && g.trim() !== '') ?? name?.text?.trim().split(/\s+/)[0];
  return typeof given === 'string' && given.trim() ? given.trim() : undefined;
}
