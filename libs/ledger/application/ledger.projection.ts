import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import { insertRows } from '#lib/projections/sql-rows.js';
import { ExactDecimal } from '#lib/attainment/domain/exact-decimal.js';
import { PERIOD_STREAM_PREFIX, type PeriodEvent } from '#lib/payouts/domain/period.decider.js';
import { periodOfId } from '#lib/statements/domain/statement-inputs.js';
import { reversalOf, type JournalEntry, type JournalLeg } from '../domain/journal-entry.js';
import { postingsForApprovedPayout } from '../domain/payout-postings.js';
import { postPayoutPaid } from '../domain/postings.js';

/**
 * The double-entry ledger as a read model: every money movement of the period streams posted as balanced journal
 * entries to the payee's accounts, and running debit and credit totals per account type, currency and business date
 * (the trial balance reads those).
 *
 * - Approved payouts post their gross (expensed, or capitalised with its amortisation schedule), each adjustment
 *   and clawback line, and the draw advanced and recovered, dated the period's last day.
 * - Confirmed payments move the net payable to payroll clearing, dated the payment date.
 * - A reopen voids the period's approvals: every entry they made is reversed by a new entry, never deleted.
 *
 * Entries are written as their event is applied; the per-date totals they add are kept for the batch and written in
 * flush, once per touched row.
 */
export const LEDGER_PROJECTION_NAME = 'ledger';
export const LEDGER_TABLES = ['ledger_entries', 'ledger_type_days'] as const;

const ENTRY_COLUMNS = 'entry_id, movement, payee_id, currency, posted_on, source_id, calendar_id, period_id, payout_id, legs, event_id, position, reversed_by';

export interface LedgerEntryRow {
  entry_id: string;
  movement: JournalEntry['movement'];
  payee_id: string;
  currency: string;
  posted_on: string;
  source_id: string;
  calendar_id: string;
  period_id: string;
  payout_id: string | null;
  legs: string;
  event_id: string;
  position: number;
  reversed_by: string | null;
}

export const entryOfRow = (row: Pick<LedgerEntryRow, 'entry_id' | 'movement' | 'payee_id' | 'currency' | 'posted_on' | 'source_id' | 'legs'>): JournalEntry => ({
  entryId: row.entry_id,
  movement: row.movement,
  payeeId: row.payee_id,
  currency: row.currency,
  postedOn: row.posted_on,
  sourceId: row.source_id,
  legs: JSON.parse(row.legs) as JournalLeg[],
});

type RecordedPeriodEvent = PeriodEvent & RecordedEvent;

interface DayTotals {
  accountType: string;
  currency: string;
  postedOn: string;
  debits: ExactDecimal;
  credits: ExactDecimal;
}

