import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { announceSessionChange, SessionEvents } from '../../src/checkin/session-events.js';
import type { Db } from '../../src/db/db.js';
import { openPostgres } from '../../src/db/postgres.js';
import { testDatabases } from '../helpers/db.js';

/** Resolves with the first `n` wakes' count once reached; the test's own timeout bounds the wait. */
function wakes(events: SessionEvents, id: string) {
  let count = 0;
  let notify = () => {};
  const reached = (n: number) =>
    new Promise<void>((resolve) => {
      notify = () => count >= n && resolve();
      notify();
    });
  const started = events.watch(id, () => {
    count++;
    notify();
  });
  return { started, reached, count: () => count };
}

for (const tdb of testDatabases()) {
  describe(`kiosk session wake-ups (${tdb.name})`, () => {
    after(() => tdb.cleanup());

    test('a committed change wakes the watchers of that session only; a rolled-back one wakes nobody', async () => {
      const db = await tdb.open();
      const events = new SessionEvents(db);
      const mine = wakes(events, 'session-a');
      const other = wakes(events, 'session-b');
      await Promise.all([mine.started, other.started]);
      await assert.rejects(
        db.transaction(async (tx) => {
          await announceSessionChange(tx, 'session-a');
          throw new Error('rolled back');
        }),
      );
      await db.transaction((tx) => announceSessionChange(tx, 'session-a'));
      await mine.reached(1);
      // A round trip after the commit: any notification for session-b would have arrived by now.
      await db.query('SELECT 1');
      assert.equal(mine.count(), 1);
      assert.equal(other.count(), 0);
    });

    test('stopping a watch stops its wake-ups', async () => {
      const db = await tdb.open();
      const events = new SessionEvents(db);
      let woken = 0;
      const stop = await events.watch('session-c', () => woken++);
      stop();
      const still = wakes(events, 'session-c');
      await still.started;
      await announceSessionChange(db, 'session-c');
      await still.reached(1);
      assert.equal(woken, 0);
    });

    if (tdb.name === 'postgres') {
      test('a change committed through another pool (another replica) wakes this one', async () => {
        await tdb.open();
        const replicaA: Db = openPostgres(tdb.url!, 2);
        const replicaB: Db = openPostgres(tdb.url!, 2);
        try {
          const seen = wakes(new SessionEvents(replicaA), 'session-d');
          await seen.started;
          await replicaB.transaction((tx) => announceSessionChange(tx, 'session-d'));
          await seen.reached(1);
        } finally {
          await replicaA.close();
          await replicaB.close();
        }
      });
    }
  });
}
