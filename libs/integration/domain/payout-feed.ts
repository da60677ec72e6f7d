import { assertNever } from '#lib/shared/domain/decider.js';
import type { PeriodEvent, PostedLine } from '#lib/payouts/domain/period.decider.js';

/**
 * What payroll hears about payouts: each period event that changes what a payee is to be paid, as one change per
 * payee (the payout feed, topic icm.payouts.v1, is keyed by payee).
 *
 * - PayoutsApproved: one `approved` per payout; pay `netPayable`.
 * - PayoutsPaid: one `paid` per payout, with payroll's reference.
 * - LinesPosted: one `adjusted` for the payee: adjustment or clawback lines that change the payee's next payout.
 * - PeriodReopened: one `approval_voided` per payout that was approved and not yet paid (a period with a paid payout
 *   cannot reopen): payroll must not pay it. The event does not list them: they come from the period as it stood
 *   before the reopen, which is why the caller passes what the feed keeps of it (PayoutFeedPeriod).
 * Opening, closing and the period-level PeriodApproved / PeriodPaid change no payout and make no message.
 *
 * The feed keeps its own small view of a period rather than the period decider's state: folding that state copies
 * every payee's frozen statement on each approval, which is quadratic over a period approved payee by payee.
 */

/** What the feed needs of a period between its events: which period it is, and the payouts approved and not paid. */
export interface PayoutFeedPeriod {
  calendarId: string | null;
  periodId: string | null;
  /** Payout id by payee, for every payout approved and not yet paid (voided by a reopen). */
  approvedUnpaid: Map<string, string>;
}

export const emptyPayoutFeedPeriod = (): PayoutFeedPeriod => ({ calendarId: null, periodId: null, approvedUnpaid: new Map() });

/** Folds one period event into the feed's view of the period, in place. */
export function advancePayoutFeedPeriod(period: PayoutFeedPeriod, event: PeriodEvent): void {
  switch (event.type) {
    case 'PeriodOpened':
      period.calendarId = event.data.calendarId;
      period.periodId = event.data.periodId;
      return;
    case 'PayoutsApproved':
      for (const payout of event.data.payouts) period.approvedUnpaid.set(payout.payeeId, payout.payoutId);
      return;
    case 'PayoutsPaid':
      for (const payout of event.data.payouts) period.approvedUnpaid.delete(payout.payeeId);
      return;
    case 'PeriodReopened':
      period.approvedUnpaid.clear();
      return;
    case 'LinesPosted':
    case 'PeriodClosed':
    case 'PeriodApproved':
    case 'PeriodPaid':
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
    })
  | (PayoutChangeBase & { kind: 'paid'; payoutId: string; payrollReference: string; confirmedBy: string })
  | (PayoutChangeBase & { kind: 'adjusted'; currency: string; lines: PostedLine[]; postedBy: string })
  | (PayoutChangeBase & { kind: 'approval_voided'; payoutId: string; reason: string; reopenedBy: string });

/** Period event types that can make a payout change; the others make none. */
export const PAYOUT_FEED_EVENT_TYPES: readonly PeriodEvent['type'][] = ['PayoutsApproved', 'PayoutsPaid', 'LinesPosted', 'PeriodReopened'];

/** The payout changes an event makes, given the feed's view of the period just before it. */
export function payoutChangesOf(event: PeriodEvent, before: PayoutFeedPeriod): PayoutChange[] {
  if (before.calendarId === null || before.periodId === null) {
    if (event.type === 'PeriodOpened') return [];
    throw new Error(`${event.type} recorded for a period that was never opened`);
  }
  const period = { calendarId: before.calendarId, periodId: before.periodId };
  switch (event.type) {
    case 'PayoutsApproved':
      return event.data.payouts.map((payout) => ({
        kind: 'approved',
        ...period,
        payeeId: payout.payeeId,
        payoutId: payout.payoutId,
        statementDigest: payout.statementDigest,
        currency: payout.currency,
        netPayable: payout.netPayable,
        approvedBy: event.data.approvedBy,
      }));
    case 'PayoutsPaid':
      return event.data.payouts.map((payout) => ({
        kind: 'paid',
        ...period,
        payeeId: payout.payeeId,
        payoutId: payout.payoutId,
        payrollReference: event.data.payrollReference,
        confirmedBy: event.data.confirmedBy,
      }));
    case 'LinesPosted':
      return [{ kind: 'adjusted', ...period, payeeId: event.data.payeeId, currency: event.data.currency, lines: event.data.lines, postedBy: event.data.postedBy }];
    case 'PeriodReopened':
      return [...before.approvedUnpaid]
        .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
        .map(([payeeId, payoutId]) => ({
          kind: 'approval_voided',
          ...period,
          payeeId,
          payoutId,
          reason: event.data.reason,
          reopenedBy: event.data.reopenedBy,
        }));
    case 'PeriodOpened':
    case 'PeriodClosed':
    case 'PeriodApproved':
    case 'PeriodPaid':
      return [];
    default:
      return assertNever(event);
  }
}