export function createLedgerProjection(): Projection {
  /** Per account type, currency and date, what this batch added; written in flush. */
  let pending = new Map<string, DayTotals>();

  function addToTotals(entries: readonly JournalEntry[]): void {
    for (const entry of entries) {
      for (const leg of entry.legs) {
        const key = `${leg.account.type}|${entry.currency}|${entry.postedOn}`;
        let totals = pending.get(key);
        if (totals === undefined) {
          totals = { accountType: leg.account.type, currency: entry.currency, postedOn: entry.postedOn, debits: ExactDecimal.ZERO, credits: ExactDecimal.ZERO };
          pending.set(key, totals);
        }
        const amount = ExactDecimal.parse(leg.amount);
        if (leg.side === 'debit') totals.debits = totals.debits.plus(amount);
        else totals.credits = totals.credits.plus(amount);
      }
    }
  }

  async function write(
    transaction: ReadModelTransaction,
    entries: readonly JournalEntry[],
    place: { calendarId: string; periodId: string; payoutIdOf: (entry: JournalEntry) => string | null; event: RecordedEvent },
  ): Promise<void> {
    const rows: SqlParameter[][] = entries.map((entry) => [
      entry.entryId,
      entry.movement,
      entry.payeeId,
      entry.currency,
      entry.postedOn,
      entry.sourceId,
      place.calendarId,
      place.periodId,
      place.payoutIdOf(entry),
      JSON.stringify(entry.legs),
      place.event.eventId,
      place.event.position,
      null,
    ]);
    await insertRows(transaction, `INSERT INTO ledger_entries (${ENTRY_COLUMNS})`, rows);
    addToTotals(entries);
  }

  return {
    name: LEDGER_PROJECTION_NAME,
    version: 1,
    filter: { streamPrefixes: [PERIOD_STREAM_PREFIX], eventTypes: ['PayoutsApproved', 'PayoutsPaid', 'PeriodReopened'] },
    tables: LEDGER_TABLES,
    async setup(transaction) {
      await transaction.run(`CREATE TABLE IF NOT EXISTS ledger_entries (
        entry_id    TEXT PRIMARY KEY,
        movement    TEXT NOT NULL,
        payee_id    TEXT NOT NULL,
        currency    TEXT NOT NULL,
        posted_on   TEXT NOT NULL,
        source_id   TEXT NOT NULL,
        calendar_id TEXT NOT NULL,
        period_id   TEXT NOT NULL,
        payout_id   TEXT,
        legs        TEXT NOT NULL,
        event_id    TEXT NOT NULL,
        position    INTEGER NOT NULL,
        reversed_by TEXT
      )`);
      await transaction.run('CREATE INDEX IF NOT EXISTS ledger_entries_payee ON ledger_entries (payee_id, posted_on)');
      await transaction.run('CREATE INDEX IF NOT EXISTS ledger_entries_period ON ledger_entries (calendar_id, period_id)');
      await transaction.run('CREATE INDEX IF NOT EXISTS ledger_entries_posted_on ON ledger_entries (posted_on)');
      await transaction.run(`CREATE TABLE IF NOT EXISTS ledger_type_days (
        account_type TEXT NOT NULL,
        currency     TEXT NOT NULL,
        posted_on    TEXT NOT NULL,
        debits       TEXT NOT NULL,
        credits      TEXT NOT NULL,
        PRIMARY KEY (account_type, currency, posted_on)
      )`);
    },
    async reset(transaction) {
      for (const table of LEDGER_TABLES) await transaction.run(`DROP TABLE IF EXISTS ${table}`);
    },
    async apply(recorded, transaction) {
      const event = recorded as RecordedPeriodEvent;
      switch (event.type) {
        case 'PayoutsApproved': {
          const { calendarId, periodId, payouts } = event.data;
          const period = periodOfId(periodId);
          if (period === null) throw new Error(`Payouts approved in ${periodId}, which is not a period id`);
          const options = { postedOn: period.end, firstAmortizationMonth: period.start.slice(0, 7), approvalReference: String(recorded.position) };
          const entries: JournalEntry[] = [];
          const payoutOf = new Map<string, string>();
          for (const payout of payouts) {
            for (const entry of postingsForApprovedPayout(payout, options)) {
              entries.push(entry);
              payoutOf.set(entry.entryId, payout.payoutId);
            }
          }
          await write(transaction, entries, { calendarId, periodId, payoutIdOf: (entry) => payoutOf.get(entry.entryId) ?? null, event: recorded });
          return;
        }
        case 'PayoutsPaid': {
          const { calendarId, periodId, paidOn, payouts } = event.data;
          const payoutOf = new Map<string, string>();
          const entries = payouts.flatMap((payout) =>
            postPayoutPaid({ payeeId: payout.payeeId, currency: payout.currency, amount: payout.netPayable, sourceId: payout.payoutId, postedOn: paidOn }).map((entry) => {
              payoutOf.set(entry.entryId, payout.payoutId);
              return entry;
            }),
          );
          await write(transaction, entries, { calendarId, periodId, payoutIdOf: (entry) => payoutOf.get(entry.entryId) ?? null, event: recorded });
          return;
        }
        case 'PeriodReopened': {
          const { calendarId, periodId } = event.data;
          const rows = await transaction.all<LedgerEntryRow>(
            `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE calendar_id = ? AND period_id = ? AND reversed_by IS NULL AND movement <> 'reversal' ORDER BY position, entry_id`,
            [calendarId, periodId],
          );
          const reference = `reopen-${recorded.position}`;
          const reversals = rows.map((row) => ({ row, reversal: reversalOf(entryOfRow(row), reference) }));
          const payoutOf = new Map(rows.map((row) => [row.entry_id, row.payout_id]));
          await write(
            transaction,
            reversals.map(({ reversal }) => reversal),
            { calendarId, periodId, payoutIdOf: (entry) => payoutOf.get(entry.sourceId) ?? null, event: recorded },
          );
          for (let start = 0; start < reversals.length; start += 256) {
            const chunk = reversals.slice(start, start + 256);
            await transaction.run(
              `UPDATE ledger_entries SET reversed_by = CASE entry_id ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE entry_id IN (${chunk.map(() => '?').join(', ')})`,
              [...chunk.flatMap(({ row, reversal }) => [row.entry_id, reversal.entryId]), ...chunk.map(({ row }) => row.entry_id)],
            );
          }
          return;
        }
        default:
          return;
      }
    },
    async flush(transaction) {
      const touched = [...pending.values()];
      pending = new Map();
      for (let start = 0; start < touched.length; start += 128) {
        const chunk = touched.slice(start, start + 128);
        const existing = await transaction.all<{ account_type: string; currency: string; posted_on: string; debits: string; credits: string }>(
          `SELECT account_type, currency, posted_on, debits, credits FROM ledger_type_days WHERE ${chunk.map(() => '(account_type = ? AND currency = ? AND posted_on = ?)').join(' OR ')}`,
          chunk.flatMap((totals) => [totals.accountType, totals.currency, totals.postedOn]),
        );
        const stored = new Map(existing.map((row) => [`${row.account_type}|${row.currency}|${row.posted_on}`, row]));
        await insertRows(
          transaction,
          'INSERT INTO ledger_type_days (account_type, currency, posted_on, debits, credits)',
          chunk.map((totals) => {
            const row = stored.get(`${totals.accountType}|${totals.currency}|${totals.postedOn}`);
            const debits = row === undefined ? totals.debits : ExactDecimal.parse(row.debits).plus(totals.debits);
            const credits = row === undefined ? totals.credits : ExactDecimal.parse(row.credits).plus(totals.credits);
            return [totals.accountType, totals.currency, totals.postedOn, debits.toString(), credits.toString()];
          }),
          'ON CONFLICT (account_type, currency, posted_on) DO UPDATE SET debits = excluded.debits, credits = excluded.credits',
        );
      }
    },
    discard() {
      pending = new Map();
    },
  };
}
