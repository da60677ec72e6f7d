import type { SqlParameter } from './read-model.port.js';

/** Helpers the read-model queries of every context share. */

export interface Page<Item> {
  items: Item[];
  /** Pass as `after` to read the next page; null on the last page. */
  nextAfter: string | null;
}

/** Page size: default 50, between 1 and 500. */
export const clampLimit = (limit: number | undefined): number => Math.min(Math.max(Math.trunc(limit ?? 50) || 50, 1), 500);

/** Rows read with LIMIT limit + 1 become a page and the key to continue after its last item. */
export function toPage<Row, Item>(rows: readonly Row[], limit: number, toItem: (row: Row) => Item, keyOf: (item: Item) => string): Page<Item> {
  const items = rows.slice(0, limit).map(toItem);
  return { items, nextAfter: rows.length > limit ? keyOf(items[items.length - 1]) : null };
}

/** Conditions joined by AND, with their parameters in placeholder order. */
export class WhereClause {
  private readonly conditions: string[] = [];
  readonly parameters: SqlParameter[] = [];

  add(condition: string, ...parameters: SqlParameter[]): this {
    this.conditions.push(`(${condition})`);
    this.parameters.push(...parameters);
    return this;
  }

  sql(): string {
    return this.conditions.length > 0 ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}
