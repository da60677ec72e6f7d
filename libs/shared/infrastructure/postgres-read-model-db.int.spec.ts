import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { TransactionOptions } from '#lib/projections/read-model.port.js';
import { openWrite } from '../testing/open-write.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../../../test/support/postgres/postgres-test-db.js';
import { readModelMigrations } from './postgres-migrations.js';
import { PostgresReadModelDb } from './postgres-read-model-db.js';
import { numberPlaceholders, toPostgres } from './postgres-sql.js';

/**
 * The PostgreSQL adapter of the read-model port against a real server: the same SQL text as the SQLite adapter,
 * transactions that commit or roll back whole, reads on one committed snapshot, rows written many at a time with the
 * row-by-row result, and migrations that run once.
 */

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { message?: unknown }).message);
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

describe('placeholders', () => {
  it('numbers ? outside literals, quoted identifiers and comments', () => {
    expect(numberPlaceholders(`SELECT '?', "a?b", ? -- why?\n, ? /* ? */ FROM t WHERE x = 'it''s ?' AND y = ?`)).toEqual({
      text: `SELECT '?', "a?b", $1 -- why?\n, $2 /* ? */ FROM t WHERE x = 'it''s ?' AND y = $3`,
      parameterCount: 3,
    });
  });

  it('writes SQLite integer columns as BIGINT and drops WITHOUT ROWID, in CREATE TABLE only', () => {
    expect(toPostgres("CREATE TABLE t (a INTEGER NOT NULL, b TEXT DEFAULT 'INTEGER', PRIMARY KEY (a)) WITHOUT ROWID").text).toBe(
      "CREATE TABLE t (a BIGINT NOT NULL, b TEXT DEFAULT 'INTEGER', PRIMARY KEY (a))",
    );
    expect(toPostgres('SELECT CAST(a AS INTEGER) FROM t').text).toBe('SELECT CAST(a AS INTEGER) FROM t');
  });
});

