import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { readCheckpoints } from '#lib/projections/projection-runner.js';
import { clampLimit, toPage, WhereClause, type Page } from '#lib/projections/query-helpers.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney } from '#lib/shared/domain/money.js';
import { ExactDecimal } from '#lib/attainment/domain/exact-decimal.js';
import { isIsoDate } from '#lib/organization/domain/calendar.js';
import { normalSideOf, type AccountType, type EntrySide } from '../domain/accounts.js';
import type { JournalEntry } from '../domain/journal-entry.js';
import { trialBalanceOf, trialBalanceReport } from '../domain/trial-balance.js';
import { entryOfRow, LEDGER_PROJECTION_NAME, type LedgerEntryRow } from './ledger.projection.js';

/**
 * The trial balance and the journal, read from the ledger read model.
 *
 * Over the whole ledger, the trial balance sums every account of a type (all payees) per currency, from the running
 * per-date totals the projection keeps; for one payee it folds that payee's entries into a balance per account.
 * Either way each currency's debits equal its credits: the report says so (`balanced`), it does not assume it.
 */

export interface TrialBalanceRow {
  accountType: AccountType;
  /** Null over the whole ledger (every payee's account of the type summed). */
  payeeId: string | null;
  currency: string;
  debits: string;
  credits: string;
  /** On the account's normal side: positive for an asset or expense with more debits, a liability with more credits. */
  balance: string;
  normalSide: EntrySide;
}

export interface TrialBalanceView {
  /** Entries posted on or before this business date. */
  asOf: string;
  payeeId: string | null;
  /** The ledger read model's log position: every movement recorded up to it is in. */
  position: number;
  rows: TrialBalanceRow[];
  totals: { currency: string; debits: string; credits: string; net: string }[];
  /** Every currency nets to zero. */
  balanced: boolean;
  entryCount: number;
}

export function requireAsOfDate(asOf: string): string {
  if (!isIsoDate(asOf)) {
    throw validationError('REQUEST.AS_OF_DATE_INVALID', 'asOf must be a business date YYYY-MM-DD', [{ field: 'asOf', message: 'must be a calendar date YYYY-MM-DD' }]);
  }
  return asOf;
}

const balanceOnNormalSide = (type: AccountType, debits: ExactDecimal, credits: ExactDecimal): ExactDecimal =>
  normalSideOf[type] === 'debit' ? debits.minus(credits) : credits.minus(debits);

export async function trialBalance(db: ReadModelDb, query: { asOf: string; payeeId?: string }): Promise<TrialBalanceView> {
  const asOf = requireAsOfDate(query.asOf);
  return db.read(async (reader) => {
    const position = (await readCheckpoints(reader)).get(LEDGER_PROJECTION_NAME) ?? 0;
    if (query.payeeId !== undefined) {
      const rows = await reader.all<LedgerEntryRow>('SELECT * FROM ledger_entries WHERE payee_id = ? AND posted_on <= ? ORDER BY position, entry_id', [query.payeeId, asOf]);
      const report = trialBalanceReport(trialBalanceOf(rows.map(entryOfRow)));
      return {
        asOf,
        payeeId: query.payeeId,
        position,
        rows: report.rows.map((row) => ({
          accountType: row.account.type,
          payeeId: row.account.payeeId,
          currency: row.currency,
          debits: row.debits,
          credits: row.credits,
          balance: row.balance,
          normalSide: normalSideOf[row.account.type],
        })),
        totals: report.totalsByCurrency,
        balanced: report.totalsByCurrency.every((total) => ExactDecimal.parse(total.net).isZero()),
        entryCount: rows.length,
      };
    }
    const days = await reader.all<{ account_type: AccountType; currency: string; debits: string; credits: string }>(
      'SELECT account_type, currency, debits, credits FROM ledger_type_days WHERE posted_on <= ?',
      [asOf],
    );
    const sums = new Map<string, { accountType: AccountType; currency: string; debits: ExactDecimal; credits: ExactDecimal }>();
    for (const day of days) {
      const key = `${day.currency}|${day.account_type}`;
      const sum = sums.get(key) ?? { accountType: day.account_type, currency: day.currency, debits: ExactDecimal.ZERO, credits: ExactDecimal.ZERO };
      sum.debits = sum.debits.plus(ExactDecimal.parse(day.debits));
      sum.credits = sum.credits.plus(ExactDecimal.parse(day.credits));
      sums.set(key, sum);
    }
    const ordered = [...sums.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([, sum]) => sum);
    const byCurrency = new Map<string, { debits: ExactDecimal; credits: ExactDecimal }>();
    for (const sum of ordered) {
      const total = byCurrency.get(sum.currency) ?? { debits: ExactDecimal.ZERO, credits: ExactDecimal.ZERO };
      byCurrency.set(sum.currency, { debits: total.debits.plus(sum.debits), credits: total.credits.plus(sum.credits) });
    }
    const money = (amount: ExactDecimal, currency: string): string => formatMoney(amount.toMoney(), currency);
    const totals = [...byCurrency.entries()].map(([currency, total]) => ({
      currency,
      debits: money(total.debits, currency),
      credits: money(total.credits, currency),
      net: money(total.debits.minus(total.credits), currency),
    }));
    const entryCount = (await reader.get<{ count: number }>('SELECT COUNT(*) AS count FROM ledger_entries WHERE posted_on <= ?', [asOf]))?.count ?? 0;
    return {
      asOf,
      payeeId: null,
      position,
      rows: ordered.map((sum) => ({
        accountType: sum.accountType,
        payeeId: null,
        currency: sum.currency,
        debits: money(sum.debits, sum.currency),
        credits: money(sum.credits, sum.currency),
        balance: money(balanceOnNormalSide(sum.accountType, sum.debits, sum.credits), sum.currency),
        normalSide: normalSideOf[sum.accountType],
      })),
      totals,
      balanced: totals.every((total) => ExactDecimal.parse(total.net).isZero()),
      entryCount,
    };
  });
}

export interface LedgerEntryView extends JournalEntry {
  calendarId: string;
  periodId: string;
  payoutId: string | null;
  /** The entry that reversed this one (a reopen voided its approval), if any. */
  reversedBy: string | null;
  eventId: string;
  position: number;
}

export async function listLedgerEntries(db: ReadModelDb, query: { payeeId: string; limit?: number; after?: string }): Promise<Page<LedgerEntryView>> {
  const limit = clampLimit(query.limit);
  return db.read(async (reader) => {
    const where = new WhereClause().add('payee_id = ?', query.payeeId);
    if (query.after !== undefined) where.add('entry_id > ?', query.after);
    const rows = await reader.all<LedgerEntryRow>(`SELECT * FROM ledger_entries ${where.sql()} ORDER BY entry_id LIMIT ?`, [...where.parameters, limit + 1]);
    return toPage(
      rows,
      limit,
      (row) => ({ ...entryOfRow(row), calendarId: row.calendar_id, periodId: row.period_id, payoutId: row.payout_id, reversedBy: row.reversed_by, eventId: row.event_id, position: row.position }),
      (entry) => entry.entryId,
    );
  });
}
