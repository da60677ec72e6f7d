import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { ReadModelReader } from '#lib/projections/read-model.port.js';
import { WhereClause, clampLimit, toPage, type Page } from '#lib/projections/query-helpers.js';
import { payeeAccessCondition, type PayeeAccess } from '#lib/organization/application/payee-access.js';
import type { Credit } from '../domain/deal.decider.js';

/** Read-side answers about deals and credits, from the deals read model. */

export interface DealView {
  dealId: string;
  ownerPayeeId: string;
  status: 'won' | 'cancelled';
  amount: string;
  currency: string;
  closeDate: string;
  cancelDate: string | null;
  product: string;
  dealType: string;
  measures: Record<string, string>;
  /** The sales territory the deal belongs to; null for deals recorded before deals carried one. */
  territory: string | null;
  creditDate: string | null;
  amendments: number;
  /** The deal stream's revision: the ETag for If-Match on deal commands. */
  revision: number;
  /** Current credits; none once the deal is cancelled. */
  credits: Credit[];
}

export type DealSummary = Omit<DealView, 'credits'>;

export interface ListDealsQuery {
  ownerPayeeId?: string;
  status?: 'won' | 'cancelled';
  /** Default 50, at most 500. */
  limit?: number;
  /** The last dealId of the previous page. */
  after?: string;
  /** Only deals the caller may see: those owned by, or crediting, a payee in their scope. */
  access?: PayeeAccess;
}

export interface ListCreditsQuery {
  payeeId: string;
  /** Only credits dated in this range, inclusive ("YYYY-MM-DD"). */
  fromDate?: string;
  toDate?: string;
  limit?: number;
  /** The last creditId of the previous page. */
  after?: string;
}

interface DealRow {
  deal_id: string;
  owner_payee_id: string;
  status: 'won' | 'cancelled';
  amount: string;
  currency: string;
  close_date: string;
  cancel_date: string | null;
  product: string;
  deal_type: string;
  measures: string;
  territory: string | null;
  credit_date: string | null;
  credits: string;
  amendments: number;
  revision: number;
}

interface CreditRow {
  credit_id: string;
  deal_id: string;
  payee_id: string;
  kind: 'primary' | 'overlay';
  role: string | null;
  share_percent: string;
  currency: string;
  credit_date: string;
  amounts: string;
}

/** Everything but the credits JSON, which a list does not show. */
const SUMMARY_COLUMNS =
  'deal_id, owner_payee_id, status, amount, currency, close_date, cancel_date, product, deal_type, measures, territory, credit_date, amendments, revision';

const toSummary = (row: Omit<DealRow, 'credits'>): DealSummary => ({
  dealId: row.deal_id,
  ownerPayeeId: row.owner_payee_id,
  status: row.status,
  amount: row.amount,
  currency: row.currency,
  closeDate: row.close_date,
  cancelDate: row.cancel_date,
  product: row.product,
  dealType: row.deal_type,
  measures: JSON.parse(row.measures) as Record<string, string>,
  territory: row.territory,
  creditDate: row.credit_date,
  amendments: row.amendments,
  revision: row.revision,
});

const toCredit = (row: CreditRow): Credit => ({
  creditId: row.credit_id,
  dealId: row.deal_id,
  payeeId: row.payee_id,
  kind: row.kind,
  role: row.role,
  sharePercent: row.share_percent,
  currency: row.currency,
  creditDate: row.credit_date,
  amounts: JSON.parse(row.amounts) as Record<string, string>,
});

/** One deal with its current credits (primary first, then overlays, as allocated); null when no such deal. */
export async function getDeal(db: ReadModelDb, dealId: string): Promise<DealView | null> {
  return db.read(async (reader) => {
    const row = await reader.get<DealRow>('SELECT * FROM deals WHERE deal_id = ?', [dealId]);
    if (row === undefined) return null;
    return { ...toSummary(row), credits: JSON.parse(row.credits) as Credit[] };
  });
}

export async function listDeals(db: ReadModelDb, query: ListDealsQuery = {}): Promise<Page<DealSummary>> {
  const limit = clampLimit(query.limit);
  const where = new WhereClause();
  if (query.after !== undefined) where.add('deal_id > ?', query.after);
  if (query.ownerPayeeId !== undefined) where.add('owner_payee_id = ?', query.ownerPayeeId);
  if (query.status !== undefined) where.add('status = ?', query.status);
  const owned = payeeAccessCondition('owner_payee_id', query.access);
  const credited = payeeAccessCondition('payee_id', query.access);
  if (owned !== null && credited !== null) {
    where.add(`${owned.sql} OR deal_id IN (SELECT deal_id FROM deal_credits WHERE ${credited.sql})`, ...owned.parameters, ...credited.parameters);
  }
  const rows = await db.read((reader) => reader.all<DealRow>(`SELECT ${SUMMARY_COLUMNS} FROM deals ${where.sql()} ORDER BY deal_id LIMIT ?`, [...where.parameters, limit + 1]));
  return toPage(rows, limit, toSummary, (deal) => deal.dealId);
}

/** The payees a deal concerns: its owner and everyone it currently credits; none when there is no such deal. */
export async function dealPayees(reader: ReadModelReader, dealId: string): Promise<string[]> {
  const row = await reader.get<{ owner_payee_id: string; credits: string }>('SELECT owner_payee_id, credits FROM deals WHERE deal_id = ?', [dealId]);
  if (row === undefined) return [];
  const credits = JSON.parse(row.credits) as Pick<Credit, 'payeeId'>[];
  return [...new Set([row.owner_payee_id, ...credits.map((credit) => credit.payeeId)])];
}

/** A payee's current credits (primary and overlay), in credit id order. */
export async function listCreditsForPayee(db: ReadModelDb, query: ListCreditsQuery): Promise<Page<Credit>> {
  const limit = clampLimit(query.limit);
  const where = new WhereClause().add('payee_id = ?', query.payeeId);
  if (query.after !== undefined) where.add('credit_id > ?', query.after);
  if (query.fromDate !== undefined) where.add('credit_date >= ?', query.fromDate);
  if (query.toDate !== undefined) where.add('credit_date <= ?', query.toDate);
  const rows = await db.read((reader) =>
    reader.all<CreditRow>(`SELECT * FROM deal_credits ${where.sql()} ORDER BY credit_id LIMIT ?`, [...where.parameters, limit + 1]),
  );
  return toPage(rows, limit, toCredit, (credit) => credit.creditId);
}
