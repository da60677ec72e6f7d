import { validationError } from '#lib/shared/domain/domain-error.js';
import type { Payout } from '#lib/payouts/domain/payout.js';
import { isPayableLine, type StatementSummary } from '#lib/payouts/domain/statement-summary.js';
import type { JournalEntry } from './journal-entry.js';
import {
  postAdjustment,
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
