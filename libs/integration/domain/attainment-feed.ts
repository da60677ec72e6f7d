import { ExactDecimal } from '#lib/attainment/domain/exact-decimal.js';
import { Money, attainmentPercent } from '#lib/shared/domain/money.js';
import { periodsOfDate } from '#lib/organization/domain/calendar.js';
import type { PayeeOnboarded, QuotaSet } from '#lib/organization/domain/payee.decider.js';
import type { Credit, DealEvent } from '#lib/crediting/domain/deal.decider.js';

/**
 * What forecasting hears about attainment (topic icm.attainment.v1): after each event that changes a payee's
 * attainment for a period and measure, that row's totals. The rules are the attainment read model's
 * (libs/attainment/application/attainment.projection.ts): a credit counts in the month of its credit date and that
 * month's quarter and year; primary and overlay credit both count, and a deal counts once per payee and measure;
 * a credit in another currency than the payee's is held, not counted.
 *
 * The feed keeps its own rows rather than reading the read model: a message must say what the row was right after
 * its event, and the same event must give the same message when it is published again after a crash, whatever the
 * read models are doing (a rebuild, a lag). The relay stores these rows with its checkpoint.
 */

export const ATTAINMENT_FEED_EVENT_TYPES = ['PayeeOnboarded', 'QuotaSet', 'CreditsAllocated', 'DealAmended', 'DealCancelled'] as const;

export type AttainmentFeedEvent = PayeeOnboarded | QuotaSet | DealEvent;

export interface AttainmentRow {
  payeeId: string;
  periodId: string;
  measure: string;
  /** The payee's currency (or the quota's, for a quota set before any credit). */
  currency: string;
  credited: ExactDecimal;
  quota: string | null;
  dealsCounted: number;
}

export type AttainmentChangeReason = 'credited' | 'cancelled' | 'quota';

export interface AttainmentChange {
  payeeId: string;
  periodId: string;
  measure: string;
  currency: string;
  /** Full precision, decimal string. */
  credited: string;
  quota: string | null;
  /** Two decimals, half-even; null without a quota. */
  attainmentPercent: string | null;
  dealsCounted: number;
  reason: AttainmentChangeReason;
  dealId: string | null;
}

interface Contribution {
  payeeId: string;
  measure: string;
  monthId: string;
  currency: string;
  amount: ExactDecimal;
}

const rowKey = (payeeId: string, measure: string, periodId: string): string => `${payeeId}\u0000${measure}\u0000${periodId}`;

function periodIdsOfMonth(monthId: string): [string, string, string] {
  const { month, quarter, year } = periodsOfDate(`${monthId}-01`);
  return [month, quarter, year];
}

/** The attainment rows the feed has published, and the changes each new event makes to them. */
export class AttainmentFeed {
  private readonly rows = new Map<string, AttainmentRow>();
  private readonly currencyByPayee = new Map<string, string>();
  private readonly dirtyRows = new Set<AttainmentRow>();
  private readonly dirtyPayees = new Map<string, string>();

  /** Rows and payee currencies as stored with the relay's checkpoint. */
  load(rows: Iterable<AttainmentRow>, payees: Iterable<[payeeId: string, currency: string]>): void {
    for (const row of rows) this.rows.set(rowKey(row.payeeId, row.measure, row.periodId), row);
    for (const [payeeId, currency] of payees) this.currencyByPayee.set(payeeId, currency);
  }

  /** The changes the event makes, in a stable order (the order its credits and periods are listed). */
  apply(event: AttainmentFeedEvent): AttainmentChange[] {
    switch (event.type) {
      case 'PayeeOnboarded':
        this.currencyByPayee.set(event.data.payeeId, event.data.currency);
        this.dirtyPayees.set(event.data.payeeId, event.data.currency);
        return [];
      case 'QuotaSet': {
        const { payeeId, periodId, measure, amount, currency } = event.data;
        const row = this.row(payeeId, measure, periodId, currency);
        if (row.quota !== null && new Money(row.quota).equals(amount)) return [];
        row.quota = amount;
        this.dirtyRows.add(row);
        return [changeOf(row, 'quota', null)];
      }
      case 'CreditsAllocated':
      case 'DealAmended':
        return this.replaceCredits(event.data.dealId, event.data.previousCredits, event.data.credits, 'credited');
      case 'DealCancelled':
        return this.replaceCredits(event.data.dealId, event.data.reversedCredits, [], 'cancelled');
      case 'DealClosedWon':
        // Its credits arrive in the CreditsAllocated recorded with it.
        return [];
      default: {
        const unexpected: never = event;
        throw new Error(`Unexpected event ${(unexpected as { type: string }).type}`);
      }
    }
  }

