import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { Money, attainmentPercent } from '#lib/shared/domain/money.js';
import { ExactDecimal } from '../domain/exact-decimal.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import { deleteWhereIn, insertRows } from '#lib/projections/sql-rows.js';
import { periodsOfDate } from '#lib/organization/domain/calendar.js';
import { PAYEE_STREAM_PREFIX, type PayeeOnboarded, type QuotaSet } from '#lib/organization/domain/payee.decider.js';
import { DEAL_STREAM_PREFIX, type Credit, type DealEvent } from '#lib/crediting/domain/deal.decider.js';

/**
 * Quota attainment per (payee, period, measure): the credited amount (full-precision decimal string), the
 * quota, attainment % (two decimals, half-even) and how many deals count. A credit counts in the month of its
 * credit date and in that month's quarter and year, so quotas set on any of the three are measured. Primary
 * and overlay credits both count for the payee who holds them.
 *
 * A deal's credits are replaced as a whole whenever they change (allocation, amendment, cancellation), and each
 * such event carries the credits before and after: the projection takes back the one and counts the other, so
 * it needs no memory of its own about deals. Amounts are summed in decimal.js, never by SQL.
 *
 * Credits in another currency than the payee's are not added: they are listed in `attainment_held_credits`
 * with reason FX_RATE_MISSING until the ledger holds FX rates.
 *
 * Within a batch, rows are changed in memory and written once at `flush` (a rebuild touches the same quarter
 * and year rows thousands of times). Use one instance per read-model database: it caches that database's rows.
 */

export const HELD_REASON_FX_RATE_MISSING = 'FX_RATE_MISSING';
/** Defensive: the deal handler only credits onboarded payees, so this means the log is out of order or damaged. */
export const HELD_REASON_PAYEE_UNKNOWN = 'PAYEE_UNKNOWN';

const ATTAINMENT_EVENT_TYPES = ['PayeeOnboarded', 'QuotaSet', 'CreditsAllocated', 'DealAmended', 'DealCancelled'];

/** A credit not counted in attainment, and why. */
interface HeldCredit {
  credit: Credit;
  payeeCurrency: string | null;
  reason: string;
}

/** What one deal adds to one payee's measure, in the month of its credit date. */
interface Contribution {
  payeeId: string;
  measure: string;
  monthId: string;
  /** The payee's currency, which is the credit's (credits in another currency are held, not counted). */
  currency: string;
  amount: ExactDecimal;
}

interface AttainmentRowState {
  payeeId: string;
  periodId: string;
  measure: string;
  currency: string;
  credited: ExactDecimal;
  quota: string | null;
  dealsCounted: number;
}

/** What one batch changed; written at flush, forgotten at discard. */
class BatchState {
  readonly dirtyRows = new Set<AttainmentRowState>();
  readonly newPayees: [payeeId: string, currency: string][] = [];
  /** Held credits to write by credit id; null: the credit is no longer held. */
  readonly heldByCredit = new Map<string, HeldCredit | null>();
}

/** Which attainment row, and the currency it gets if it is new. */
interface RowKey {
  payeeId: string;
  measure: string;
  periodId: string;
  currency: string;
}

/** Past this many cached attainment rows the cache starts over (bounded memory; rows are re-read on demand). */
const ROW_CACHE_LIMIT = 200_000;

/** The month, quarter and year ids of a month id, as the same three strings every time (cheap map keys). */
const periodIdsByMonth = new Map<string, readonly [string, string, string]>();
function periodIdsOfMonth(monthId: string): readonly [string, string, string] {
  let periodIds = periodIdsByMonth.get(monthId);
  if (periodIds === undefined) {
    const { month, quarter, year } = periodsOfDate(`${monthId}-01`);
    periodIds = [month, quarter, year];
    periodIdsByMonth.set(monthId, periodIds);
  }
  return periodIds;
}

/** Attainment rows by payee, measure and period: nested maps, so a lookup never builds a key string. */
class RowCache {
  private readonly byPayee = new Map<string, Map<string, Map<string, AttainmentRowState>>>();
  size = 0;

  get(payeeId: string, measure: string, periodId: string): AttainmentRowState | undefined {
    return this.byPayee.get(payeeId)?.get(measure)?.get(periodId);
  }

