import type { ReadModelTransaction, SqlParameter } from './read-model.port.js';

/**
 * Writes many rows with few statements: multi-row `INSERT ... VALUES (...), (...)` (portable to PostgreSQL,
 * including with an `ON CONFLICT ... DO UPDATE` suffix as long as no key repeats within the rows).
 * Chunks are powers of two up to 256 rows, so only a handful of distinct statements is ever prepared.
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
  const width = rows[0].length;
  let start = 0;
  while (start < rows.length) {
    let chunk = 256;
    while (chunk > rows.length - start) chunk /= 2;
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    const parameters: SqlParameter[] = new Array(chunk * width);
    for (let index = 0; index < chunk; index++) {
      const row = rows[start + index];
      for (let column = 0; column < width; column++) parameters[index * width + column] = row[column];
    }
    await transaction.run(`${insertInto} VALUES ${Array.from({ length: chunk }, () => tuple).join(', ')} ${suffix}`, parameters);
    start += chunk;
  }
}

/** `DELETE FROM table WHERE column IN (...)` for many keys, chunked like insertRows. */
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
