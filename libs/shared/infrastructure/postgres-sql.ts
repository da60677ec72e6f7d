/**
 * The read-model port's SQL text, as PostgreSQL runs it. Projections and queries are written once, in the portable
 * subset the port describes; the PostgreSQL adapter changes only what the two engines spell differently:
 *
 * - `?` placeholders become `$1, $2, ...` (never inside a string literal, a quoted identifier or a comment);
 * - in CREATE TABLE, `INTEGER` becomes `BIGINT` (SQLite's INTEGER is 64-bit; positions are byte offsets in an
 *   EventStoreDB log and outgrow 32 bits) and SQLite's storage hint `WITHOUT ROWID` is dropped (every read-model
 *   table has a primary key, which is how PostgreSQL stores it anyway).
 *
 * Nothing else is rewritten: SQL that only one engine understands is fixed where it is written.
 */

export interface PostgresStatement {
  /** The text with `$n` placeholders. */
  text: string;
  /** How many placeholders it has. */
  parameterCount: number;
}

const cache = new Map<string, PostgresStatement>();
const CACHE_LIMIT = 2000;

/** The PostgreSQL text of one port statement; memoised, since projections and queries use a fixed set. */
export function toPostgres(sql: string): PostgresStatement {
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = translate(sql);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, statement);
  }
  return statement;
}

function translate(sql: string): PostgresStatement {
  const { text, parameterCount } = numberPlaceholders(sql);
  return { text: /^\s*CREATE\s+(TEMP(ORARY)?\s+)?TABLE\b/i.test(text) ? translateCreateTable(text) : text, parameterCount };
}

/** Rewrites each `?` outside literals, quoted identifiers and comments to `$n`, in order. */
export function numberPlaceholders(sql: string): PostgresStatement {
  let out = '';
  let count = 0;
  let index = 0;
  const length = sql.length;
  while (index < length) {
    const char = sql[index];
    if (char === "'" || char === '"') {
      // A literal or a quoted identifier; a doubled quote inside it is an escaped quote.
      let end = index + 1;
      for (;;) {
        const close = sql.indexOf(char, end);
        if (close === -1) {
          end = length;
          break;
        }
        if (sql[close + 1] === char) {
          end = close + 2;
          continue;
        }
        end = close + 1;
        break;
      }
      out += sql.slice(index, end);
      index = end;
    } else if (char === '-' && sql[index + 1] === '-') {
      const newline = sql.indexOf('\n', index);
      const end = newline === -1 ? length : newline;
      out += sql.slice(index, end);
      index = end;
    } else if (char === '/' && sql[index + 1] === '*') {
      const close = sql.indexOf('*/', index + 2);
      const end = close === -1 ? length : close + 2;
      out += sql.slice(index, end);
      index = end;
    } else if (char === '?') {
      count += 1;
      out += `$${count}`;
      index += 1;
    } else {
      out += char;
      index += 1;
    }
  }
  return { text: out, parameterCount: count };
}

/** Column types and table options of SQLite's dialect that PostgreSQL spells otherwise (outside quotes). */
function translateCreateTable(text: string): string {
  return mapOutsideQuotes(text, (part) => part.replace(/\bINTEGER\b/gi, 'BIGINT').replace(/\)\s*WITHOUT\s+ROWID\s*$/i, ')'));
}

function mapOutsideQuotes(text: string, map: (part: string) => string): string {
  const parts = text.split(/('(?:[^']|'')*'|"(?:[^"]|"")*")/);
  return parts.map((part, index) => (index % 2 === 0 ? map(part) : part)).join('');
}

/**
 * A single-row `INSERT INTO table (columns) VALUES (?, ..., ?) [ON CONFLICT (keys) DO NOTHING | DO UPDATE SET c =
 * excluded.c, ...]`, understood well enough to send many rows as one multi-row statement with the same effect as
 * running it once per row in order: what `runMany` does. Null when the statement is anything else (it then runs
 * row by row).
 */
export interface MultiRowInsert {
  /** `INSERT INTO table (columns)` */
  head: string;
  width: number;
  /** `ON CONFLICT ...` or empty. */
  suffix: string;
  /** Indexes of the conflict key columns within a row, when there is an ON CONFLICT clause. */
  keyIndexes: number[] | null;
  /** DO UPDATE: indexes of the columns the update sets (from the excluded row); DO NOTHING: null. */
  updatedIndexes: number[] | null;
}

