import pg from 'pg';

type Handler = (payload: string | undefined) => void;

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
const RECONNECT_MS = 1_000;

/**
 * LISTEN for a pg.Pool, on one connection of its own (a pooled one would be handed to other
 * queries). Every channel of the process shares it. When it drops, it reconnects, listens again and
 * tells every handler (payload undefined) that notifications may have been missed meanwhile.
 */
export class PgListener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private closed = false;

  constructor(private readonly connectionString: string) {}

  async listen(channel: string, handler: Handler): Promise<() => Promise<void>> {
    if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await (await this.connection()).query(`LISTEN ${channel}`);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size > 0 || this.handlers.get(channel) !== set) return;
      this.handlers.delete(channel);
      await this.client?.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (m) => {
      for (const h of this.handlers.get(m.channel) ?? []) h(m.payload ?? '');
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    this.client = client;
    return client;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed || this.handlers.size === 0) return;
    setTimeout(() => this.reconnect(), RECONNECT_MS).unref();
  }

  private reconnect(): void {
    if (this.closed) return;
    this.connection().then(
      () => {
        for (const set of this.handlers.values()) for (const h of set) h(undefined);
      },
      () => setTimeout(() => this.reconnect(), RECONNECT_MS).unref(),
    );
  }
}