describeWithPostgres('PostgresReadModelDb', () => {
  let database: TestDatabase;
  let db: PostgresReadModelDb;

  beforeAll(async () => {
    database = await createTestDatabase('read_model_db');
    db = await PostgresReadModelDb.open({ connectionString: database.url });
    await db.transaction(async (transaction) => {
      await transaction.run('CREATE TABLE items (id TEXT PRIMARY KEY, amount TEXT NOT NULL, position INTEGER NOT NULL, note TEXT) WITHOUT ROWID');
      await transaction.runMany('INSERT INTO items (id, amount, position) VALUES (?, ?, ?)', [
        ['a', '1.00', 1],
        ['b', '2.00', 2],
      ]);
    });
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('commits a transaction whole: runMany from arrays and generators, reads that see the writes before them', async () => {
    await checkWrites('', {});
  });

  it('does the same with the writes sent behind the caller (a catch-up)', async () => {
    await checkWrites('behind-', { writeBehind: true });
  });

  async function checkWrites(prefix: string, options: TransactionOptions): Promise<void> {
    const table = `items_${prefix.replace('-', '')}x`;
    await db.transaction((transaction) => transaction.run(`CREATE TABLE ${table} (id TEXT PRIMARY KEY, amount TEXT NOT NULL, position INTEGER NOT NULL)`));
    const seen = await db.transaction(async (transaction) => {
      await transaction.runMany(`INSERT INTO ${table} (id, amount, position) VALUES (?, ?, ?)`, [
        ['a', '1.00', 1],
        ['b', '2.00', 2],
      ]);
      // Rows of one INSERT over many calls, one at a time and in thousands: a write-behind session gathers them.
      for (let index = 0; index < 300; index++) await transaction.runMany(`INSERT INTO ${table} (id, amount, position) VALUES (?, ?, ?)`, [[`d${index}`, '0', index]]);
      function* rows() {
        for (let index = 0; index < 5000; index++) yield [`c${String(index).padStart(4, '0')}`, `${index}.50`, 3_000_000_000 + index];
      }
      await transaction.runMany(`INSERT INTO ${table} (id, amount, position) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET amount = excluded.amount`, rows());
      await transaction.runMany(`INSERT INTO ${table} (id, amount, position) VALUES (?, ?, ?)`, []);
      await transaction.run(`UPDATE ${table} SET amount = ? WHERE id = ?`, ['1.50', 'a']);
      return transaction.all(`SELECT id, amount, position FROM ${table} WHERE id IN (?, ?, ?) ORDER BY id`, ['a', 'b', 'c4999']);
    }, options);
    // Positions beyond 32 bits come back as numbers, money as the decimal text it was written as.
    expect(seen).toEqual([
      { id: 'a', amount: '1.50', position: 1 },
      { id: 'b', amount: '2.00', position: 2 },
      { id: 'c4999', amount: '4999.50', position: 3_000_004_999 },
    ]);
    expect(await db.read((reader) => reader.get(`SELECT count(*) AS count, sum(position) > 0 AS positive FROM ${table}`))).toEqual({ count: 5302, positive: 1 });

    // A failed write fails the transaction, at once or at its next read or commit, and nothing of it is kept.
    expect(
      await failureOf(
        db.transaction(async (transaction) => {
          await transaction.runMany(`INSERT INTO ${table} (id, amount, position) VALUES (?, ?, ?)`, [['e1', '1', 1], ['a', '1', 1]]);
          await transaction.run(`UPDATE ${table} SET amount = '9' WHERE id = 'b'`);
          await transaction.all(`SELECT id FROM ${table}`);
        }, options),
      ),
    ).toMatch(/duplicate key/);
    expect(
      await failureOf(
        db.transaction(async (transaction) => {
          await transaction.runMany(`INSERT INTO ${table} (id, amount, position) VALUES (?, ?, ?)`, [['e2', '1', 1], ['b', '1', 1]]);
        }, options),
      ),
    ).toMatch(/duplicate key/);
    expect(await db.read((reader) => reader.all(`SELECT id, amount FROM ${table} WHERE id IN ('e1', 'e2', 'b')`))).toEqual([{ id: 'b', amount: '2.00' }]);
  }

  it('gives runMany the row-by-row result when a key repeats: DO NOTHING keeps the first, DO UPDATE the last of the updated columns', async () => {
    await db.transaction(async (transaction) => {
      await transaction.runMany('INSERT INTO items (id, amount, position, note) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [
        ['k1', '1', 10, 'first'],
        ['k2', '2', 11, 'only'],
        ['k1', '9', 12, 'second'],
      ]);
      await transaction.runMany('INSERT INTO items (id, amount, position, note) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET amount = excluded.amount', [
        ['k3', '3', 13, 'first'],
        ['k3', '4', 14, 'second'],
        ['k2', '5', 15, 'ignored'],
      ]);
      // Not a form the adapter merges: runs row by row.
      await transaction.runMany('INSERT INTO items (id, amount, position) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET position = items.position + excluded.position', [
        ['k4', '0', 1],
        ['k4', '0', 2],
      ]);
    });
    const rows = await db.read((reader) => reader.all("SELECT id, amount, position, note FROM items WHERE id LIKE 'k%' ORDER BY id"));
    // The same rows sent behind the caller, gathered over calls, give the same result.
    await db.transaction(async (transaction) => {
      await transaction.runMany('INSERT INTO items (id, amount, position, note) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [['m1', '1', 10, 'first']]);
      await transaction.runMany('INSERT INTO items (id, amount, position, note) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [['m1', '9', 12, 'second']]);
    }, { writeBehind: true });
    expect(await db.read((reader) => reader.all("SELECT note FROM items WHERE id = 'm1'"))).toEqual([{ note: 'first' }]);
    expect(rows).toEqual([
      { id: 'k1', amount: '1', position: 10, note: 'first' },
      { id: 'k2', amount: '5', position: 11, note: 'only' },
      { id: 'k3', amount: '4', position: 13, note: 'first' },
      { id: 'k4', amount: '0', position: 3, note: null },
    ]);
  });

  it('rolls back everything when the work throws, or when a statement fails', async () => {
    const before = await db.read((reader) => reader.get<{ count: number }>('SELECT count(*) AS count FROM items'));
    expect(
      await failureOf(
        db.transaction(async (transaction) => {
          await transaction.run('INSERT INTO items (id, amount, position) VALUES (?, ?, ?)', ['gone', '1', 1]);
          throw new Error('changed my mind');
        }),
      ),
    ).toBe('changed my mind');
    expect(
      await failureOf(
        db.transaction(async (transaction) => {
          await transaction.run('INSERT INTO items (id, amount, position) VALUES (?, ?, ?)', ['gone-too', '1', 1]);
          await transaction.run('INSERT INTO items (id, amount, position) VALUES (?, ?, ?)', ['a', '1', 1]);
        }),
      ),
    ).toMatch(/duplicate key/);
    expect(await db.read((reader) => reader.get('SELECT count(*) AS count FROM items'))).toEqual(before);
    expect(await db.read((reader) => reader.all("SELECT id FROM items WHERE id LIKE 'gone%'"))).toEqual([]);
    // And the writer goes on afterwards.
    await db.transaction((transaction) => transaction.run('UPDATE items SET note = ? WHERE id = ?', ['after', 'a']));
    expect(await db.read((reader) => reader.get('SELECT note FROM items WHERE id = ?', ['a']))).toEqual({ note: 'after' });
  });

  it('refuses a transaction object once its transaction has ended', async () => {
    let escaped: { run(sql: string): Promise<void> } | null = null;
    await db.transaction(async (transaction) => {
      escaped = transaction;
    });
    expect(await failureOf(escaped!.run("UPDATE items SET note = 'late'"))).toMatch(/already ended/);
  });

  it('reads one committed snapshot: a write committed during a read is not seen by it, an open write never', async () => {
    const writing = await openWrite(db, 'UPDATE items SET amount = ? WHERE id = ?', ['777', 'b']);
    const during = await db.read(async (reader) => {
      const first = await reader.get<{ amount: string }>('SELECT amount FROM items WHERE id = ?', ['b']);
      await writing.commit();
      const second = await reader.get<{ amount: string }>('SELECT amount FROM items WHERE id = ?', ['b']);
      return [first?.amount, second?.amount];
    });
    expect(during).toEqual(['2.00', '2.00']);
    expect(await db.read((reader) => reader.get('SELECT amount FROM items WHERE id = ?', ['b']))).toEqual({ amount: '777' });
  });

  it('runs one SELECT outside a transaction (query): committed rows only, server errors answered, writes refused', async () => {
    await db.transaction((transaction) => transaction.runMany('INSERT INTO items (id, amount, position) VALUES (?, ?, ?)', [['q1', '0', 0], ['q2', '0', 0]]));
    const writing = await openWrite(db, 'UPDATE items SET note = ? WHERE id = ?', ['open', 'q1']);
    // A reader does not wait for an open writer: it sees the rows as last committed.
    const whileOpen = await db.query('SELECT id, note FROM items WHERE id IN (?, ?) ORDER BY id', ['q1', 'q2']).finally(() => writing.commit());
    expect(whileOpen).toEqual([
      { id: 'q1', note: null },
      { id: 'q2', note: null },
    ]);
    expect(await db.query('WITH picked AS (SELECT id, note FROM items WHERE id = ?) SELECT * FROM picked', ['q1'])).toEqual([{ id: 'q1', note: 'open' }]);
    expect(await failureOf(db.query('SELECT no_such_column FROM items'))).toMatch(/no_such_column/);
    // The pooled session that answered the error still serves.
    expect(await db.query('SELECT count(*) AS count FROM items')).toEqual([{ count: expect.any(Number) }]);
    expect(await failureOf(db.query("UPDATE items SET note = 'x' WHERE id = 'q2'"))).toMatch(/runs one SELECT/);
    expect(await db.query('SELECT note FROM items WHERE id = ?', ['q2'])).toEqual([{ note: null }]);
  });

  it('orders text keys byte by byte, as SQLite does', async () => {
    await db.transaction((transaction) =>
      transaction.runMany('INSERT INTO items (id, amount, position) VALUES (?, ?, ?)', [['z-B', '0', 0], ['z-a', '0', 0], ['z-_', '0', 0], ['z-É', '0', 0], ['z-Z', '0', 0]]),
    );
    const ids = await db.read((reader) => reader.all<{ id: string }>("SELECT id FROM items WHERE id LIKE 'z-%' ORDER BY id"));
    expect(ids.map((row) => row.id)).toEqual(['z-B', 'z-Z', 'z-_', 'z-a', 'z-É']);
  });
});

describeWithPostgres('the projector lease on PostgreSQL', () => {
  it('has one holder; the other cannot write; when the holder\'s session ends, the other takes it', async () => {
    const database = await createTestDatabase('lease');
    const first = await PostgresReadModelDb.open({ connectionString: database.url });
    const second = await PostgresReadModelDb.open({ connectionString: database.url });
    try {
      const firstLease = first.projectorLease({ holder: 'first' });
      const secondLease = second.projectorLease({ holder: 'second' });
      expect(await firstLease.tryAcquire()).toBe(true);
      expect(await secondLease.tryAcquire()).toBe(false);
      expect(await second.leaseHolder()).toBe('first');
      await first.transaction((transaction) => transaction.run('CREATE TABLE written (by TEXT)'));
      expect(await failureOf(second.transaction((transaction) => transaction.run("INSERT INTO written VALUES ('second')")))).toMatch(/does not hold the projector lease/);

      // The holder's session is ended from outside (as a killed process's is): the lease goes with it.
      let lost = false;
      firstLease.onLost(() => (lost = true));
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 1280114690");
      await admin.end();
      for (let attempt = 0; attempt < 100 && !lost; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(lost).toBe(true);
      expect(firstLease.held).toBe(false);
      expect(await failureOf(first.transaction((transaction) => transaction.run("INSERT INTO written VALUES ('first')")))).toMatch(/projector lease/);

      expect(await secondLease.tryAcquire()).toBe(true);
      await second.transaction((transaction) => transaction.run("INSERT INTO written VALUES ('second')"));
      expect(await first.read((reader) => reader.all('SELECT by FROM written'))).toEqual([{ by: 'second' }]);
      expect(await firstLease.tryAcquire()).toBe(false);
      await secondLease.release();
      expect(await firstLease.tryAcquire()).toBe(true);
    } finally {
      await first.close();
      await second.close();
      await database.drop();
    }
  });
});

describeWithPostgres('read-model migrations', () => {
  const applied = async (url: string): Promise<{ version: number; name: string }[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query('SELECT version::int AS version, name FROM schema_migrations ORDER BY version')).rows;
    } finally {
      await client.end();
    }
  };

  it('migrates a fresh database to the latest version, and a second start applies nothing', async () => {
    const database = await createTestDatabase('migrations_fresh');
    try {
      const first = await PostgresReadModelDb.open({ connectionString: database.url });
      expect(first.migrationResult).toEqual({ applied: readModelMigrations.map((m) => m.version), version: readModelMigrations.at(-1)!.version });
      await first.close();
      const again = await PostgresReadModelDb.open({ connectionString: database.url });
      expect(again.migrationResult).toEqual({ applied: [], version: readModelMigrations.at(-1)!.version });
      await again.close();
      expect(await applied(database.url)).toEqual(readModelMigrations.map(({ version, name }) => ({ version, name })));
    } finally {
      await database.drop();
    }
  });

  it('upgrades a database of the previous version, keeping its data', async () => {
    const database = await createTestDatabase('migrations_upgrade');
    try {
      const previous = await PostgresReadModelDb.open({ connectionString: database.url, migrations: readModelMigrations.slice(0, -1) });
      await previous.transaction((transaction) =>
        transaction.run('INSERT INTO projection_state (projection_name, position, layout_version) VALUES (?, ?, ?)', ['kept', 42, 1]),
      );
      await previous.close();
      const current = await PostgresReadModelDb.open({ connectionString: database.url });
      expect(current.migrationResult).toEqual({ applied: [readModelMigrations.at(-1)!.version], version: readModelMigrations.at(-1)!.version });
      expect(await current.read((reader) => reader.all('SELECT projection_name, position FROM projection_state'))).toEqual([{ projection_name: 'kept', position: 42 }]);
      await current.close();
    } finally {
      await database.drop();
    }
  });

  it('applies each migration once when several processes start together', async () => {
    const database = await createTestDatabase('migrations_race');
    try {
      const opened = await Promise.all([1, 2, 3, 4].map(() => PostgresReadModelDb.open({ connectionString: database.url })));
      const appliedBy = opened.map((db) => db.migrationResult.applied);
      expect(appliedBy.flat().sort()).toEqual(readModelMigrations.map((m) => m.version));
      await Promise.all(opened.map((db) => db.close()));
    } finally {
      await database.drop();
    }
  });

  it('refuses a database whose collation would order text keys differently', async () => {
    const admin = new pg.Client({ connectionString: process.env.LEDGER_TEST_POSTGRES_URL });
    await admin.connect();
    const name = `ledger_collation_${process.pid}`;
    try {
      const locales = await admin.query<{ collname: string }>("SELECT collname FROM pg_collation WHERE collname IN ('C.utf8', 'en_US.utf8') ORDER BY collname DESC");
      const other = locales.rows[0]?.collname ?? 'C.utf8';
      await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE '${other}' LC_CTYPE '${other}'`);
      const url = new URL(process.env.LEDGER_TEST_POSTGRES_URL!);
      url.pathname = `/${name}`;
      expect(await failureOf(PostgresReadModelDb.open({ connectionString: url.toString() }))).toMatch(/must use "C"/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
