import pg from 'pg';
import { ProjectorLeaseLostError, type ProjectorLease } from '#lib/projections/projector-lease.js';
import { assertSelect, type ReadModelDb, type ReadModelReader, type ReadModelTransaction, type SqlParameter, type TransactionOptions } from '#lib/projections/read-model.port.js';
import { migrate, readModelMigrations, type Migration, type MigrationResult } from './postgres-migrations.js';
import { mergeRowsByKey, multiRowInsertOf, multiRowText, toPostgres, type MultiRowInsert } from './postgres-sql.js';

export interface PostgresReadModelDbOptions {
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** Most connections used for reads at once. Default 10. */
  readPoolSize?: number;
  /** Shown in pg_stat_activity. Default incentive-ledger. */
  applicationName?: string;
  /** Default: the read models' migrations; a test may pass an earlier list to check an upgrade. */
  migrations?: readonly Migration[];
}

/**
 * Values come back as the SQLite adapter returns them, so that projections and queries read the same rows on either:
 * BIGINT (the read models' integers, counts) and NUMERIC (a sum of integers) as numbers, booleans as 1 and 0. Money
 * is never a number column (decimal TEXT), so no amount goes through a float here.
 */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const BOOL_OID = 16;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    if (oid === BOOL_OID) return (value: string) => (value === 't' ? 1 : 0);
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Largest number of bind parameters in one statement PostgreSQL's protocol allows. */
const MAX_PARAMETERS = 65535;
/** Most rows in one multi-row INSERT: bigger statements save little and cost a larger parse. */
const MAX_ROWS_PER_INSERT = 512;
/** Statements with parameters are prepared once per connection, by name; past this many names, new texts run unnamed. */
const STATEMENT_NAME_LIMIT = 3000;