  set(row: AttainmentRowState): void {
    let byMeasure = this.byPayee.get(row.payeeId);
    if (byMeasure === undefined) {
      byMeasure = new Map();
      this.byPayee.set(row.payeeId, byMeasure);
    }
    let byPeriod = byMeasure.get(row.measure);
    if (byPeriod === undefined) {
      byPeriod = new Map();
      byMeasure.set(row.measure, byPeriod);
    }
    if (!byPeriod.has(row.periodId)) this.size++;
    byPeriod.set(row.periodId, row);
  }

  clear(): void {
    this.byPayee.clear();
    this.size = 0;
  }
}

export function createAttainmentProjection(): Projection {
  /**
   * A payee's currency (null: looked up and not onboarded). It never changes once onboarded, so it is remembered
   * across batches; an entry from a batch that was rolled back holds the same value its replay writes.
   */
  const currencyByPayee = new Map<string, string | null>();
  /**
   * Attainment rows as committed plus this batch's changes. Only this projection writes its tables, so the cache
   * stays true across batches; a rolled-back batch empties it. `rowCacheComplete` means every stored row is in
   * the cache (true from an empty table on), so a miss needs no read: this is what keeps a rebuild fast.
   */
  const rowCache = new RowCache();
  let rowCacheComplete = false;
  let batch = new BatchState();

  const forgetCachedState = (): void => {
    rowCache.clear();
    rowCacheComplete = false;
    batch = new BatchState();
  };

  // Applying an event runs synchronously on what the caches hold. When they lack something, it is read first
  // (the only awaits), and the synchronous part runs after: a rebuild never waits.

  async function loadCurrencies(transaction: ReadModelTransaction, payeeIds: readonly string[]): Promise<void> {
    for (const payeeId of payeeIds) {
      const row = await transaction.get<{ currency: string }>('SELECT currency FROM attainment_payees WHERE payee_id = ?', [payeeId]);
      currencyByPayee.set(payeeId, row?.currency ?? null);
    }
  }

  async function loadRows(transaction: ReadModelTransaction, keys: readonly RowKey[]): Promise<void> {
    for (const { payeeId, measure, periodId, currency } of keys) {
      if (rowCache.get(payeeId, measure, periodId) !== undefined) continue;
      const stored = await transaction.get<{ currency: string; credited_amount: string; quota_amount: string | null; deals_counted: number }>(
        'SELECT currency, credited_amount, quota_amount, deals_counted FROM attainment WHERE payee_id = ? AND period_id = ? AND measure = ?',
        [payeeId, periodId, measure],
      );
      rowCache.set({
        payeeId,
        periodId,
        measure,
        currency: stored?.currency ?? currency,
        credited: stored === undefined ? ExactDecimal.ZERO : ExactDecimal.parse(stored.credited_amount),
        quota: stored?.quota_amount ?? null,
        dealsCounted: stored?.deals_counted ?? 0,
      });
    }
  }

  /** The cached row, a new one when the cache is complete, or undefined when it must be read first. */
  function cachedRow(key: RowKey): AttainmentRowState | undefined {
    const row = rowCache.get(key.payeeId, key.measure, key.periodId);
    if (row !== undefined || !rowCacheComplete) return row;
    const created: AttainmentRowState = { ...key, credited: ExactDecimal.ZERO, quota: null, dealsCounted: 0 };
    rowCache.set(created);
    return created;
  }

  /**
   * What a deal's credits contribute, per payee and measure (a payee with primary and overlay credit on one deal
   * has one contribution per measure, so the deal counts once), and the credits held out of attainment.
   * Every payee's currency must be cached.
   */
  function contributionsOf(credits: readonly Credit[]): { counted: Contribution[]; held: HeldCredit[] } {
    const counted: Contribution[] = [];
    const held: HeldCredit[] = [];
    for (const credit of credits) {
      const currency = currencyByPayee.get(credit.payeeId) ?? null;
      if (currency !== credit.currency) {
        held.push({ credit, payeeCurrency: currency, reason: currency === null ? HELD_REASON_PAYEE_UNKNOWN : HELD_REASON_FX_RATE_MISSING });
        continue;
      }
      const monthId = credit.creditDate.slice(0, 7);
      for (const measure in credit.amounts) {
        const same = counted.find((contribution) => contribution.payeeId === credit.payeeId && contribution.measure === measure);
        if (same === undefined) counted.push({ payeeId: credit.payeeId, measure, monthId, currency, amount: ExactDecimal.parse(credit.amounts[measure]) });
        else same.amount = same.amount.plus(ExactDecimal.parse(credit.amounts[measure]));
      }
    }
    return { counted, held };
  }

  function rowKeysOf(contributions: readonly Contribution[]): RowKey[] {
    return contributions.flatMap(({ payeeId, measure, monthId, currency }) =>
      periodIdsOfMonth(monthId).map((periodId) => ({ payeeId, measure, periodId, currency })),
    );
  }

  /** Adds an amount and a deal count (1, 0 or -1) to a contribution's month, quarter and year rows, which are cached. */
  function count(contribution: Contribution, amount: ExactDecimal, deals: number): void {
    for (const periodId of periodIdsOfMonth(contribution.monthId)) {
      const row = cachedRow({ payeeId: contribution.payeeId, measure: contribution.measure, periodId, currency: contribution.currency });
      if (row === undefined) throw new Error(`Attainment row ${contribution.payeeId}/${periodId}/${contribution.measure} was not loaded`);
      batch.dirtyRows.add(row);
      row.credited = row.credited.plus(amount);
      row.dealsCounted += deals;
    }
  }

  function replaceDealCredits(transaction: ReadModelTransaction, previousCredits: readonly Credit[], credits: readonly Credit[]): void | Promise<void> {
    const unknownPayees = [...previousCredits, ...credits].map((credit) => credit.payeeId).filter((payeeId) => !currencyByPayee.has(payeeId));
    if (unknownPayees.length > 0) {
      return loadCurrencies(transaction, [...new Set(unknownPayees)]).then(() => replaceDealCredits(transaction, previousCredits, credits));
    }
    const previous = previousCredits.length === 0 ? { counted: [], held: [] } : contributionsOf(previousCredits);
    const next = contributionsOf(credits);
    if (!rowCacheComplete) {
      const missing = rowKeysOf([...previous.counted, ...next.counted]).filter((key) => cachedRow(key) === undefined);
      if (missing.length > 0) return loadRows(transaction, missing).then(() => countDifference(previous, next));
    }
    countDifference(previous, next);
  }

  /**
   * Takes back what the deal contributed before and adds what it contributes now. Where both land in the same
   * month for the same payee and measure, only the difference moves, and the deal stays counted.
   */
  function countDifference(previous: { counted: Contribution[]; held: HeldCredit[] }, next: { counted: Contribution[]; held: HeldCredit[] }): void {
    const sameSlot = (left: Contribution, right: Contribution): boolean =>
      left.payeeId === right.payeeId && left.measure === right.measure && left.monthId === right.monthId;
    for (const before of previous.counted) {
      const after = next.counted.find((contribution) => sameSlot(contribution, before));
      if (after === undefined) count(before, before.amount.negated(), -1);
      else if (!after.amount.equals(before.amount)) count(before, after.amount.minus(before.amount), 0);
    }
    for (const after of next.counted) {
      if (!previous.counted.some((before) => sameSlot(before, after))) count(after, after.amount, 1);
    }
    for (const { credit } of previous.held) batch.heldByCredit.set(credit.creditId, null);
    for (const held of next.held) batch.heldByCredit.set(held.credit.creditId, held);
  }

  function setQuota(transaction: ReadModelTransaction, event: QuotaSet): void | Promise<void> {
    const { payeeId, periodId, measure, amount, currency } = event.data;
    const key = { payeeId, measure, periodId, currency };
    const row = cachedRow(key);
    if (row === undefined) return loadRows(transaction, [key]).then(() => setQuota(transaction, event));
    row.quota = amount;
    batch.dirtyRows.add(row);
  }

  async function flush(transaction: ReadModelTransaction): Promise<void> {
    await insertRows(transaction, 'INSERT INTO attainment_payees (payee_id, currency)', batch.newPayees);
    const heldCreditIds = [...batch.heldByCredit.keys()];
    await deleteWhereIn(transaction, 'attainment_held_credits', 'credit_id', heldCreditIds);
    const heldRows: SqlParameter[][] = [];
    for (const held of batch.heldByCredit.values()) {
      if (held === null) continue;
      const { credit, payeeCurrency, reason } = held;
      const periods = periodsOfDate(credit.creditDate);
      for (const measure in credit.amounts) {
        heldRows.push([
          credit.creditId,
          measure,
          credit.dealId,
          credit.payeeId,
          credit.creditDate,
          periods.month,
          periods.quarter,
          periods.year,
          credit.amounts[measure],
          credit.currency,
          payeeCurrency,
          reason,
        ]);
      }
    }
    await insertRows(
      transaction,
      `INSERT INTO attainment_held_credits (credit_id, measure, deal_id, payee_id, credit_date, month_id, quarter_id, year_id, amount, currency,
                                            payee_currency, reason)`,
      heldRows,
    );
    const attainmentRows: SqlParameter[][] = [];
    for (const row of batch.dirtyRows) {
      const percent = row.quota === null ? null : attainmentPercent(row.credited.toMoney(), new Money(row.quota));
      attainmentRows.push([row.payeeId, row.periodId, row.measure, row.currency, row.credited.toString(), row.quota, percent, row.dealsCounted]);
    }
    await insertRows(
      transaction,
      'INSERT INTO attainment (payee_id, period_id, measure, currency, credited_amount, quota_amount, attainment_percent, deals_counted)',
      attainmentRows,
      `ON CONFLICT (payee_id, period_id, measure) DO UPDATE SET
         currency = excluded.currency, credited_amount = excluded.credited_amount, quota_amount = excluded.quota_amount,
         attainment_percent = excluded.attainment_percent, deals_counted = excluded.deals_counted`,
    );
    batch = new BatchState();
    if (rowCache.size > ROW_CACHE_LIMIT) {
      rowCache.clear();
      rowCacheComplete = false;
    }
  }

  return {
    name: 'attainment',
    filter: { streamPrefixes: [PAYEE_STREAM_PREFIX, DEAL_STREAM_PREFIX], eventTypes: ATTAINMENT_EVENT_TYPES },
    tables: ['attainment', 'attainment_payees', 'attainment_held_credits'],

    async setup(transaction) {
      await transaction.run('CREATE TABLE IF NOT EXISTS attainment_payees (payee_id TEXT PRIMARY KEY, currency TEXT NOT NULL)');
      await transaction.run(`CREATE TABLE IF NOT EXISTS attainment (
        payee_id           TEXT NOT NULL,
        period_id          TEXT NOT NULL,
        measure            TEXT NOT NULL,
        currency           TEXT NOT NULL,
        credited_amount    TEXT NOT NULL,
        quota_amount       TEXT,
        attainment_percent TEXT,
        deals_counted      INTEGER NOT NULL,
        PRIMARY KEY (payee_id, period_id, measure)
      )`);
      await transaction.run('CREATE INDEX IF NOT EXISTS attainment_period ON attainment (period_id, measure, payee_id)');
      await transaction.run(`CREATE TABLE IF NOT EXISTS attainment_held_credits (
        credit_id      TEXT NOT NULL,
        measure        TEXT NOT NULL,
        deal_id        TEXT NOT NULL,
        payee_id       TEXT NOT NULL,
        credit_date    TEXT NOT NULL,
        month_id       TEXT NOT NULL,
        quarter_id     TEXT NOT NULL,
        year_id        TEXT NOT NULL,
        amount         TEXT NOT NULL,
        currency       TEXT NOT NULL,
        payee_currency TEXT,
        reason         TEXT NOT NULL,
        PRIMARY KEY (credit_id, measure)
      )`);
      await transaction.run('CREATE INDEX IF NOT EXISTS attainment_held_credits_payee ON attainment_held_credits (payee_id, month_id)');
      forgetCachedState();
      rowCacheComplete = (await transaction.get('SELECT 1 AS found FROM attainment LIMIT 1')) === undefined;
    },

    async reset(transaction) {
      currencyByPayee.clear();
      forgetCachedState();
      for (const table of ['attainment_held_credits', 'attainment', 'attainment_payees']) {
        await transaction.run(`DROP TABLE IF EXISTS ${table}`);
      }
    },

    apply(recorded: RecordedEvent, transaction: ReadModelTransaction) {
      const event = recorded as unknown as (DealEvent | PayeeOnboarded | QuotaSet) & RecordedEvent;
      switch (event.type) {
        case 'PayeeOnboarded':
          batch.newPayees.push([event.data.payeeId, event.data.currency]);
          currencyByPayee.set(event.data.payeeId, event.data.currency);
          return;
        case 'QuotaSet':
          return setQuota(transaction, event);
        case 'CreditsAllocated':
        case 'DealAmended':
          return replaceDealCredits(transaction, event.data.previousCredits, event.data.credits);
        case 'DealCancelled':
          return replaceDealCredits(transaction, event.data.reversedCredits, []);
        case 'DealClosedWon':
          // Its credits arrive in the CreditsAllocated recorded with it.
          return;
        default: {
          const unexpected: never = event;
          throw new Error(`Unexpected event ${(unexpected as RecordedEvent).type}`);
        }
      }
    },

    flush,

    discard() {
      forgetCachedState();
    },
  };
}
