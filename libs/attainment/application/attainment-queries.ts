import { validationError } from '#lib/shared/domain/domain-error.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { WhereClause, clampLimit, toPage, type Page } from '#lib/projections/query-helpers.js';
import { periodKindOf } from '#lib/organization/domain/calendar.js';
import { payeeAccessCondition, type PayeeAccess } from '#lib/organization/application/payee-access.js';

/** Read-side answers about quota attainment, from the attainment read model. */

export interface MeasureAttainment {
  measure: string;
  currency: string;
  /** Sum of the payee's primary and overlay credits in the period, full precision. */
  creditedAmount: string;
  /** Null when no quota is set for this period and measure. */
  quotaAmount: string | null;
  /** credited / quota x 100, two decimals, half-even; null without a (non-zero) quota. */
  attainmentPercent: string | null;
  dealsCounted: number;
}

export interface HeldCredit {
  creditId: string;
  dealId: string;
  measure: string;
  creditDate: string;
  amount: string;
  currency: string;
  payeeCurrency: string | null;
  /** FX_RATE_MISSING: the credit is in another currency than the payee's and is not counted. */
  reason: string;
}

export interface PayeeAttainment {
  payeeId: string;
  periodId: string;
  /** One entry per measure with credits or a quota in the period, in measure order. */
  measures: MeasureAttainment[];
  /** Credits of the period that are not counted, and why. */
  held: HeldCredit[];
}

export interface AttainmentListItem extends MeasureAttainment {
  payeeId: string;
  periodId: string;
}

export interface ListAttainmentQuery {
  periodId: string;
  measure?: string;
  limit?: number;
  /** The last payeeId of the previous page (with `measure`) or `${payeeId}|${measure}` (without). */
  after?: string;
  /** Only payees the caller may see. */
  access?: PayeeAccess;
}

interface AttainmentRow {
  payee_id: string;
  period_id: string;
  measure: string;
  currency: string;
  credited_amount: string;
  quota_amount: string | null;
  attainment_percent: string | null;
  deals_counted: number;
}

interface HeldRow {
  credit_id: string;
  deal_id: string;
  measure: string;
  credit_date: string;
  amount: string;
  currency: string;
  payee_currency: string | null;
  reason: string;
}

const heldColumnByKind = { month: 'month_id', quarter: 'quarter_id', year: 'year_id' } as const;

function requirePeriodId(periodId: string): keyof typeof heldColumnByKind {
  const kind = periodKindOf(periodId);
  if (kind === null) {
    throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [
      { field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
    ]);
  }
  return kind;
}

const toMeasure = (row: AttainmentRow): MeasureAttainment => ({
  measure: row.measure,
  currency: row.currency,
  creditedAmount: row.credited_amount,
  quotaAmount: row.quota_amount,
  attainmentPercent: row.attainment_percent,
  dealsCounted: row.deals_counted,
});

/**
 * A payee's attainment in one period ("2026-03", "2026-Q1" or "2026"), for every measure or one.
 * Null when the payee is unknown; a known payee with nothing in the period gets empty lists.
 */
export async function getAttainment(
  db: ReadModelDb,
  query: { payeeId: string; periodId: string; measure?: string },
): Promise<PayeeAttainment | null> {
  const kind = requirePeriodId(query.periodId);
  return db.read(async (reader) => {
    const payee = await reader.get('SELECT payee_id FROM attainment_payees WHERE payee_id = ?', [query.payeeId]);
    if (payee === undefined) return null;
    const where = new WhereClause().add('payee_id = ?', query.payeeId).add('period_id = ?', query.periodId);
    if (query.measure !== undefined) where.add('measure = ?', query.measure);
    const rows = await reader.all<AttainmentRow>(`SELECT * FROM attainment ${where.sql()} ORDER BY measure`, where.parameters);
    const heldWhere = new WhereClause().add('payee_id = ?', query.payeeId).add(`${heldColumnByKind[kind]} = ?`, query.periodId);
    if (query.measure !== undefined) heldWhere.add('measure = ?', query.measure);
    const held = await reader.all<HeldRow>(`SELECT * FROM attainment_held_credits ${heldWhere.sql()} ORDER BY credit_date, credit_id, measure`, heldWhere.parameters);
    return {
      payeeId: query.payeeId,
      periodId: query.periodId,
      measures: rows.map(toMeasure),
      held: held.map((row) => ({
        creditId: row.credit_id,
        dealId: row.deal_id,
        measure: row.measure,
        creditDate: row.credit_date,
        amount: row.amount,
        currency: row.currency,
        payeeCurrency: row.payee_currency,
        reason: row.reason,
      })),
    };
  });
}

/** Everyone's attainment in one period (a leaderboard or a team view), in payee order, a page at a time. */
export async function listAttainment(db: ReadModelDb, query: ListAttainmentQuery): Promise<Page<AttainmentListItem>> {
  requirePeriodId(query.periodId);
  const limit = clampLimit(query.limit);
  const where = new WhereClause().add('period_id = ?', query.periodId);
  if (query.measure !== undefined) where.add('measure = ?', query.measure);
  const visible = payeeAccessCondition('payee_id', query.access);
  if (visible !== null) where.add(visible.sql, ...visible.parameters);
  if (query.after !== undefined) {
    if (query.measure !== undefined) {
      where.add('payee_id > ?', query.after);
    } else {
      // Payee ids cannot hold '|', so the first '|' splits the key.
      const split = query.after.indexOf('|');
      const [afterPayeeId, afterMeasure] = split < 0 ? [query.after, ''] : [query.after.slice(0, split), query.after.slice(split + 1)];
      where.add('payee_id > ? OR (payee_id = ? AND measure > ?)', afterPayeeId, afterPayeeId, afterMeasure);
    }
  }
  const rows = await db.read((reader) =>
    reader.all<AttainmentRow>(`SELECT * FROM attainment ${where.sql()} ORDER BY payee_id, measure LIMIT ?`, [...where.parameters, limit + 1]),
  );
  return toPage(
    rows,
    limit,
    (row) => ({ payeeId: row.payee_id, periodId: row.period_id, ...toMeasure(row) }),
    (item) => (query.measure !== undefined ? item.payeeId : `${item.payeeId}|${item.measure}`),
  );
}
