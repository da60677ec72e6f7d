import { describe, expect, it } from '@jest/globals';
import { payoutIdFor } from '#lib/payouts/domain/payout-id.js';
import type { PeriodEvent } from '#lib/payouts/domain/period.decider.js';
import { advancePayoutFeedPeriod, emptyPayoutFeedPeriod, payoutChangesOf } from './payout-feed.js';

const period = { calendarId: 'fy26-monthly', periodId: '2026-03' };
const payout = (payeeId: string, netPayable: string) => ({
  payeeId,
  payoutId: payoutIdFor({ payeeId, periodId: '2026-03', statementDigest: `sha256:${payeeId}` }),
  statementDigest: `sha256:${payeeId}`,
  currency: 'USD',
  netPayable,
});
const history: PeriodEvent[] = [
  { type: 'PeriodOpened', data: { ...period, startsOn: '2026-03-01', endsOn: '2026-03-31', openedBy: 'admin-1' } },
  {
    type: 'PeriodClosed',
    data: {
      preparedBy: 'analyst-1',
      statements: ['ana', 'ben', 'cy'].map((payeeId, index) => ({
        payeeId,
        statementDigest: `sha256:${payeeId}`,
        logPosition: 10,
        currency: 'USD',
        netPayable: ['2750.00', '1200.50', '0.00'][index],
      })),
    },
  },
];
const stateAfter = (events: PeriodEvent[]) => {
  const period = emptyPayoutFeedPeriod();
  for (const event of events) advancePayoutFeedPeriod(period, event);
  return period;
};

describe('payout feed', () => {
  it('makes one approved change per approved payout, with the amount to pay', () => {
    const approved: PeriodEvent = { type: 'PayoutsApproved', data: { approvedBy: 'finance-1', payouts: [payout('ana', '2750.00'), payout('ben', '1200.50')] } };
    expect(payoutChangesOf(approved, stateAfter(history))).toEqual([
      { kind: 'approved', ...period, ...payout('ana', '2750.00'), approvedBy: 'finance-1' },
      { kind: 'approved', ...period, ...payout('ben', '1200.50'), approvedBy: 'finance-1' },
    ]);
  });

  it('makes one paid change per paid payout, with payroll reference', () => {
    const approved: PeriodEvent = { type: 'PayoutsApproved', data: { approvedBy: 'finance-1', payouts: [payout('ana', '2750.00')] } };
    const paid: PeriodEvent = {
      type: 'PayoutsPaid',
      data: { confirmedBy: 'payroll-confirmations', payrollReference: 'RUN-7', payouts: [{ payeeId: 'ana', payoutId: payout('ana', '2750.00').payoutId }] },
    };
    expect(payoutChangesOf(paid, stateAfter([...history, approved]))).toEqual([
      { kind: 'paid', ...period, payeeId: 'ana', payoutId: payout('ana', '2750.00').payoutId, payrollReference: 'RUN-7', confirmedBy: 'payroll-confirmations' },
    ]);
  });

  it('voids, on reopen, exactly the approved payouts that were not paid, payee by payee', () => {
    const approved: PeriodEvent = { type: 'PayoutsApproved', data: { approvedBy: 'finance-1', payouts: [payout('ben', '1200.50'), payout('ana', '2750.00')] } };
    const reopened: PeriodEvent = { type: 'PeriodReopened', data: { reopenedBy: 'finance-2', reason: 'late deal', statusBefore: 'closed' } };
    expect(payoutChangesOf(reopened, stateAfter([...history, approved]))).toEqual([
      { kind: 'approval_voided', ...period, payeeId: 'ana', payoutId: payout('ana', '2750.00').payoutId, reason: 'late deal', reopenedBy: 'finance-2' },
      { kind: 'approval_voided', ...period, payeeId: 'ben', payoutId: payout('ben', '1200.50').payoutId, reason: 'late deal', reopenedBy: 'finance-2' },
    ]);
  });

  it('forgets a paid payout, so a reopen voids only the unpaid ones', () => {
    const approved: PeriodEvent = { type: 'PayoutsApproved', data: { approvedBy: 'finance-1', payouts: [payout('ana', '2750.00'), payout('ben', '1200.50')] } };
    const paid: PeriodEvent = { type: 'PayoutsPaid', data: { confirmedBy: 'payroll-1', payrollReference: 'RUN-1', payouts: [{ payeeId: 'ana', payoutId: payout('ana', '2750.00').payoutId }] } };
    expect([...stateAfter([...history, approved, paid]).approvedUnpaid]).toEqual([['ben', payout('ben', '1200.50').payoutId]]);
  });

  it('reports posted adjustment lines as an adjusted change of the payee', () => {
    const lines = [{ lineId: 'ppa:1', kind: 'adjustment', amount: '-80.00', sourcePeriodId: '2026-02', cause: { kind: 'deal_amended' as const, reference: 'D-1' } }];
    const posted: PeriodEvent = { type: 'LinesPosted', data: { payeeId: 'cy', currency: 'USD', lines, postedBy: 'system' } };
    expect(payoutChangesOf(posted, stateAfter(history.slice(0, 1)))).toEqual([{ kind: 'adjusted', ...period, payeeId: 'cy', currency: 'USD', lines, postedBy: 'system' }]);
  });

  it('makes nothing of events that change no payout', () => {
    const state = stateAfter(history);
    expect(payoutChangesOf({ type: 'PeriodApproved', data: { approvedBy: 'finance-1' } }, state)).toEqual([]);
    expect(payoutChangesOf({ type: 'PeriodPaid', data: { confirmedBy: 'payroll-1' } }, state)).toEqual([]);
    expect(payoutChangesOf(history[0], stateAfter([]))).toEqual([]);
  });
});
