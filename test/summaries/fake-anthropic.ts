import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Anthropic Messages API on 127.0.0.1, reached by the real SDK through its
 * baseURL. Each request to POST /v1/messages takes the next scripted reply (the last one repeats);
 * every request is recorded for the test to inspect.
 */

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: MessagesRequest;
}

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: string;
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  tool_choice?: { type: string; name?: string };
  messages: { role: string; content: unknown }[];
}

export type Reply =
  | { status: number; headers?: Record<string, string>; body: unknown }
  /** Never answers (the client's deadline must fire). */
  | 'hang';

export type Script = (req: MessagesRequest, n: number) => Reply;

export interface FakeAnthropic {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Replaces the script and clears the recorded requests. */
  script(...replies: (Reply | Script)[]): void;
  close(): Promise<void>;
}

/** A Messages API reply whose only content is a call of `tool` with `input`. */
export function toolReply(model: string, tool: string, input: unknown, usage = { input_tokens: 900, output_tokens: 300 }): Reply {
  return {
    status: 200,
    body: {
      id: `msg_${Math.random().toString(36).slice(2)}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'tool_use', id: `toolu_${Math.random().toString(36).slice(2)}`, name: tool, input }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage,
    },
  };
}

export function errorReply(status: number, type: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { type: 'error', error: { type, message: `${type} (fake)` } } };
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  let steps: (Reply | Script)[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as MessagesRequest;
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const n = requests.filter((r) => r.path.startsWith('/v1/messages')).length - 1;
      const step = steps[Math.min(n, steps.length - 1)];
      const reply = typeof step === 'function' ? step(body, n) : (step ?? errorReply(500, 'api_error'));
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    script(...replies) {
      steps = replies;
      requests.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
