import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { TransactionOptions } from '#lib/projections/read-model.port.js';
import { openWrite } from '../testing/open-write.js';
import { createTempDir } from '../testing/temp-dir.js';
import { SqliteReadModelDb } from './sqlite-read-model-db.js';

/**
 * The read-model file's write path: rows written many at a time (`runMany`, from arrays or generated lazily), on the
 * writer connection or behind the caller on a writer thread, a transaction that commits or rolls back as a whole, and
 * the write-ahead log copied back into the file outside the writer's commits (by a thread of its own once
 * transactions grow large) without losing a row.
 */

const temp = createTempDir('sqlite-read-model-db');
afterAll(() => temp.remove());

/** The message a promise rejects with (SQLite's errors come from the native module: compared by message, not class). */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { message?: unknown }).message);
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

const walBytes = (path: string): number => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

describe('SqliteReadModelDb', () => {
  it.each<[string, TransactionOptions]>([
    ['on the writer connection', {}],
    ['behind the caller, on a writer thread', { writeBehind: true }],
  ])('writes %s: runMany from an array or a generator, reads that see the writes before them', async (_name, options) => {
    const db = SqliteReadModelDb.open({ path: temp.file(`run-many-${options.writeBehind === true ? 'behind' : 'direct'}.sqlite`) });
    try {
      await db.transaction(async (transaction) => {
        await transaction.run('CREATE TABLE items (id TEXT PRIMARY KEY, amount TEXT NOT NULL)');
      });
      const seen = await db.transaction(async (transaction) => {
        await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?)', [
          ['a', '1.00'],
          ['b', '2.00'],
        ]);
        function* rows() {
          for (let index = 0; index < 1500; index++) yield [`c${index}`, `${index}.50`];
        }
        await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET amount = excluded.amount', rows());
        await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?)', []);
        await transaction.run('UPDATE items SET amount = ? WHERE id = ?', ['1.50', 'a']);
        return transaction.all('SELECT id, amount FROM items WHERE id IN (?, ?, ?) ORDER BY id', ['a', 'b', 'c1499']);
      }, options);
      expect(seen).toEqual([
        { id: 'a', amount: '1.50' },
        { id: 'b', amount: '2.00' },
        { id: 'c1499', amount: '1499.50' },
      ]);
      expect(await db.read((reader) => reader.get('SELECT count(*) AS count FROM items'))).toEqual({ count: 1502 });

      // A failed write fails the transaction, at once or at its next read or commit, and nothing of it is kept.
      const duplicateInMany = await failureOf(
        db.transaction(async (transaction) => {
          await transaction.runMany('INSERT INTO items (id, amount) VALUES (?, ?)', [['d', '4.00'], ['a', 'duplicate']]);
          await transaction.get('SELECT count(*) AS count FROM items');
        }, options),
      );
      expect(duplicateInMany).toMatch(/UNIQUE/);
      const duplicateAtCommit = await failureOf(
        db.transaction(async (transaction) => {
          await transaction.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['e', '5.00']);
          await transaction.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['b', 'duplicate']);
        }, options),
      );
      expect(duplicateAtCommit).toMatch(/UNIQUE/);
      expect(await db.read((reader) => reader.all("SELECT id FROM items WHERE id IN ('d', 'e')"))).toEqual([]);

      // Either connection goes on from what the other committed.
      await db.transaction(async (transaction) => {
        await transaction.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['f', '6.00']);
      });
      await db.transaction(async (transaction) => {
        await transaction.run('UPDATE items SET amount = ? WHERE id = ?', ['6.50', 'f']);
      }, options);
      expect(await db.read((reader) => reader.get("SELECT amount FROM items WHERE id = 'f'"))).toEqual({ amount: '6.50' });
    } finally {
      await db.close();
    }
  });

  it('runs one SELECT outside a transaction (query): committed rows only, writes refused', async () => {
    const db = SqliteReadModelDb.open({ path: temp.file('query.sqlite') });
    try {
      await db.transaction(async (transaction) => {
        await transaction.run('CREATE TABLE items (id TEXT PRIMARY KEY, note TEXT)');
        await transaction.runMany('INSERT INTO items (id, note) VALUES (?, ?)', [
          ['a', null],
          ['b', null],
        ]);
      });
      const writing = await openWrite(db, 'UPDATE items SET note = ? WHERE id = ?', ['open', 'a']);
      const whileOpen = await db.query('SELECT id, note FROM items ORDER BY id').finally(() => writing.commit());
      expect(whileOpen).toEqual([
        { id: 'a', note: null },
        { id: 'b', note: null },
      ]);
      expect(await db.query('WITH picked AS (SELECT id, note FROM items WHERE id = ?) SELECT * FROM picked', ['a'])).toEqual([{ id: 'a', note: 'open' }]);
      expect(await failureOf(db.query("DELETE FROM items WHERE id = 'b'"))).toMatch(/runs one SELECT/);
      expect(await db.query('SELECT count(*) AS count FROM items')).toEqual([{ count: 2 }]);
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