/** Serialises async work: each piece starts when the previous one has settled. */
class Serialiser {
  private tail: Promise<unknown> = Promise.resolve();
  run<Result>(work: () => Promise<Result>): Promise<Result> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const statementNames = new Map<string, string>();
function statementNameOf(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= STATEMENT_NAME_LIMIT) return undefined;
    name = `ledger_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

async function query<Row>(client: pg.ClientBase, sql: string, parameters: readonly SqlParameter[]): Promise<Row[]> {
  const { text, parameterCount } = toPostgres(sql);
  if (parameterCount !== parameters.length) {
    throw new Error(`The statement has ${parameterCount} placeholders but ${parameters.length} parameters were given: ${sql}`);
  }
  const result =
    parameterCount === 0
      ? await client.query(text)
      : await client.query({ name: statementNameOf(text), text, values: parameters as SqlParameter[] });
  return result.rows as Row[];
}

/** Rows of one multi-row INSERT text waiting to be sent together (write-behind transactions). */
interface BufferedInsert {
  sql: string;
  insert: MultiRowInsert;
  rows: (readonly SqlParameter[])[];
}

/** Rows buffered for one statement before they are sent anyway. */
const BUFFERED_ROWS_LIMIT = 4 * MAX_ROWS_PER_INSERT;

/**
 * One session's statements; refuses use once its transaction has ended, so a stray await cannot run outside it.
 *
 * Write-behind (a catch-up): writes are handed to the connection without waiting for their answers (the driver sends
 * them in order, and a read waits behind them), and consecutive runMany rows of one INSERT text are gathered into
 * multi-row statements across calls. The first failed write is kept and rethrown by the next read or the commit.
 */
class PostgresSession implements ReadModelTransaction {
  private open = true;
  private buffered: BufferedInsert | null = null;
  /** The statements handed to the connection, one after the other (the driver takes one query at a time). */
  private tail: Promise<unknown> = Promise.resolve();
  private failure: { error: unknown } | null = null;
  /** Writes nobody waited for, settled once their failure (if any) is recorded. */
  private unawaited: Promise<void>[] = [];

  constructor(
    private readonly client: pg.ClientBase,
    private readonly behind = false,
  ) {}

  end(): void {
    this.open = false;
  }

  /** Sends what is buffered and waits for every write; rethrows the first that failed. */
  async settle(): Promise<void> {
    this.flushBuffer();
    await this.writesSettled();
    if (this.failure !== null) throw this.failure.error;
  }

  private async writesSettled(): Promise<void> {
    while (this.unawaited.length > 0) {
      const writes = this.unawaited;
      this.unawaited = [];
      await Promise.all(writes);
    }
  }

  async run(sql: string, parameters: readonly SqlParameter[] = []): Promise<void> {
    this.assertOpen();
    this.flushBuffer();
    const sending = this.next(() => query(this.client, sql, parameters));
    if (this.behind) this.write(sending);
    else await sending;
  }

  async runMany(sql: string, rows: Iterable<readonly SqlParameter[]>): Promise<void> {
    this.assertOpen();
    const insert = multiRowInsertOf(sql);
    if (this.behind && insert !== null) {
      if (this.buffered?.sql !== sql) {
        this.flushBuffer();
        this.buffered = { sql, insert, rows: [] };
      }
      const buffered = this.buffered!;
      for (const row of rows) {
        buffered.rows.push(row);
        if (buffered.rows.length >= BUFFERED_ROWS_LIMIT) this.flushBuffer(buffered.rows.length);
      }
      return;
    }
    this.flushBuffer();
    const all = Array.isArray(rows) ? (rows as readonly (readonly SqlParameter[])[]) : [...rows];
    if (all.length === 0) return;
    if (insert === null || all.length === 1) {
      for (const row of all) {
        const sending = this.next(() => query(this.client, sql, row));
        if (this.behind) this.write(sending);
        else await sending;
      }
      return;
    }
    const sending = this.sendMultiRow(insert, sql, all);
    if (this.behind) this.write(sending);
    else await sending;
  }

  async get<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row | undefined> {
    return (await this.all<Row>(sql, parameters))[0];
  }

  async all<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row[]> {
    this.assertOpen();
    if (!this.behind) return this.next(() => query<Row>(this.client, sql, parameters));
    this.flushBuffer();
    let rows: Row[];
    try {
      rows = await this.next(() => query<Row>(this.client, sql, parameters));
    } catch (error) {
      // A read after a failed write fails with the transaction aborted: the write's error says why.
      await this.writesSettled();
      throw this.failure?.error ?? error;
    }
    await this.writesSettled();
    if (this.failure !== null) throw this.failure.error;
    return rows;
  }

  /** Runs `statement` once every statement handed over before it has been answered. */
  private next<Result>(statement: () => Promise<Result>): Promise<Result> {
    const result = this.tail.then(statement);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** A write nobody waits for: its failure is kept for the next read or the commit. */
  private write(sending: Promise<unknown>): void {
    this.unawaited.push(
      sending.then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
        },
      ),
    );
  }

  /** Sends buffered rows (all, or the first `count`) as multi-row INSERTs. */
  private flushBuffer(count?: number): void {
    const buffered = this.buffered;
    if (buffered === null || buffered.rows.length === 0) return;
    const rows = count === undefined ? buffered.rows : buffered.rows.slice(0, count);
    buffered.rows = count === undefined ? [] : buffered.rows.slice(count);
    if (count === undefined) this.buffered = null;
    this.write(this.sendMultiRow(buffered.insert, buffered.sql, rows));
  }

  /**
   * One multi-row INSERT per chunk (a round trip per chunk, not per row), of power-of-two sizes so that a handful of
   * prepared texts serve every batch. Queued on the connection in order, whether or not the caller waits.
   */
  private sendMultiRow(insert: MultiRowInsert, sql: string, rows: readonly (readonly SqlParameter[])[]): Promise<unknown> {
    const merged = mergeRowsByKey(insert, rows);
    const widest = Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / insert.width));
    let sent: Promise<unknown> = Promise.resolve();
    let firstFailure: { error: unknown } | null = null;
    let start = 0;
    while (start < merged.length) {
      let chunk = 1;
      while (chunk * 2 <= Math.min(widest, merged.length - start)) chunk *= 2;
      const values: SqlParameter[] = [];
      for (let index = start; index < start + chunk; index++) {
        const row = merged[index];
        if (row.length !== insert.width) return Promise.reject(new Error(`A row of ${row.length} parameters for a statement of ${insert.width}: ${sql}`));
        for (const value of row) values.push(value);
      }
      const text = multiRowText(insert, chunk);
      sent = this.next(() => this.client.query({ name: statementNameOf(text), text, values })).catch((error: unknown) => {
        // The chunks after a failed one fail too (the transaction is aborted): the first failure says why.
        firstFailure ??= { error };
      });
      start += chunk;
    }
    return sent.then(() => {
      if (firstFailure !== null) throw firstFailure.error;
    });
  }

  private assertOpen(): void {
    if (!this.open) throw new Error('This read-model transaction has already ended');
  }
}

/**
 * The projector lease on PostgreSQL is a session-level advisory lock taken on the read-model database's writer session
 * itself. Once a lease is asked for, the database refuses write transactions unless it is held, so a process that
 * lost its connection, and the lock with it, cannot write after another took over.
 */
/**
 * The read models in PostgreSQL. Writes go through one session of their own (write transactions run one at a time,
 * as the port requires, and that session carries the projector lease); reads through a pool, each on one REPEATABLE
 * READ READ ONLY snapshot, so several API processes read while one projector writes.
 *
 * Values and SQL behave as on the SQLite adapter (see postgres-sql.ts for the few rewrites): decimal TEXT stays TEXT.
 * The database must use the "C" collation (byte order, as SQLite's BINARY): ORDER BY and keyset paging over text
 * keys then give the same order on both adapters; open() refuses another one.
 */
export class PostgresReadModelDb implements ReadModelDb {
  private readonly pool: pg.Pool;
  private readonly writes = new Serialiser();
  private writer: pg.Client | null = null;
  private writerBroken = false;
  private lease: AdvisoryLease | null = null;
  private closed = false;

  /** Connects, checks the collation and applies the migrations not yet applied. */
  static async open(options: PostgresReadModelDbOptions): Promise<PostgresReadModelDb> {
    const db = new PostgresReadModelDb(options);
    try {
      await db.writes.run(async () => {
        const writer = await db.writerSession(false);
        const collation = await writer.query<{ datcollate: string }>('SELECT datcollate FROM pg_database WHERE datname = current_database()');
        const collate = collation.rows[0]?.datcollate ?? '';
        if (collate !== 'C' && collate !== 'POSIX') {
          throw new Error(
            `The read-model database uses the collation "${collate}"; it must use "C" so that text keys sort as on the embedded read models. ` +
              `Create it with: CREATE DATABASE <name> TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`,
          );
        }
        db.migrationResult = await migrate(writer, options.migrations ?? readModelMigrations);
      });
    } catch (error) {
      await db.close();
      throw error;
    }
    return db;
  }

  /** What open() migrated. */
  migrationResult: MigrationResult = { applied: [], version: 0 };

  private constructor(private readonly options: PostgresReadModelDbOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.readPoolSize ?? 10,
      application_name: options.applicationName ?? 'incentive-ledger',
      types: typeParsers,
    });
    // An idle pooled connection that breaks is dropped by the pool; without a listener its error would end the process.
    this.pool.on('error', () => undefined);
  }

  /**
   * With `writeBehind` (a catch-up) the writes go out without waiting for each answer and consecutive rows of one
   * INSERT are sent together; a failed write fails the transaction at its next read or its commit.
   */
  transaction<Result>(work: (transaction: ReadModelTransaction) => Promise<Result>, options: TransactionOptions = {}): Promise<Result> {
    return this.writes.run(async () => {
      this.assertOpen();
      if (this.lease !== null && !this.lease.held) throw new ProjectorLeaseLostError();
      const client = await this.writerSession(this.lease !== null);
      const session = new PostgresSession(client, options.writeBehind === true);
      await client.query('BEGIN');
      try {
        const result = await work(session);
        await session.settle();
        session.end();
        const commit = await client.query('COMMIT');
        // PostgreSQL answers COMMIT of a transaction a failed statement aborted with ROLLBACK, not an error.
        if (commit.command === 'ROLLBACK') throw new Error('The read-model transaction was rolled back: one of its statements failed');
        return result;
      } catch (error) {
        session.end();
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * The answer goes back as soon as `work` has it: ending a read-only transaction changes nothing, so its COMMIT
   * completes behind the caller and the connection returns to the pool after it.
   */
  async read<Result>(work: (reader: ReadModelReader) => Promise<Result>): Promise<Result> {
    this.assertOpen();
    const client = await this.pool.connect();
    const session = new PostgresSession(client);
    let result: Result;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      result = await work(session);
    } catch (error) {
      session.end();
      let broken: Error | undefined;
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      client.release(broken);
      throw error;
    }
    session.end();
    client.query('COMMIT').then(
      () => client.release(),
      (error: Error) => client.release(error),
    );
    return result;
  }

  /** One statement outside a transaction: PostgreSQL runs it on a snapshot of its own, in one round trip. */
  async query<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row[]> {
    assertSelect(sql);
    this.assertOpen();
    const client = await this.pool.connect();
    try {
      const rows = await query<Row>(client, sql, parameters);
      client.release();
      return rows;
    } catch (error) {
      // An error the server answered leaves the session usable; anything else (a broken connection) discards it.
      client.release(error instanceof pg.DatabaseError ? undefined : (error as Error));
      throw error;
    }
  }

  /**
   * The projector lease of this database (one per process): an advisory lock on the writer session under `key`.
   * Once asked for, write transactions run only while it is held.
   */
  projectorLease(options: { key?: number; holder: string }): ProjectorLease {
    this.lease ??= new AdvisoryLease(this, options.key ?? PROJECTOR_LOCK_KEY, options.holder);
    return this.lease;
  }

  /** Who holds the projector lease, as its holder recorded it (null if nobody took it yet, or the holder's session is gone). */
  async leaseHolder(key: number = PROJECTOR_LOCK_KEY): Promise<string | null> {
    return this.read(async (reader) => {
      const granted = await reader.get<{ held: number }>(
        "SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = ? AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        [key],
      );
      if ((granted?.held ?? 0) === 0) return null;
      const row = await reader.get<{ holder: string }>('SELECT holder FROM projector_lease WHERE lease_name = ?', [String(key)]);
      return row?.holder ?? null;
    });
  }

  /** Runs `work` on the writer session between write transactions (the lease's statements). */
  onWriter<Result>(work: (client: pg.Client) => Promise<Result>, options: { fresh: boolean }): Promise<Result> {
    return this.writes.run(async () => {
      this.assertOpen();
      return work(await this.writerSession(false, options.fresh));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes.run(async () => undefined);
    this.closed = true;
    const writer = this.writer;
    this.writer = null;
    await writer?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  /**
   * The writer session, connected on first use. A broken one is replaced, unless the lease lives on it (the lease
   * is gone with it: writes must wait until it is taken again, on a fresh session).
   */
  private async writerSession(leaseBound: boolean, fresh = false): Promise<pg.Client> {
    if (this.writer !== null && !this.writerBroken && !fresh) return this.writer;
    if (this.writer !== null && this.writerBroken && leaseBound) throw new ProjectorLeaseLostError('The projector lease was lost with its database session');
    const old = this.writer;
    this.writer = null;
    await old?.end().catch(() => undefined);
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.options.applicationName ?? 'incentive-ledger', types: typeParsers });
    client.on('error', () => {
      if (this.writer !== client) return;
      this.writerBroken = true;
      this.lease?.lost();
    });
    client.on('end', () => {
      if (this.writer !== client || this.closed) return;
      this.writerBroken = true;
      this.lease?.lost();
    });
    await client.connect();
    this.writer = client;
    this.writerBroken = false;
    return client;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The read-model database is closed');
  }
}

/** The advisory lock key of the projector lease (in the ledger's own key range, next to the migrations' lock). */
export const PROJECTOR_LOCK_KEY = 0x4c4d_0002;

class AdvisoryLease implements ProjectorLease {
  private isHeld = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: PostgresReadModelDb,
    private readonly key: number,
    private readonly holder: string,
  ) {}

  get held(): boolean {
    return this.isHeld;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.isHeld) return true;
    // A fresh session: the one before may have ended with the lease it held.
    return this.db.onWriter(async (client) => {
      const result = await client.query<{ acquired: number }>('SELECT pg_try_advisory_lock($1) AS acquired', [this.key]);
      if (result.rows[0].acquired !== 1) return false;
      await client.query(
        `INSERT INTO projector_lease (lease_name, holder, acquired_at) VALUES ($1, $2, now())
         ON CONFLICT (lease_name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at`,
        [String(this.key), this.holder],
      );
      this.isHeld = true;
      return true;
    }, { fresh: false });
  }

  async release(): Promise<void> {
    if (!this.isHeld) return;
    this.isHeld = false;
    await this.db.onWriter((client) => client.query('SELECT pg_advisory_unlock($1)', [this.key]), { fresh: false }).catch(() => undefined);
  }

  onLost(listener: () => void): void {
    this.listeners.push(listener);
  }

  lost(): void {
    if (!this.isHeld) return;
    this.isHeld = false;
    for (const listener of this.listeners) listener();
  }
}
