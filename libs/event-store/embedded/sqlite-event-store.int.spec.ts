import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from '@jest/globals';
import { describeEventStoreContract } from '../contract/event-store.contract.js';
import { ConcurrencyError, type NewEvent, type RecordedEvent, type Subscription } from '../event-store.port.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-event-store.js';
import { verifyChain } from './verify-chain.js';

const workDir = mkdtempSync(join(tmpdir(), 'sqlite-event-store-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function freshPath(): string {
  return join(workDir, `${randomUUID()}.sqlite`);
}

/**
 * Short event-loop turns are written on the calling thread, long ones by the writer thread; short catch-up reads
 * stay on the calling thread, long ones are read ahead by a reader thread: every test runs both ways
 * (`inlineTurnRows: 0` sends every turn to the writer thread, `catchUpThreadMinEvents: 0` every `readAllPages`
 * to a reader thread). On the calling thread a turn is committed in parts whose log syncs overlap the next part
 * (`inlineCommitRows: 1` makes every append a part of its own).
 */
const writePaths: [string, Partial<SqliteEventStoreOptions>][] = [
  ['written and read on the calling thread', {}],
  ['written by the writer thread, caught up by a reader thread', { inlineTurnRows: 0, catchUpThreadMinEvents: 0 }],
  ['written on the calling thread one append per commit, each acknowledged after its own log sync', { inlineCommitRows: 1 }],
];

describe.each(writePaths)('embedded SQLite, %s', (_, writePath) => {
  const open = (options: SqliteEventStoreOptions) => SqliteEventStore.open({ ...options, ...writePath });

  describeEventStoreContract('embedded SQLite', async () => {
    const store = open({ path: freshPath(), pollIntervalMs: 20 });
    return { store, dispose: () => store.close() };
  });

  describeSqliteEventStore(open, writePath);
});

function describeSqliteEventStore(open: (options: SqliteEventStoreOptions) => SqliteEventStore, writePath: Partial<SqliteEventStoreOptions>): void {
  describe('SqliteEventStore', () => {
    it('is durable: a reopened file holds every committed event, and its hash chain continues', async () => {
      const path = freshPath();
      const first = open({ path });
      await first.append('deal-1', [newEvent(), newEvent()], 'no_stream');
      await first.append('deal-2', [newEvent()], 'no_stream');
      await first.close();

      const reopened = open({ path });
      expect((await reopened.readAll()).map((event) => `${event.streamId}@${event.revision}`)).toEqual([
        'deal-1@0',
        'deal-1@1',
        'deal-2@0',
      ]);
      expect(await reopened.headPosition()).toBe(3);
      await expect(reopened.append('deal-1', [newEvent()], 0)).rejects.toMatchObject({ actualRevision: 1 });
      await reopened.append('deal-1', [newEvent()], 1);
      await reopened.close();

      expect(verifyChain(path)).toMatchObject({ ok: true, eventsChecked: 4 });
    });

    it('close() writes appends that were still queued', async () => {
      const path = freshPath();
      const store = open({ path });
      const appended = store.append('deal-1', [newEvent()], 'no_stream');
      await store.close();
      await expect(appended).resolves.toEqual({ nextExpectedRevision: 0, position: 1 });
      await expect(store.append('deal-1', [newEvent()], 0)).rejects.toThrow('closed');

      const reopened = open({ path });
      expect(await reopened.readStream('deal-1')).toHaveLength(1);
      await reopened.close();
    });

    it('group-commits the appends of one event-loop turn into one transaction, judging each on its own', async () => {
      let clockReadings = 0;
      const store = open({
        path: freshPath(),
        now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, clockReadings++)),
      });
      await store.append('deal-taken', [newEvent()], 'no_stream');
      clockReadings = 0;

      const appends = Array.from({ length: 50 }, (_, index) => store.append(`deal-${index}`, [newEvent()], 'no_stream'));
      // Two appends to one stream in one batch behave as if sequential: the second sees the first.
      const first = store.append('deal-seq', [newEvent()], 'no_stream');
      const second = store.append('deal-seq', [newEvent()], 0);
      const stale = store.append('deal-taken', [newEvent()], 'no_stream');
      const results = await Promise.allSettled([...appends, first, second, stale]);

      expect(clockReadings).toBe(1);
      expect(results.slice(0, 52).every((result) => result.status === 'fulfilled')).toBe(true);
      expect(results[52]).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
      const log = await store.readAll({ afterPosition: 1 });
      expect(log).toHaveLength(52);
      expect(new Set(log.map((event) => event.recordedAt))).toEqual(new Set(['2026-01-01T00:00:00.000Z']));
      expect(log.map((event) => event.position)).toEqual(Array.from({ length: 52 }, (_, index) => index + 2));
      await store.close();
    });

    it('a multi-event append rejected inside a batch leaves no partial events and no hole in the chain', async () => {
      const path = freshPath();
      const store = open({ path });
      const shared = newEvent();
      await store.append('deal-a', [shared], 'no_stream');
      const results = await Promise.allSettled([
        store.append('deal-b', [newEvent()], 'no_stream'),
        store.append('deal-c', [newEvent(), newEvent(), shared], 'no_stream'),
        store.append('deal-d', [newEvent()], 'no_stream'),
      ]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await store.readStream('deal-c')).toEqual([]);
      expect((await store.readAll()).map((event) => event.position)).toEqual([1, 2, 3]);
      await store.close();
      expect(verifyChain(path)).toMatchObject({ ok: true, eventsChecked: 3 });
    });

    it('records recordedAt from the injected clock', async () => {
      const store = open({ path: freshPath(), now: () => new Date('2026-02-03T04:05:06.789Z') });
      const event = newEvent();
      event.metadata.commandId = 'idem-key-1';
      await store.append('deal-1', [event], 'no_stream');
      const [recorded] = await store.readStream('deal-1');
      expect(recorded.recordedAt).toBe('2026-02-03T04:05:06.789Z');
      expect(recorded.metadata.commandId).toBe('idem-key-1');
      await store.close();
    });

    it('a storage failure fails its whole commit, and the store goes on from the last commit', async () => {
      // The two appends share one commit, unless every append is committed on its own.
      const oneCommit = writePath.inlineCommitRows !== 1;
      const path = freshPath();
      const store = open({ path });
      await store.append('deal-1', [newEvent()], 'no_stream');
      // Stands in for a disk error in the middle of a batch: another connection adds a failing trigger.
      const saboteur = new Database(path);
      saboteur.exec(
        `CREATE TRIGGER fail_marked_inserts BEFORE INSERT ON events WHEN NEW.data LIKE '%fail-this-insert%'
         BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END`,
      );
      const failing = { ...newEvent(), data: { note: 'fail-this-insert' } };
      const results = await Promise.allSettled([
        store.append('deal-1', [newEvent(), newEvent()], 0),
        store.append('deal-2', [failing], 'no_stream'),
      ]);
      expect(results.map((result) => result.status)).toEqual([oneCommit ? 'rejected' : 'fulfilled', 'rejected']);
      saboteur.exec('DROP TRIGGER fail_marked_inserts');
      saboteur.close();

      const deal1Events = oneCommit ? 1 : 3;
      expect(await store.readStream('deal-1')).toHaveLength(deal1Events);
      await expect(store.append('deal-1', [newEvent()], deal1Events - 1)).resolves.toEqual({
        nextExpectedRevision: deal1Events,
        position: deal1Events + 1,
      });
      await store.append('deal-2', [newEvent()], 'no_stream');
      await store.close();
      expect(verifyChain(path)).toMatchObject({ ok: true, eventsChecked: deal1Events + 2 });
    });

    it('after a failed commit, appends decided after it are judged again as if it never happened', async () => {
      const path = freshPath();
      const store = open({ path, busyTimeoutMs: 200 });
      await store.append('deal-0', [newEvent()], 'no_stream');
      // Another process holds the write lock until the first commit has given up waiting for it.
      const lockHolder = new Database(path);
      lockHolder.exec('BEGIN IMMEDIATE');
      const failing = store.append('deal-1', [newEvent()], 'no_stream');
      void failing.catch(() => lockHolder.exec('ROLLBACK'));
      // Later turns, decided while the failing commit may still be waiting: they assume it succeeds.
      await new Promise((resolve) => setImmediate(resolve));
      const assumesFirst = store.append('deal-1', [newEvent()], 0);
      const independent = store.append('deal-2', [newEvent(), newEvent()], 'no_stream');
      const results = await Promise.allSettled([failing, assumesFirst, independent]);
      lockHolder.close();

      expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_BUSY' } });
      expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
      expect(results[1]).toMatchObject({ reason: { expectedRevision: 0, actualRevision: -1 } });
      expect(results[2]).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 1, position: 3 } });
      expect((await store.readAll()).map((event) => `${event.streamId}@${event.revision}`)).toEqual(['deal-0@0', 'deal-2@0', 'deal-2@1']);
      await expect(store.append('deal-1', [newEvent()], 'no_stream')).resolves.toEqual({ nextExpectedRevision: 0, position: 4 });
      await store.close();
      expect(verifyChain(path)).toMatchObject({ ok: true, eventsChecked: 4 });
    });

    it('an empty append only checks the expected revision', async () => {
      const store = open({ path: freshPath() });
      await expect(store.append('deal-1', [], 'no_stream')).resolves.toEqual({ nextExpectedRevision: -1, position: 0 });
      const written = await store.append('deal-1', [newEvent()], 'no_stream');
      await expect(store.append('deal-1', [], 0)).resolves.toEqual({ nextExpectedRevision: 0, position: written.position });
      await expect(store.append('deal-1', [], 'no_stream')).rejects.toBeInstanceOf(ConcurrencyError);
      await store.close();
    });

    it('rejects malformed appends before they reach the file', async () => {
      const store = open({ path: freshPath() });
      await expect(store.append('', [newEvent()], 'any')).rejects.toThrow('streamId');
      await expect(store.append('deal-1', [newEvent()], -1)).rejects.toThrow('expectedRevision');
      await expect(store.append('deal-1', [{ ...newEvent(), schemaVersion: 0 }], 'any')).rejects.toThrow('schemaVersion');
      expect(await store.headPosition()).toBe(0);
      await store.close();
    });

    describe('two instances on one file (two processes, as far as SQLite can tell)', () => {
      it("a second instance's polling subscription sees the first instance's events", async () => {
        const path = freshPath();
        const writer = open({ path });
        const reader = open({ path, pollIntervalMs: 10 });
        await writer.append('deal-1', [newEvent()], 'no_stream');
        const subscription = reader.subscribeToAll();
        const firstBatch = await take(subscription, 1);
        expect(firstBatch[0].streamId).toBe('deal-1');

        const next = take(subscription, 2);
        await writer.append('deal-2', [newEvent(), newEvent()], 'no_stream');
        expect((await next).map((event) => `${event.streamId}@${event.revision}`)).toEqual(['deal-2@0', 'deal-2@1']);
        await subscription.stop();
        await reader.close();
        await writer.close();
      });

      it('both can write: each sees the other’s revisions and the hash chain stays whole', async () => {
        const path = freshPath();
        const left = open({ path });
        const right = open({ path });
        await left.append('deal-1', [newEvent()], 'no_stream');
        await expect(right.append('deal-1', [newEvent()], 'no_stream')).rejects.toMatchObject({ actualRevision: 0 });
        await right.append('deal-1', [newEvent()], 0);
        await left.append('deal-2', [newEvent()], 'no_stream');
        await expect(left.append('deal-1', [newEvent()], 0)).rejects.toMatchObject({ actualRevision: 1 });
        await left.append('deal-1', [newEvent()], 1);
        await Promise.all([left.append('deal-3', [newEvent()], 'any'), right.append('deal-3', [newEvent()], 'any')]);

        expect((await right.readStream('deal-1')).map((event) => event.revision)).toEqual([0, 1, 2]);
        expect((await left.readAll()).map((event) => event.position)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(verifyChain(path)).toMatchObject({ ok: true, eventsChecked: 6 });
        await left.close();
        await right.close();
      });
    });
  });
}

function newEvent(): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'DealClosedWon',
    schemaVersion: 1,
    data: { dealId: randomUUID(), amount: '2500.00', currency: 'USD' },
    metadata: {
      actor: { id: 'user-1', role: 'analyst' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: null,
      occurredAt: '2026-01-15T10:00:00.000Z',
    },
  };
}

async function take(subscription: Subscription, count: number): Promise<RecordedEvent[]> {
  const iterator = subscription[Symbol.asyncIterator]();
  const received: RecordedEvent[] = [];
  while (received.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error(`Subscription ended after ${received.length} of ${count} events`);
    received.push(next.value);
  }
  return received;
}
