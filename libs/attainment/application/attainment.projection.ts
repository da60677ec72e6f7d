import { Decimal } from 'decimal.js';
import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { Money, attainmentPercent } from '#lib/shared/domain/money.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction } from '#lib/projections/read-model.port.js';
import { periodsOfDate } from '#lib/organization/domain/calendar.js';
import { PAYEE_STREAM_PREFIX, type PayeeOnboarded, type QuotaSet } from '#lib/organization/domain/payee.decider.js';
import { DEAL_STREAM_PREFIX, type Credit, type DealEvent } from '#lib/crediting/domain/deal.decider.js';

/**
 * Quota attainment per (payee, period, measure): the credited amount (full-precision decimal string), the
 * quota, attainment % (two decimals, half-even) and how many deals count. A credit counts in the month of its
 * credit date and in that month's quarter and year, so quotas set on any of the three are measured. Primary
 * and overlay credits both count for the payee who holds them.
 *
 * A deal's credits are replaced as a whole whenever they change (allocation, amendment, cancellation): the
 * projection keeps what each deal contributed (`attainment_contributions`) and applies the difference, so
 * amounts are summed in decimal.js and never by SQL.
 *
 * Credits in another currency than the payee's are not added: they are listed in `attainment_held_credits`
 * with reason FX_RATE_MISSING until the ledger holds FX rates.
 */

export const HELD_REASON_FX_RATE_MISSING = 'FX_RATE_MISSING';
/** Defensive: the deal handler only credits onboarded payees, so this means the log is out of order or damaged. */
export const HELD_REASON_PAYEE_UNKNOWN = 'PAYEE_UNKNOWN';

const ATTAINMENT_EVENT_TYPES = ['PayeeOnboarded', 'QuotaSet', 'CreditsAllocated', 'DealAmended', 'DealCancelled'];

interface Contribution {
  payeeId: string;
  measure: string;
  monthId: string;
  amount: Decimal;
}

interface AttainmentRow {
  currency: string;
  credited_amount: string;
  quota_amount: string | null;
  deals_counted: number;
}

interface Delta {
  payeeId: string;
  periodId: string;
  measure: string;
  amount: Decimal;
  deals: number;
}

const contributionKey = (payeeId: string, measure: string): string => `${payeeId}\u0000${measure}`;

