import { assertNever } from '#lib/shared/domain/decider.js';
import type { PayoutFigures } from '#lib/payouts/domain/payout.js';
import type { PeriodEvent, PostedLine } from '#lib/payouts/domain/period.decider.js';

/**
 * What payroll hears about payouts: each period event that changes what a payee is to be paid, as one change per
 * payee (the payout feed, topic icm.payouts.v1, is keyed by payee).
 *
 * - PayoutsApproved (finance approving one payee, some, or all at once): one `approved` per payout; pay `netPayable`,
 *   made up as `figures` says (gross, capitalised part, adjustments, clawbacks, draw paid and recovered).
 * - PayoutsPaid: one `paid` per payout, with payroll's reference, the date paid on and the amount.
 * - LinesPosted: one `adjusted` for the payee: prior-period adjustment or clawback lines that change the payee's
 *   next payout.
 * - PeriodReopened: one `approval_voided` per payout that was approved and not yet paid (a period with a paid payout
 *   cannot reopen): payroll must not pay it. The event does not list them: they come from the period as it stood
 *   before the reopen, which is why the caller passes what the feed keeps of it (PayoutFeedPeriod).
 * Opening, closing, the period-level PeriodApproved / PeriodPaid and ClawbackWaived change no payout and make no
 * message: a waived clawback is the absence of a clawback line, and its reason is on the payee's statement
 * (docs/decisions/0056).
 *
 * The feed keeps its own small view of a period rather than the period decider's state: folding that state copies
 * every payee's frozen statement on each approval, which is quadratic over a period approved payee by payee.
 */

/** What the feed needs of a period between its events: the payouts approved and not paid. */
export interface PayoutFeedPeriod {
  /** Payout id by payee, for every payout approved and not yet paid (voided by a reopen). */
  approvedUnpaid: Map<string, string>;
}

export const emptyPayoutFeedPeriod = (): PayoutFeedPeriod => ({ approvedUnpaid: new Map() });

/** Folds one period event into the feed's view of the period, in place. */
export function advancePayoutFeedPeriod(period: PayoutFeedPeriod, event: PeriodEvent): void {
  switch (event.type) {
    case 'PayoutsApproved':
      for (const payout of event.data.payouts) period.approvedUnpaid.set(payout.payeeId, payout.payoutId);
      return;
    case 'PayoutsPaid':
      for (const payout of event.data.payouts) period.approvedUnpaid.delete(payout.payeeId);
      return;
    case 'PeriodReopened':
      period.approvedUnpaid.clear();
      return;
    case 'PeriodOpened':
    case 'LinesPosted':
    case 'PeriodClosed':
    case 'PeriodApproved':
    case 'PeriodPaid':
    case 'ClawbackWaived':
      return;
    default:
      return assertNever(event);
  }
}

interface PayoutChangeBase {
  payeeId: string;
  calendarId: string;
  periodId: string;
}

export type PayoutChange =
  | (PayoutChangeBase & {
      kind: 'approved';
      payoutId: string;
      statementDigest: string;
      currency: string;
      netPayable: string;
      approvedBy: string;
      figures: PayoutFigures;
    })
  | (PayoutChangeBase & { kind: 'paid'; payoutId: string; payrollReference: string; confirmedBy: string; paidOn: string; currency: string; netPayable: string })
  | (PayoutChangeBase & { kind: 'adjusted'; currency: string; lines: PostedLine[]; postedBy: string })
  | (PayoutChangeBase & { kind: 'approval_voided'; payoutId: string; reason: string; reopenedBy: string });

/** Period event types that can make a payout change; the others make none. */
export const PAYOUT_FEED_EVENT_TYPES: readonly PeriodEvent['type'][] = ['PayoutsApproved', 'PayoutsPaid', 'LinesPosted', 'PeriodReopened'];

/** The payout changes an event makes, given the feed's view of the period just before it. */
export function payoutChangesOf(event: PeriodEvent, before: PayoutFeedPeriod): PayoutChange[] {
  switch (event.type) {
    case 'PayoutsApproved': {
      const { calendarId, periodId, approvedBy } = event.data;
      return event.data.payouts.map((payout) => ({
        kind: 'approved',
        payeeId: payout.payeeId,
        calendarId,
        periodId,
        payoutId: payout.payoutId,
        statementDigest: payout.statementDigest,
        currency: payout.currency,
        netPayable: payout.netPayable,
        approvedBy,
        figures: payout.figures,
      }));
    }
    case 'PayoutsPaid': {
      const { calendarId, periodId, payrollReference, confirmedBy, paidOn } = event.data;
      return event.data.payouts.map((payout) => ({
        kind: 'paid',
        payeeId: payout.payeeId,
        calendarId,
        periodId,
        payoutId: payout.payoutId,
        payrollReference,
        confirmedBy,
        paidOn,
        currency: payout.currency,
        netPayable: payout.netPayable,
      }));
    }
    case 'LinesPosted': {
      const { calendarId, periodId, payeeId, currency, lines, postedBy } = event.data;
      return [{ kind: 'adjusted', payeeId, calendarId, periodId, currency, lines, postedBy }];
    }
    case 'PeriodReopened': {
      const { calendarId, periodId, reason, reopenedBy } = event.data;
      return [...before.approvedUnpaid]
        .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
        .map(([payeeId, payoutId]) => ({ kind: 'approval_voided', payeeId, calendarId, periodId, payoutId, reason, reopenedBy }));
    }
    case 'PeriodOpened':
    case 'PeriodClosed':
    case 'PeriodApproved':
    case 'PeriodPaid':
    case 'ClawbackWaived':
      return [];
    default:
      return assertNever(event);
  }
}
