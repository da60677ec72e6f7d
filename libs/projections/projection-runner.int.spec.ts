import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { NewEvent, RecordedEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import type { Projection } from './projection.js';
import {
  ProjectionFailedError,
  ProjectionRunner,
  ProjectionRunnerStoppedError,
  ProjectionWaitTimeoutError,
  readCheckpoints,
} from './projection-runner.js';

/**
 * The runner's promises: each event is applied exactly once, in order, with the checkpoint written in the
 * same transaction; a failing event writes nothing and stops the runner; waits resolve on checkpoints.
 * The test projection records each applied event under a primary key on its position, so applying an event
 * twice would fail loudly rather than go unnoticed.
 */

const temp = createTempDir('projection-runner');
afterAll(() => temp.remove());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function open() {
  const name = randomUUID();
  const store = SqliteEventStore.open({ path: temp.file(`${name}.events.sqlite`), pollIntervalMs: 10 });
  const db = SqliteReadModelDb.open({ path: temp.file(`${name}.read.sqlite`) });
  cleanups.push(async () => {
    await db.close();
    await store.close();
  });
  return { store, db };
}

function event(type = 'Noted', data: unknown = {}): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    metadata: { actor: { id: 'a', role: 'analyst' }, correlationId: 'c', causationId: null, commandId: null, occurredAt: '2026-01-01T00:00:00.000Z' },
  };
}

/** Records the events it sees; throws on an event whose data says { poison: true } while `poisonArmed` holds. */
function recordingProjection(name = 'recording', options: { prefix?: string } = {}) {
  const control = { poisonArmed: true, applied: 0 };
  const projection: Projection = {
    name,
    filter: options.prefix ? { streamPrefixes: [options.prefix] } : undefined,
    tables: [`${name}_events`],
    async setup(transaction) {
      await transaction.run(`CREATE TABLE IF NOT EXISTS ${name}_events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, type TEXT NOT NULL)`);
    },
    async reset(transaction) {
      await transaction.run(`DROP TABLE IF EXISTS ${name}_events`);
    },
    async apply(recorded: RecordedEvent, transaction) {
      await transaction.run(`INSERT INTO ${name}_events (position, stream_id, type) VALUES (?, ?, ?)`, [recorded.position, recorded.streamId, recorded.type]);
      if (control.poisonArmed && (recorded.data as { poison?: boolean }).poison) throw new Error('poisoned event');
      control.applied++;
    },
  };
  return { projection, control };
}

async function positionsIn(db: SqliteReadModelDb, table: string): Promise<number[]> {
  const rows = await db.read((reader) => reader.all<{ position: number }>(`SELECT position FROM ${table} ORDER BY position`));
  return rows.map((row) => row.position);
}