const insertPattern = /^\s*(INSERT\s+INTO\s+[A-Za-z_][A-Za-z0-9_]*\s*\(([^()]*)\))\s*VALUES\s*\(\s*\?(?:\s*,\s*\?)*\s*\)\s*(.*)$/is;
const conflictPattern = /^ON\s+CONFLICT\s*\(([^()]*)\)\s*DO\s+(NOTHING|UPDATE\s+SET\s+(.*))$/is;
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

const multiRowCache = new Map<string, MultiRowInsert | null>();

export function multiRowInsertOf(sql: string): MultiRowInsert | null {
  if (multiRowCache.has(sql)) return multiRowCache.get(sql)!;
  const parsed = parseMultiRowInsert(sql);
  if (multiRowCache.size >= CACHE_LIMIT) multiRowCache.clear();
  multiRowCache.set(sql, parsed);
  return parsed;
}

function parseMultiRowInsert(sql: string): MultiRowInsert | null {
  const match = insertPattern.exec(sql);
  if (match === null) return null;
  const columns = match[2].split(',').map((column) => column.trim());
  if (!columns.every((column) => identifier.test(column))) return null;
  const placeholderCount = (sql.slice(match[1].length).match(/\?/g) ?? []).length;
  if (placeholderCount !== columns.length) return null;
  const suffix = match[3].trim().replace(/;$/, '').trim();
  const base = { head: match[1], width: columns.length, suffix };
  if (suffix === '') return { ...base, keyIndexes: null, updatedIndexes: null };
  const conflict = conflictPattern.exec(suffix);
  if (conflict === null) return null;
  const keyIndexes = conflict[1].split(',').map((key) => columns.indexOf(key.trim()));
  if (keyIndexes.some((index) => index < 0)) return null;
  if (conflict[3] === undefined) return { ...base, keyIndexes, updatedIndexes: null };
  // Only `column = excluded.column` assignments: then the rows of one key can be merged into one before sending.
  const updatedIndexes: number[] = [];
  for (const assignment of conflict[3].split(',')) {
    const parts = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*excluded\.([A-Za-z_][A-Za-z0-9_]*)\s*$/i.exec(assignment);
    if (parts === null || parts[1].toLowerCase() !== parts[2].toLowerCase()) return null;
    const index = columns.indexOf(parts[1]);
    if (index < 0) return null;
    updatedIndexes.push(index);
  }
  return { ...base, keyIndexes, updatedIndexes };
}

type Row = readonly (string | number | null)[];

/**
 * The rows a multi-row statement must send for the same result as running them one by one: one row per conflict
 * key (PostgreSQL refuses to touch a row twice in one statement), at the place of its first occurrence. DO NOTHING
 * keeps the first row of a key; DO UPDATE keeps the first row with the updated columns of the last one, which is
 * what the row-by-row runs leave whether or not the key was already in the table.
 */
export function mergeRowsByKey(insert: MultiRowInsert, rows: readonly Row[]): Row[] {
  const keys = insert.keyIndexes;
  if (keys === null) return rows as Row[];
  const keyOf = keys.length === 1 ? (row: Row) => row[keys[0]] : (row: Row) => JSON.stringify(keys.map((index) => row[index]));
  const positionByKey = new Map<unknown, number>();
  const merged: Row[] = [];
  for (const row of rows) {
    const key = keyOf(row);
    const at = positionByKey.get(key);
    if (at === undefined) {
      positionByKey.set(key, merged.length);
      merged.push(row);
    } else if (insert.updatedIndexes !== null) {
      const combined = merged[at].slice();
      for (const index of insert.updatedIndexes) combined[index] = row[index];
      merged[at] = combined;
    }
  }
  return merged;
}

const multiRowTexts = new Map<string, string>();

/** `head VALUES ($1, ..., $w), ($w+1, ...), ... suffix` for `rowCount` rows. */
export function multiRowText(insert: MultiRowInsert, rowCount: number): string {
  const cacheKey = `${rowCount}\u0000${insert.head}\u0000${insert.suffix}`;
  let text = multiRowTexts.get(cacheKey);
  if (text === undefined) {
    const tuples: string[] = [];
    let parameter = 0;
    for (let row = 0; row < rowCount; row++) {
      const values: string[] = [];
      for (let column = 0; column < insert.width; column++) values.push(`$${++parameter}`);
      tuples.push(`(${values.join(',')})`);
    }
    text = `${insert.head} VALUES ${tuples.join(',')}${insert.suffix === '' ? '' : ` ${insert.suffix}`}`;
    if (multiRowTexts.size >= CACHE_LIMIT) multiRowTexts.clear();
    multiRowTexts.set(cacheKey, text);
  }
  return text;
}
