import { EventEmitter } from 'node:events';
import { notify, type Db, type Queryable } from '../db/db.js';

const CHANNEL = 'checkin_session';
/** Emitted when notifications may have been missed: every watcher re-reads. */
const RESYNC = Symbol('resync');

/**
 * Wakes the kiosk streams of this process when one of their sessions changes on any replica: one
 * LISTEN per process (the database's NOTIFY reaches every replica, this one included), fanned out
 * to the streams in memory, so no stream polls the database.
 */
export class SessionEvents {
  private readonly emitter = new EventEmitter();
  private listening: Promise<unknown> | undefined;

  constructor(private readonly db: Db) {
    this.emitter.setMaxListeners(0);
  }

  /** Calls `wake` whenever session `id` may have changed; the returned function stops. */
  async watch(id: string, wake: () => void): Promise<() => void> {
    this.listening ??= this.db
      .listen(CHANNEL, (payload) => this.emitter.emit(payload ?? RESYNC))
      .catch((e: unknown) => {
        this.listening = undefined;
        throw e;
      });
    await this.listening;
    this.emitter.on(id, wake).on(RESYNC, wake);
    return () => {
      this.emitter.off(id, wake).off(RESYNC, wake);
    };
  }
}

/** Announces a change of session `id` to every replica's watchers (at COMMIT when `q` is a transaction). */
export function announceSessionChange(q: Queryable, id: string): Promise<void> {
  return notify(q, CHANNEL, id);
}