describe('ProjectionRunner', () => {
  it('applies history and then live events, and waits by position', async () => {
    const { store, db } = open();
    for (let index = 0; index < 5; index++) await store.append(`s-${index}`, [event(), event()], 'no_stream');
    const { projection } = recordingProjection();
    const runner = new ProjectionRunner(store, db, [projection], { batchSize: 3 });
    cleanups.unshift(() => runner.stop());
    await runner.start();
    await runner.caughtUp();
    expect(await positionsIn(db, 'recording_events')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const appended = await store.append('s-live', [event()], 'no_stream');
    await runner.waitForPosition(appended.position);
    expect(await positionsIn(db, 'recording_events')).toContain(appended.position);
    expect(runner.position).toBe(appended.position);
    expect(await db.read(readCheckpoints)).toEqual(new Map([['recording', appended.position]]));
  });

  it('resumes from its stored checkpoint after a stop, applying nothing twice and skipping nothing', async () => {
    const { store, db } = open();
    await store.append('s-1', [event(), event(), event()], 'no_stream');
    const first = recordingProjection();
    const runner = new ProjectionRunner(store, db, [first.projection]);
    await runner.start();
    await runner.caughtUp();
    await runner.stop();

    await store.append('s-2', [event(), event()], 'no_stream');
    const second = recordingProjection();
    const restarted = new ProjectionRunner(store, db, [second.projection]);
    cleanups.unshift(() => restarted.stop());
    await restarted.start();
    await restarted.caughtUp();
    expect(second.control.applied).toBe(2);
    expect(await positionsIn(db, 'recording_events')).toEqual([1, 2, 3, 4, 5]);
  });

  it('moves a filtered projection past events it does not want, so waits on any position resolve', async () => {
    const { store, db } = open();
    await store.append('deal-1', [event()], 'no_stream');
    const last = await store.append('other-1', [event()], 'no_stream');
    const { projection } = recordingProjection('deals_only', { prefix: 'deal-' });
    const runner = new ProjectionRunner(store, db, [projection]);
    cleanups.unshift(() => runner.stop());
    await runner.start();
    await runner.waitForPosition(last.position);
    expect(await positionsIn(db, 'deals_only_events')).toEqual([1]);
    expect(runner.checkpointsByProjection()).toEqual({ deals_only: last.position });
  });

  it('writes nothing of a batch whose event fails, stops, and resumes at that event once fixed', async () => {
    const { store, db } = open();
    await store.append('s-1', [event(), event('Noted', { poison: true }), event()], 'no_stream');
    const { projection, control } = recordingProjection();
    const failures: ProjectionFailedError[] = [];
    const runner = new ProjectionRunner(store, db, [projection], { onError: (error) => failures.push(error) });
    cleanups.unshift(() => runner.stop());
    await runner.start();
    const waiting = runner.waitForPosition(3);
    await expect(waiting).rejects.toBeInstanceOf(ProjectionFailedError);
    expect(runner.status).toBe('failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ projectionName: 'recording', eventPosition: 2, eventType: 'Noted' });

    // The batch held all three events: none of them was written, and the checkpoint did not move.
    expect(await positionsIn(db, 'recording_events')).toEqual([]);
    expect(await db.read(readCheckpoints)).toEqual(new Map([['recording', 0]]));

    control.poisonArmed = false;
    await runner.start();
    await runner.waitForPosition(3);
    expect(await positionsIn(db, 'recording_events')).toEqual([1, 2, 3]);
  });

  it('rejects a wait that times out, and waits still pending when it stops', async () => {
    const { store, db } = open();
    await store.append('s-1', [event()], 'no_stream');
    const { projection } = recordingProjection();
    const runner = new ProjectionRunner(store, db, [projection]);
    await runner.start();
    await runner.caughtUp();
    await expect(runner.waitForPosition(99, { timeoutMs: 20 })).rejects.toBeInstanceOf(ProjectionWaitTimeoutError);
    const pending = runner.waitForPosition(99);
    await runner.stop();
    await expect(pending).rejects.toBeInstanceOf(ProjectionRunnerStoppedError);
    await expect(runner.waitForPosition(1)).resolves.toBeUndefined();
  });

  it('rebuilds from position 0 to the same rows, and a projection added later catches up on its own', async () => {
    const { store, db } = open();
    for (let index = 0; index < 20; index++) await store.append(`s-${index}`, [event()], 'no_stream');
    const { projection } = recordingProjection();
    const runner = new ProjectionRunner(store, db, [projection], { batchSize: 7 });
    await runner.start();
    await runner.caughtUp();
    const before = await positionsIn(db, 'recording_events');
    await runner.rebuild();
    expect(runner.status).toBe('running');
    expect(await positionsIn(db, 'recording_events')).toEqual(before);
    await runner.stop();

    const later = recordingProjection('later');
    const both = new ProjectionRunner(store, db, [projection, later.projection]);
    cleanups.unshift(() => both.stop());
    await both.start();
    await both.caughtUp();
    expect(later.control.applied).toBe(20);
    expect(await positionsIn(db, 'later_events')).toEqual(before);
  });

  it('resets and replays a projection whose table layout version changed, and only that one', async () => {
    const { store, db } = open();
    await store.append('s-1', [event(), event()], 'no_stream');
    const kept = recordingProjection('kept');
    const changing = recordingProjection('changing');
    const first = new ProjectionRunner(store, db, [kept.projection, changing.projection]);
    await first.start();
    await first.caughtUp();
    await first.stop();
    // A row the new layout would not have written: it must not survive.
    await db.transaction((transaction) => transaction.run('INSERT INTO changing_events (position, stream_id, type) VALUES (99, ?, ?)', ['stale', 'Stale']));

    const changed = recordingProjection('changing');
    const second = new ProjectionRunner(store, db, [kept.projection, { ...changed.projection, version: 2 }]);
    cleanups.unshift(() => second.stop());
    await second.start();
    await second.caughtUp();
    expect(await positionsIn(db, 'changing_events')).toEqual([1, 2]);
    expect(changed.control.applied).toBe(2);
    expect(kept.control.applied).toBe(2);
  });

  it('rebuild() on a stopped runner replays and leaves it stopped', async () => {
    const { store, db } = open();
    await store.append('s-1', [event(), event()], 'no_stream');
    const { projection, control } = recordingProjection();
    const runner = new ProjectionRunner(store, db, [projection]);
    await runner.rebuild();
    expect(runner.status).toBe('stopped');
    expect(control.applied).toBe(2);
    await runner.rebuild();
    expect(control.applied).toBe(4);
    expect(await positionsIn(db, 'recording_events')).toEqual([1, 2]);
  });
});

describe('SqliteReadModelDb', () => {
  it('keeps a transaction that is still open invisible to reads, and rolls back a failed one', async () => {
    const { db } = open();
    await db.transaction((transaction) => transaction.run('CREATE TABLE t (id INTEGER PRIMARY KEY)').then(() => undefined));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const writing = db.transaction(async (transaction) => {
      await transaction.run('INSERT INTO t (id) VALUES (1)');
      await held;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await db.read((reader) => reader.all('SELECT id FROM t'))).toEqual([]);
    release();
    await writing;
    expect(await db.read((reader) => reader.all('SELECT id FROM t'))).toEqual([{ id: 1 }]);

    await expect(
      db.transaction(async (transaction) => {
        await transaction.run('INSERT INTO t (id) VALUES (2)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.read((reader) => reader.all('SELECT id FROM t'))).toEqual([{ id: 1 }]);
  });

  it('refuses a transaction object used after its transaction ended', async () => {
    const { db } = open();
    let leaked: { run(sql: string): Promise<unknown> } | undefined;
    await db.transaction(async (transaction) => {
      leaked = transaction;
    });
    await expect(leaked!.run('CREATE TABLE x (id INTEGER)')).rejects.toThrow('already ended');
  });
});
