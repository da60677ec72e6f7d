import { validationError } from '#lib/shared/domain/domain-error.js';
import type { Payout, PayoutFigures } from '#lib/payouts/domain/payout.js';
import type { FrozenPostedLine } from '#lib/payouts/domain/period.decider.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { isPayableLine, type StatementSummary } from '#lib/payouts/domain/statement-summary.js';
import type { JournalEntry } from './journal-entry.js';
import {
  postAdjustment,
  postAmortizationSchedule,
  postCapitalization,
  postClawback,
  postDrawAdvance,
  postDrawRecovery,
  postEarnedCommission,
  postPayoutPaid,
} from './postings.js';

/**
 * The entries a computed payout makes, line by line so each entry traces to the statement line behind it:
 * earned lines are expensed (or capitalised when the caller names them capitalizable), adjustments and clawbacks
 * post as such, then the draw advance and draw recovery of the payout. Held lines pay nothing and post nothing.
 * The payment itself posts later, when payroll confirms it (postPayoutPaidFor).
 */
export interface PayoutPostingOptions {
  postedOn: string;
  /** Line ids of earned lines to capitalise instead of expensing (their amortisation is posted from the schedule). */
  capitalizableLineIds?: ReadonlySet<string>;
}

export function postingsForPayout(payout: Payout, statement: StatementSummary, { postedOn, capitalizableLineIds }: PayoutPostingOptions): JournalEntry[] {
  if (statement.payeeId !== payout.payeeId || statement.periodId !== payout.periodId || statement.currency !== payout.currency) {
    throw validationError('LEDGER.PAYOUT_STATEMENT_MISMATCH', 'The statement is not the one the payout was computed from', [
      { field: 'statement', message: `must be payee ${payout.payeeId}'s ${payout.periodId} statement in ${payout.currency}` },
    ]);
  }
  const { payeeId, currency } = payout;
  const entries: JournalEntry[] = [];
  for (const line of statement.lines) {
    if (!isPayableLine(line)) continue;
    const input = { payeeId, currency, amount: line.amount, sourceId: line.lineId, postedOn };
    if (line.kind === 'adjustment') entries.push(...postAdjustment(input));
    else if (line.kind === 'clawback') entries.push(...postClawback(input));
    else if (capitalizableLineIds?.has(line.lineId)) entries.push(...postCapitalization(input));
    else entries.push(...postEarnedCommission(input));
  }
  if (payout.drawKind !== null) {
    entries.push(...postDrawAdvance({ payeeId, currency, amount: payout.drawPaid, sourceId: payout.payoutId, postedOn, drawKind: payout.drawKind }));
  }
  entries.push(...postDrawRecovery({ payeeId, currency, amount: payout.drawRecovered, sourceId: payout.payoutId, postedOn }));
  return entries;
}

export const postPayoutPaidFor = (payout: Payout, postedOn: string): JournalEntry[] =>
  postPayoutPaid({ payeeId: payout.payeeId, currency: payout.currency, amount: payout.netPayable, sourceId: payout.payoutId, postedOn });

/** An approved payout as the period records it: its figures and the lines posted to the frozen statement. */
export interface ApprovedPayoutPosting {
  payeeId: string;
  payoutId: string;
  currency: string;
  figures: PayoutFigures;
  postedLines: readonly FrozenPostedLine[];
}

export interface ApprovedPayoutPostingOptions {
  /** Business date of the entries: the last day of the period. */
  postedOn: string;
  /** First month of amortisation of what is capitalised (YYYY-MM): the period's first month. */
  firstAmortizationMonth: string;
  /** Distinguishes this approval from an earlier one of the same payout voided by a reopen (e.g. the approval's log position). */
  approvalReference: string;
}

/**
 * The entries an approved payout makes, from its figures: gross earned expensed, or capitalised and amortised
 * straight-line over its benefit period where the plan says so (ASC 340-40); each posted line as the adjustment or
 * clawback it is, traced by its line id; then the draw advanced and recovered. The payment posts later, when
 * payroll confirms it (postPayoutPaidFor / postPayoutPaid).
 *
 * commissions_payable moves by gross + adjustments + clawbacks + draw paid - draw recovered; the payout's net payable
 * differs from that only by clawbacks not yet netted (the earnings deficit), which the payable account carries.
 */
export function postingsForApprovedPayout(payout: ApprovedPayoutPosting, options: ApprovedPayoutPostingOptions): JournalEntry[] {
  const { payeeId, currency, figures } = payout;
  const { postedOn, firstAmortizationMonth, approvalReference } = options;
  const sourceOf = (id: string): string => `${id}@${approvalReference}`;
  const entries: JournalEntry[] = [];
  let expensed = new Money(figures.grossEarned);
  for (const { benefitMonths, amount } of figures.capitalized) {
    expensed = expensed.minus(amount);
    const sourceId = sourceOf(`${payout.payoutId}/capitalized-${benefitMonths}`);
    entries.push(...postCapitalization({ payeeId, currency, amount, sourceId, postedOn }));
    entries.push(...postAmortizationSchedule({ payeeId, currency, amount, benefitPeriodMonths: benefitMonths, firstMonth: firstAmortizationMonth, sourceId }));
  }
  entries.push(...postEarnedCommission({ payeeId, currency, amount: formatMoney(expensed, currency), sourceId: sourceOf(payout.payoutId), postedOn }));
  for (const line of payout.postedLines) {
    const input = { payeeId, currency, amount: line.amount, sourceId: sourceOf(line.lineId), postedOn };
    entries.push(...(line.kind === 'clawback' ? postClawback(input) : postAdjustment(input)));
  }
  if (figures.drawKind !== null) {
    entries.push(...postDrawAdvance({ payeeId, currency, amount: figures.drawPaid, sourceId: sourceOf(payout.payoutId), postedOn, drawKind: figures.drawKind }));
  }
  entries.push(...postDrawRecovery({ payeeId, currency, amount: figures.drawRecovered, sourceId: sourceOf(payout.payoutId), postedOn }));
  return entries;
}
