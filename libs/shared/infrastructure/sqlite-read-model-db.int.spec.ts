import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createTempDir } from '../testing/temp-dir.js';
import { SqliteReadModelDb } from './sqlite-read-model-db.js';

/**
 * The read-model file's write path: rows written many at a time (`runMany`, from arrays or generated lazily), a
 * transaction that commits or rolls back as a whole, and the write-ahead log copied back into the file outside the
 * writer's commits (by a thread of its own once transactions grow large) without losing a row.
 */

const temp = createTempDir('sqlite-read-model-db');
afterAll(() => temp.remove());

const walBytes = (path: string): number => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

describe('SqliteReadModelDb', () => {
  it('runs one statement per row with runMany, from an array or a generator, and counts the rows changed', async () => {
    const db = SqliteReadModelDb.open({ path: temp.file('run-many.sqlite') });
    try {
      const changed = await db.transaction(async (transaction) => {
        await transaction.run('CREATE TABLE items (id TEXT PRIMARY KEY, amount TEXT NOT NULL)');
        const fromArray = await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?)', [
          ['a', '1.00'],
          ['b', '2.00'],
        ]);
        function* rows() {
          for (let index = 0; index < 3; index++) yield [`c${index}`, `${index}.50`];
        }
        const fromGenerator = await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET amount = excluded.amount', rows());
        const none = await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?)', []);
        return [fromArray.changes, fromGenerator.changes, none.changes];
      });
      expect(changed).toEqual([2, 3, 0]);
      expect(await db.read((reader) => reader.all('SELECT id, amount FROM items ORDER BY id'))).toEqual([
        { id: 'a', amount: '1.00' },
        { id: 'b', amount: '2.00' },
        { id: 'c0', amount: '0.50' },
        { id: 'c1', amount: '1.50' },
        { id: 'c2', amount: '2.50' },
      ]);
      await expect(
        db.transaction(async (transaction) => {
          await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?)', [['d', '4.00'], ['a', 'duplicate']]);
        }),
      ).rejects.toThrow(/UNIQUE/);
      expect(await db.read((reader) => reader.get('SELECT count(*) AS count FROM items'))).toEqual({ count: 5 });
    } finally {
      await db.close();
    }
  });

  it('copies the log of large transactions back into the file outside the commits, and keeps every row', async () => {
    const path = temp.file('checkpoints.sqlite');
    const db = SqliteReadModelDb.open({ path });
    await db.transaction(async (transaction) => {
      await transaction.run('CREATE TABLE lines (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    });
    const text = 'x'.repeat(400);
    for (let batch = 0; batch < 5; batch++) {
      await db.transaction(async (transaction) => {
        function* rows() {
          for (let index = 0; index < 3000; index++) yield [batch * 3000 + index, text];
        }
        await transaction.runMany('INSERT INTO lines (id, text) VALUES (?, ?)', rows());
      });
    }
    expect(await db.read((reader) => reader.get('SELECT count(*) AS count FROM lines'))).toEqual({ count: 15_000 });
    expect(walBytes(path)).toBeGreaterThan(0);
    await db.close();

    // Closed: the log is in the file, and another connection reads every row from it.
    expect(walBytes(path)).toBe(0);
    const reopened = new Database(path, { readonly: true });
    try {
      expect(reopened.prepare('SELECT count(*) AS count, sum(length(text)) AS bytes FROM lines').get()).toEqual({ count: 15_000, bytes: 15_000 * 400 });
    } finally {
      reopened.close();
    }
  });

  it('checkpoints small commits itself, so the log does not grow without bound', async () => {
    const path = temp.file('small-commits.sqlite');
    const db = SqliteReadModelDb.open({ path });
    try {
      await db.transaction(async (transaction) => {
        await transaction.run('CREATE TABLE events (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
      });
      const text = 'y'.repeat(200);
      let largestLog = 0;
      for (let commit = 0; commit < 400; commit++) {
        await db.transaction(async (transaction) => {
          await transaction.runMany('INSERT INTO events (id, text) VALUES (?, ?)', Array.from({ length: 50 }, (_, index) => [commit * 50 + index, text]));
        });
        largestLog = Math.max(largestLog, walBytes(path));
      }
      expect(await db.read((reader) => reader.get('SELECT count(*) AS count FROM events'))).toEqual({ count: 20_000 });
      // 20,000 rows of about 200 bytes: the log is reused after each checkpoint, so it stays well under that.
      expect(largestLog).toBeLessThan(20_000 * 200);
    } finally {
      await db.close();
    }
  });
});