export function createAttainmentProjection(): Projection {
  /**
   * A payee's currency never changes once onboarded, so it is remembered across batches. An entry for a batch
   * that was rolled back holds the same value the replay will write, so it is never wrong.
   */
  const currencyByPayee = new Map<string, string>();

  async function payeeCurrency(transaction: ReadModelTransaction, payeeId: string): Promise<string | null> {
    const cached = currencyByPayee.get(payeeId);
    if (cached !== undefined) return cached;
    const row = await transaction.get<{ currency: string }>('SELECT currency FROM attainment_payees WHERE payee_id = ?', [payeeId]);
    if (row !== undefined) currencyByPayee.set(payeeId, row.currency);
    return row?.currency ?? null;
  }

  async function applyDelta(transaction: ReadModelTransaction, delta: Delta, currency: string): Promise<void> {
    const row = await transaction.get<AttainmentRow>(
      'SELECT currency, credited_amount, quota_amount, deals_counted FROM attainment WHERE payee_id = ? AND period_id = ? AND measure = ?',
      [delta.payeeId, delta.periodId, delta.measure],
    );
    const credited = (row === undefined ? new Money(0) : new Money(row.credited_amount)).plus(delta.amount);
    const quota = row?.quota_amount ?? null;
    await writeAttainment(transaction, {
      payeeId: delta.payeeId,
      periodId: delta.periodId,
      measure: delta.measure,
      currency: row?.currency ?? currency,
      credited,
      quota,
      dealsCounted: (row?.deals_counted ?? 0) + delta.deals,
    });
  }

  async function replaceDealCredits(transaction: ReadModelTransaction, dealId: string, credits: readonly Credit[]): Promise<void> {
    const previousRows = await transaction.all<{ payee_id: string; measure: string; month_id: string; amount: string }>(
      'SELECT payee_id, measure, month_id, amount FROM attainment_contributions WHERE deal_id = ?',
      [dealId],
    );
    const previous: Contribution[] = previousRows.map((row) => ({
      payeeId: row.payee_id,
      measure: row.measure,
      monthId: row.month_id,
      amount: new Money(row.amount),
    }));

    const next = new Map<string, Contribution>();
    const currencies = new Map<string, string>();
    const held: { credit: Credit; measure: string; amount: string; payeeCurrency: string | null; reason: string }[] = [];
    for (const credit of credits) {
      const currency = await payeeCurrency(transaction, credit.payeeId);
      const monthId = periodsOfDate(credit.creditDate).month;
      for (const [measure, amount] of Object.entries(credit.amounts)) {
        if (currency !== credit.currency) {
          held.push({ credit, measure, amount, payeeCurrency: currency, reason: currency === null ? HELD_REASON_PAYEE_UNKNOWN : HELD_REASON_FX_RATE_MISSING });
          continue;
        }
        currencies.set(credit.payeeId, currency);
        // A payee with primary and overlay credit on one deal has one contribution: the deal counts once.
        const key = contributionKey(credit.payeeId, measure);
        const existing = next.get(key);
        next.set(key, { payeeId: credit.payeeId, measure, monthId, amount: (existing?.amount ?? new Money(0)).plus(amount) });
      }
    }

    const deltas = new Map<string, Delta>();
    const addDelta = (contribution: Contribution, sign: 1 | -1): void => {
      const periods = periodsOfDate(`${contribution.monthId}-01`);
      for (const periodId of [periods.month, periods.quarter, periods.year]) {
        const key = `${contribution.payeeId}\u0000${periodId}\u0000${contribution.measure}`;
        const delta = deltas.get(key) ?? { payeeId: contribution.payeeId, periodId, measure: contribution.measure, amount: new Money(0), deals: 0 };
        delta.amount = sign === 1 ? delta.amount.plus(contribution.amount) : delta.amount.minus(contribution.amount);
        delta.deals += sign;
        deltas.set(key, delta);
      }
    };
    for (const contribution of previous) addDelta(contribution, -1);
    for (const contribution of next.values()) addDelta(contribution, 1);

    for (const delta of deltas.values()) {
      if (delta.amount.isZero() && delta.deals === 0) continue;
      const currency = currencies.get(delta.payeeId) ?? (await payeeCurrency(transaction, delta.payeeId));
      if (currency === null) throw new Error(`Attainment for payee ${delta.payeeId}, whose currency is unknown`);
      await applyDelta(transaction, delta, currency);
    }

    if (previous.length > 0) await transaction.run('DELETE FROM attainment_contributions WHERE deal_id = ?', [dealId]);
    for (const contribution of next.values()) {
      await transaction.run('INSERT INTO attainment_contributions (deal_id, payee_id, measure, month_id, amount) VALUES (?, ?, ?, ?, ?)', [
        dealId,
        contribution.payeeId,
        contribution.measure,
        contribution.monthId,
        contribution.amount.toFixed(),
      ]);
    }

    await transaction.run('DELETE FROM attainment_held_credits WHERE deal_id = ?', [dealId]);
    for (const { credit, measure, amount, payeeCurrency: currency, reason } of held) {
      const periods = periodsOfDate(credit.creditDate);
      await transaction.run(
        `INSERT INTO attainment_held_credits (credit_id, measure, deal_id, payee_id, credit_date, month_id, quarter_id, year_id, amount, currency,
                                              payee_currency, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [credit.creditId, measure, dealId, credit.payeeId, credit.creditDate, periods.month, periods.quarter, periods.year, amount, credit.currency, currency, reason],
      );
    }
  }

  async function applyQuota(transaction: ReadModelTransaction, event: QuotaSet): Promise<void> {
    const { payeeId, periodId, measure, amount, currency } = event.data;
    const row = await transaction.get<AttainmentRow>(
      'SELECT currency, credited_amount, quota_amount, deals_counted FROM attainment WHERE payee_id = ? AND period_id = ? AND measure = ?',
      [payeeId, periodId, measure],
    );
    await writeAttainment(transaction, {
      payeeId,
      periodId,
      measure,
      currency: row?.currency ?? currency,
      credited: new Money(row?.credited_amount ?? 0),
      quota: amount,
      dealsCounted: row?.deals_counted ?? 0,
    });
  }

  return {
    name: 'attainment',
    filter: { streamPrefixes: [PAYEE_STREAM_PREFIX, DEAL_STREAM_PREFIX], eventTypes: ATTAINMENT_EVENT_TYPES },
    tables: ['attainment', 'attainment_payees', 'attainment_contributions', 'attainment_held_credits'],

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
      await transaction.run(`CREATE TABLE IF NOT EXISTS attainment_contributions (
        deal_id  TEXT NOT NULL,
        payee_id TEXT NOT NULL,
        measure  TEXT NOT NULL,
        month_id TEXT NOT NULL,
        amount   TEXT NOT NULL,
        PRIMARY KEY (deal_id, payee_id, measure)
      )`);
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
      await transaction.run('CREATE INDEX IF NOT EXISTS attainment_held_credits_deal ON attainment_held_credits (deal_id)');
      await transaction.run('CREATE INDEX IF NOT EXISTS attainment_held_credits_payee ON attainment_held_credits (payee_id, month_id)');
    },

    async reset(transaction) {
      currencyByPayee.clear();
      for (const table of ['attainment_held_credits', 'attainment_contributions', 'attainment', 'attainment_payees']) {
        await transaction.run(`DROP TABLE IF EXISTS ${table}`);
      }
    },

    async apply(recorded: RecordedEvent, transaction: ReadModelTransaction) {
      const event = recorded as unknown as (DealEvent | PayeeOnboarded | QuotaSet) & RecordedEvent;
      switch (event.type) {
        case 'PayeeOnboarded':
          await transaction.run('INSERT INTO attainment_payees (payee_id, currency) VALUES (?, ?)', [event.data.payeeId, event.data.currency]);
          currencyByPayee.set(event.data.payeeId, event.data.currency);
          return;
        case 'QuotaSet':
          return applyQuota(transaction, event);
        case 'CreditsAllocated':
        case 'DealAmended':
          return replaceDealCredits(transaction, event.data.dealId, event.data.credits);
        case 'DealCancelled':
          return replaceDealCredits(transaction, event.data.dealId, []);
        case 'DealClosedWon':
          // Its credits arrive in the CreditsAllocated recorded with it.
          return;
        default: {
          const unexpected: never = event;
          throw new Error(`Unexpected event ${(unexpected as RecordedEvent).type}`);
        }
      }
    },
  };
}

async function writeAttainment(
  transaction: ReadModelTransaction,
  row: { payeeId: string; periodId: string; measure: string; currency: string; credited: Decimal; quota: string | null; dealsCounted: number },
): Promise<void> {
  const percent = attainmentPercent(row.credited, row.quota === null ? null : new Money(row.quota));
  await transaction.run(
    `INSERT INTO attainment (payee_id, period_id, measure, currency, credited_amount, quota_amount, attainment_percent, deals_counted)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (payee_id, period_id, measure) DO UPDATE SET
       credited_amount = excluded.credited_amount, quota_amount = excluded.quota_amount,
       attainment_percent = excluded.attainment_percent, deals_counted = excluded.deals_counted`,
    [row.payeeId, row.periodId, row.measure, row.currency, row.credited.toFixed(), row.quota, percent, row.dealsCounted],
  );
}