  /**
   * Rows and payees changed since the last call, as they stand now (copies: later events do not change them): what
   * the relay stores with the checkpoint of the events applied so far.
   */
  takeChanged(): { rows: AttainmentRow[]; payees: [payeeId: string, currency: string][] } {
    const changed = { rows: [...this.dirtyRows].map((row) => ({ ...row })), payees: [...this.dirtyPayees] };
    this.dirtyRows.clear();
    this.dirtyPayees.clear();
    return changed;
  }

  private row(payeeId: string, measure: string, periodId: string, currency: string): AttainmentRow {
    const key = rowKey(payeeId, measure, periodId);
    let row = this.rows.get(key);
    if (row === undefined) {
      row = { payeeId, periodId, measure, currency, credited: ExactDecimal.ZERO, quota: null, dealsCounted: 0 };
      this.rows.set(key, row);
    }
    return row;
  }

  /** Per payee and measure (a payee with primary and overlay credit on one deal counts the deal once). */
  private contributionsOf(credits: readonly Credit[]): Contribution[] {
    const counted: Contribution[] = [];
    for (const credit of credits) {
      const currency = this.currencyByPayee.get(credit.payeeId);
      if (currency !== credit.currency) continue;
      const monthId = credit.creditDate.slice(0, 7);
      for (const measure in credit.amounts) {
        const amount = ExactDecimal.parse(credit.amounts[measure]);
        const same = counted.find((contribution) => contribution.payeeId === credit.payeeId && contribution.measure === measure);
        if (same === undefined) counted.push({ payeeId: credit.payeeId, measure, monthId, currency, amount });
        else same.amount = same.amount.plus(amount);
      }
    }
    return counted;
  }

  private replaceCredits(dealId: string, previousCredits: readonly Credit[], credits: readonly Credit[], reason: AttainmentChangeReason): AttainmentChange[] {
    const previous = this.contributionsOf(previousCredits);
    const next = this.contributionsOf(credits);
    const sameSlot = (left: Contribution, right: Contribution): boolean =>
      left.payeeId === right.payeeId && left.measure === right.measure && left.monthId === right.monthId;
    const touched: AttainmentRow[] = [];
    const add = (contribution: Contribution, amount: ExactDecimal, deals: number): void => {
      for (const periodId of periodIdsOfMonth(contribution.monthId)) {
        const row = this.row(contribution.payeeId, contribution.measure, periodId, contribution.currency);
        row.credited = row.credited.plus(amount);
        row.dealsCounted += deals;
        if (!touched.includes(row)) touched.push(row);
      }
    };
    const before = new Map<AttainmentRow, { credited: ExactDecimal; dealsCounted: number }>();
    const remember = (contribution: Contribution): void => {
      for (const periodId of periodIdsOfMonth(contribution.monthId)) {
        const row = this.row(contribution.payeeId, contribution.measure, periodId, contribution.currency);
        if (!before.has(row)) before.set(row, { credited: row.credited, dealsCounted: row.dealsCounted });
      }
    };
    for (const contribution of [...previous, ...next]) remember(contribution);
    for (const earlier of previous) {
      const later = next.find((contribution) => sameSlot(contribution, earlier));
      if (later === undefined) add(earlier, earlier.amount.negated(), -1);
      else if (!later.amount.equals(earlier.amount)) add(earlier, later.amount.minus(earlier.amount), 0);
    }
    for (const later of next) {
      if (!previous.some((earlier) => sameSlot(earlier, later))) add(later, later.amount, 1);
    }
    const changes: AttainmentChange[] = [];
    for (const row of touched) {
      const was = before.get(row)!;
      if (was.credited.equals(row.credited) && was.dealsCounted === row.dealsCounted) continue;
      this.dirtyRows.add(row);
      changes.push(changeOf(row, reason, dealId));
    }
    return changes;
  }
}

function changeOf(row: AttainmentRow, reason: AttainmentChangeReason, dealId: string | null): AttainmentChange {
  return {
    payeeId: row.payeeId,
    periodId: row.periodId,
    measure: row.measure,
    currency: row.currency,
    credited: row.credited.toString(),
    quota: row.quota,
    attainmentPercent: row.quota === null ? null : attainmentPercent(row.credited.toMoney(), new Money(row.quota)),
    dealsCounted: row.dealsCounted,
    reason,
    dealId,
  };
}
