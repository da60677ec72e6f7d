/**
 * The port between projections and the database that holds read models. It is deliberately small and async,
 * with `?` placeholders and portable SQL (CREATE TABLE IF NOT EXISTS, INSERT ... ON CONFLICT ... DO UPDATE,
 * TEXT for decimal strings, INTEGER for counts and positions), so that a PostgreSQL adapter can run the same
 * projections: it only has to rewrite `?` to `$n` and wrap a pooled client's transaction.
 *
 * Money and percentages are stored as decimal TEXT and summed in decimal.js, never by SQL SUM (which would
 * go through floating point).
 */

export type SqlParameter = string | number | null;

/** `ReadModelDb.query` takes reads only: a statement that could write belongs in a transaction. */
export function assertSelect(sql: string): void {
  if (!/^\s*(SELECT|WITH)\b/i.test(sql)) throw new Error(`ReadModelDb.query runs one SELECT (or WITH ... SELECT), not: ${sql.slice(0, 80)}`);
}

export interface ReadModelReader {
  /** The first row, or undefined. Column names as selected. */
  get<Row = Record<string, unknown>>(sql: string, parameters?: readonly SqlParameter[]): Promise<Row | undefined>;
  all<Row = Record<string, unknown>>(sql: string, parameters?: readonly SqlParameter[]): Promise<Row[]>;
}

/**
 * Writes resolve once the adapter has taken them, which with `writeBehind` may be before they are carried out; a read
 * always sees every write made before it in the transaction, and a failed write fails the transaction (the next read
 * or the commit rejects, and nothing of it is kept).
 */
export interface ReadModelTransaction extends ReadModelReader {
  run(sql: string, parameters?: readonly SqlParameter[]): Promise<void>;
  /**
   * Runs one statement once per parameter row, in order ("executemany"): how many rows are written. The statement
   * is prepared once. Rows may be produced lazily (a generator), so that each row's parameters die young instead of
   * all of them living until the last is built; each row must be its own array, since an adapter may hold on to the
   * rows (a PostgreSQL adapter can send them as one pipelined batch).
   */
  runMany(sql: string, rows: Iterable<readonly SqlParameter[]>): Promise<void>;
}

export interface TransactionOptions {
  /**
   * The transaction writes many rows and reads few (a catch-up): the adapter may carry out its writes behind the
   * caller (on another thread), so that the caller goes on computing while its rows are written. Reads wait for the
   * writes made before them, and the commit for all of them.
   */
  writeBehind?: boolean;
}

export interface ReadModelDb {
  /**
   * Runs `work` in one write transaction: it commits when `work` resolves and rolls back when it throws.
   * Write transactions run one at a time. The transaction object must not be used after `work` settles.
   */
  transaction<Result>(work: (transaction: ReadModelTransaction) => Promise<Result>, options?: TransactionOptions): Promise<Result>;
  /** Runs `work` on one consistent, committed snapshot; it never sees a write transaction that is still open. */
  read<Result>(work: (reader: ReadModelReader) => Promise<Result>): Promise<Result>;
  /**
   * Runs one read-only statement (SELECT or WITH) on a committed snapshot of its own: the consistency `read` gives
   * several statements, without a transaction around it. On a database server that is one round trip instead of
   * three (BEGIN, the statement, COMMIT): the way for a hot read path that one statement can answer.
   */
  query<Row = Record<string, unknown>>(sql: string, parameters?: readonly SqlParameter[]): Promise<Row[]>;
  close(): Promise<void>;
}
