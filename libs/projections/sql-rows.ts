import type { ReadModelTransaction, SqlParameter } from './read-model.port.js';

/**
 * Writes many rows with one single-row statement run once per row (`runMany`, prepared once). Measured on the
 * statements read model's rows, this costs about a third less SQLite time than multi-row `INSERT ... VALUES (...),
 * (...)` of 256 rows: binding thousands of parameters and the multi-row statement's own program cost more than the
 * calls they save. An `ON CONFLICT ... DO UPDATE` suffix applies row by row, so a key may repeat within the rows
 * (the last one wins).
 */
export async function insertRows(
  transaction: ReadModelTransaction,
  /** e.g. 'INSERT INTO deal_credits (credit_id, deal_id)' */
  insertInto: string,
  rows: readonly (readonly SqlParameter[])[],
  /** e.g. 'ON CONFLICT (deal_id) DO UPDATE SET ...' */
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return;
  await transaction.runMany(`${insertInto} VALUES ${placeholders(rows[0].length)} ${suffix}`, rows);
}

const tuples = new Map<number, string>();
/** `(?, ?, ?)` for a row of `width` parameters. */
function placeholders(width: number): string {
  let tuple = tuples.get(width);
  if (tuple === undefined) {
    tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    tuples.set(width, tuple);
  }
  return tuple;
}

/** `DELETE FROM table WHERE column IN (...)` for many keys, up to 256 keys per statement, in power-of-two chunks. */
export async function deleteWhereIn(transaction: ReadModelTransaction, table: string, column: string, keys: readonly SqlParameter[]): Promise<void> {
  let start = 0;
  while (start < keys.length) {
    let chunk = 256;
    while (chunk > keys.length - start) chunk /= 2;
    await transaction.run(
      `DELETE FROM ${table} WHERE ${column} IN (${Array.from({ length: chunk }, () => '?').join(', ')})`,
      keys.slice(start, start + chunk),
    );
    start += chunk;
  }
}
