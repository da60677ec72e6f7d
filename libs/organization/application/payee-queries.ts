import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { WhereClause, clampLimit, toPage, type Page } from '#lib/projections/query-helpers.js';
import { payeeAccessCondition, type PayeeAccess } from './payee-access.js';

export type { Page } from '#lib/projections/query-helpers.js';

/** Read-side answers about payees, from the payee directory read model (eventually consistent: wait on a position first when a read must see a write). */

export interface DatedAssignment<Value> {
  value: Value;
  effectiveDate: string;
}

export interface PayeeSummary {
  payeeId: string;
  name: string;
  email: string | null;
  /** The manager of the latest effective-dated change (or in force on `asOfDate`, when asked). */
  managerId: string | null;
  territory: string;
  currency: string;
  startDate: string;
  /** The payee stream's revision: the ETag for If-Match on payee commands. */
  revision: number;
}

export interface PayeeView extends PayeeSummary {
  managerHistory: DatedAssignment<string | null>[];
  territoryHistory: DatedAssignment<string>[];
}

export interface ListPayeesQuery {
  /** Default 50, at most 500. */
  limit?: number;
  /** The last payeeId of the previous page. */
  after?: string;
  managerId?: string;
  territory?: string;
  /** Only payees the caller may see. */
  access?: PayeeAccess;
}

interface PayeeRow {
  payee_id: string;
  name: string;
  email: string | null;
  manager_id: string | null;
  territory: string;
  currency: string;
  start_date: string;
  revision: number;
}

interface AssignmentRow {
  kind: 'manager' | 'territory';
  value: string | null;
  effective_date: string;
}

const toSummary = (row: PayeeRow): PayeeSummary => ({
  payeeId: row.payee_id,
  name: row.name,
  email: row.email,
  managerId: row.manager_id,
  territory: row.territory,
  currency: row.currency,
  startDate: row.start_date,
  revision: row.revision,
});

function inForceOn<Value>(history: readonly DatedAssignment<Value>[], isoDate: string): Value {
  let value = history[0].value;
  for (const entry of history) if (entry.effectiveDate <= isoDate) value = entry.value;
  return value;
}

/** One payee with its dated manager and territory history; null when no such payee. With `asOfDate`, managerId and territory are those in force that day. */
export async function getPayee(db: ReadModelDb, payeeId: string, options: { asOfDate?: string } = {}): Promise<PayeeView | null> {
  return db.read(async (reader) => {
    const row = await reader.get<PayeeRow>('SELECT * FROM payees WHERE payee_id = ?', [payeeId]);
    if (row === undefined) return null;
    const assignments = await reader.all<AssignmentRow>(
      'SELECT kind, value, effective_date FROM payee_assignments WHERE payee_id = ? ORDER BY effective_date, position',
      [payeeId],
    );
    const managerHistory = assignments.filter((a) => a.kind === 'manager').map((a) => ({ value: a.value, effectiveDate: a.effective_date }));
    const territoryHistory = assignments.filter((a) => a.kind === 'territory').map((a) => ({ value: a.value as string, effectiveDate: a.effective_date }));
    const view: PayeeView = { ...toSummary(row), managerHistory, territoryHistory };
    if (options.asOfDate !== undefined) {
      view.managerId = inForceOn(managerHistory, options.asOfDate);
      view.territory = inForceOn(territoryHistory, options.asOfDate);
    }
    return view;
  });
}

/** Payees in id order, a page at a time, optionally one manager's direct reports or one territory. */
export async function listPayees(db: ReadModelDb, query: ListPayeesQuery = {}): Promise<Page<PayeeSummary>> {
  const limit = clampLimit(query.limit);
  const where = new WhereClause();
  if (query.after !== undefined) where.add('payee_id > ?', query.after);
  if (query.managerId !== undefined) where.add('manager_id = ?', query.managerId);
  if (query.territory !== undefined) where.add('territory = ?', query.territory);
  const visible = payeeAccessCondition('payee_id', query.access);
  if (visible !== null) where.add(visible.sql, ...visible.parameters);
  const rows = await db.read((reader) => reader.all<PayeeRow>(`SELECT * FROM payees ${where.sql()} ORDER BY payee_id LIMIT ?`, [...where.parameters, limit + 1]));
  return toPage(rows, limit, toSummary, (payee) => payee.payeeId);
}
