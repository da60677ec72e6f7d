import { describe, expect, it } from '@jest/globals';
import { computePayout, emptyCarry, figuresOf } from '#lib/payouts/domain/payout.js';
import { payoutIdFor } from '#lib/payouts/domain/payout-id.js';
import { periodDecider, type FrozenStatementRecord, type PeriodCommand, type PeriodEvent, type PeriodState } from '#lib/payouts/domain/period.decider.js';
import { advancePayoutFeedPeriod, emptyPayoutFeedPeriod, payoutChangesOf, type PayoutChange, type PayoutFeedPeriod } from './payout-feed.js';

/**
 * The payout feed over the events the period decider itself records: each command below is decided on the state the
 * events so far give, so the feed is checked against the payouts domain as it is, not against events written by hand.
 */
const ref = { calendarId: 'fy26-monthly', periodId: '2026-03' };

/** A frozen statement priced by the payouts domain: one commission line, an optional recoverable draw. */
function statement(payeeId: string, earned: string, drawPerPeriod: string | null = null): FrozenStatementRecord {
  const statementDigest = `sha256:${payeeId}`;
  const payout = computePayout({
    statement: { payeeId, periodId: ref.periodId, currency: 'USD', lines: [{ lineId: `${payeeId}:c`, kind: 'commission', amount: earned }], totalEarned: earned },
    statementDigest,
    draw: drawPerPeriod === null ? null : { kind: 'recoverable', amountPerPeriod: drawPerPeriod, currency: 'USD' },
    carryOpening: emptyCarry(),
  });
  return { payeeId, statementDigest, logPosition: 10, currency: 'USD', netPayable: payout.netPayable, figures: figuresOf(payout), postedLines: [] };
}

const statements = [statement('ana', '2750.00'), statement('ben', '1200.50', '2000.00'), statement('cy', '0.00')];
const payoutId = (payeeId: string) => payoutIdFor({ payeeId, periodId: ref.periodId, statementDigest: `sha256:${payeeId}` });

/** Runs commands through the period decider; returns every event and the events of the last command. */
function run(...commands: PeriodCommand[]): { history: PeriodEvent[]; last: PeriodEvent[] } {
  const history: PeriodEvent[] = [];
  let state: PeriodState = periodDecider.initialState();
  let last: PeriodEvent[] = [];
  for (const command of commands) {
    last = periodDecider.decide(command, state);
    state = last.reduce(periodDecider.evolve, state);
    history.push(...last);
  }
  return { history, last };
}

/** Feeds every event through the feed as the relay does; returns the changes of the last `lastCount` events. */
function changesOf(history: PeriodEvent[], lastCount: number): PayoutChange[] {
  const period: PayoutFeedPeriod = emptyPayoutFeedPeriod();
  const changes: PayoutChange[] = [];
  history.forEach((event, index) => {
    const made = payoutChangesOf(event, period);
    if (index >= history.length - lastCount) changes.push(...made);
    advancePayoutFeedPeriod(period, event);
  });
  return changes;
}

const open: PeriodCommand = { type: 'OpenPeriod', data: { ...ref, startsOn: '2026-03-01', endsOn: '2026-03-31', openedBy: 'analyst-1' } };
const close: PeriodCommand = { type: 'ClosePeriod', data: { preparedBy: 'analyst-1', statements, previousPeriod: null } };
const approve = (payeeIds?: string[], approvedBy = 'finance-1'): PeriodCommand => ({ type: 'ApprovePayouts', data: { approvedBy, ...(payeeIds ? { payeeIds } : {}) } });
const pay = (payeeIds: string[] | undefined, payrollReference: string): PeriodCommand => ({
  type: 'ConfirmPayoutsPaid',
  data: { confirmedBy: 'payroll-1', payrollReference, paidOn: '2026-04-05', ...(payeeIds ? { payeeIds } : {}) },
});
const reopen: PeriodCommand = { type: 'ReopenPeriod', data: { reopenedBy: 'finance-2', reason: 'late deal', nextPeriod: { periodId: '2026-04', status: 'open' }, correctionsPostedForward: 0 } };

describe('payout feed', () => {
  it('makes one approved change per payout approved payee by payee, with the amount to pay and how it is made up', () => {
    const { history, last } = run(open, close, approve(['ben']));
    expect(last.map((event) => event.type)).toEqual(['PayoutsApproved']);
    expect(changesOf(history, 1)).toEqual([
      {
        kind: 'approved',
        payeeId: 'ben',
        ...ref,
        payoutId: payoutId('ben'),
        statementDigest: 'sha256:ben',
        currency: 'USD',
        // The recoverable draw of 2,000 tops the 1,200.50 earned up and leaves 799.50 owed.
        netPayable: '2000.00',
        approvedBy: 'finance-1',
        figures: {
          grossEarned: '1200.50',
          capitalized: [],
          adjustments: '0.00',
          clawbacks: '0.00',
          earningsDeficitApplied: '0.00',
          drawKind: 'recoverable',
          drawPaid: '799.50',
          drawRecovered: '0.00',
          carryOpening: { drawBalance: '0.00', earningsDeficit: '0.00' },
          carryClosing: { drawBalance: '799.50', earningsDeficit: '0.00' },
        },
      },
    ]);
  });

  it('makes one approved change per payee of a bulk approval, the same payout ids as payee by payee, and nothing for the period-level event', () => {
    const { history, last } = run(open, close, approve(['ben']), approve());
    expect(last.map((event) => event.type)).toEqual(['PayoutsApproved', 'PeriodApproved']);
    const changes = changesOf(history, 2);
    expect(changes.map((change) => [change.kind, change.payeeId, change.kind === 'approved' ? [change.payoutId, change.netPayable] : null])).toEqual([
      ['approved', 'ana', [payoutId('ana'), '2750.00']],
      ['approved', 'cy', [payoutId('cy'), '0.00']],
    ]);
  });

  it('makes one paid change per paid payout, with payroll reference, date and amount', () => {
    const { history } = run(open, close, approve(), pay(['ana', 'ben'], 'RUN-7'));
    expect(changesOf(history, 1)).toEqual([
      { kind: 'paid', payeeId: 'ana', ...ref, payoutId: payoutId('ana'), payrollReference: 'RUN-7', confirmedBy: 'payroll-1', paidOn: '2026-04-05', currency: 'USD', netPayable: '2750.00' },
      { kind: 'paid', payeeId: 'ben', ...ref, payoutId: payoutId('ben'), payrollReference: 'RUN-7', confirmedBy: 'payroll-1', paidOn: '2026-04-05', currency: 'USD', netPayable: '2000.00' },
    ]);
  });

  it('voids, on reopen, exactly the approved payouts that were not paid, payee by payee', () => {
    const { history, last } = run(open, close, approve(['ben', 'ana']), reopen);
    expect(last.map((event) => event.type)).toEqual(['PeriodReopened']);
    expect(changesOf(history, 1)).toEqual([
      { kind: 'approval_voided', payeeId: 'ana', ...ref, payoutId: payoutId('ana'), reason: 'late deal', reopenedBy: 'finance-2' },
      { kind: 'approval_voided', payeeId: 'ben', ...ref, payoutId: payoutId('ben'), reason: 'late deal', reopenedBy: 'finance-2' },
    ]);
  });

  it('forgets a paid payout, so the feed holds only the approved and unpaid ones', () => {
    const { history } = run(open, close, approve(['ana', 'ben']), pay(['ana'], 'RUN-1'));
    const period = emptyPayoutFeedPeriod();
    for (const event of history) advancePayoutFeedPeriod(period, event);
    expect([...period.approvedUnpaid]).toEqual([['ben', payoutId('ben')]]);
  });

  it('reports posted adjustment and clawback lines as an adjusted change of the payee, with their explanation', () => {
    const lines = [
      { lineId: 'ppa:1', kind: 'adjustment', amount: '-80.00', dealId: 'D-1', sourcePeriodId: '2026-02', cause: { kind: 'deal_amended' as const, reference: 'D-1' }, explanation: 'Deal amended' },
      { lineId: 'clawback:D-2', kind: 'clawback', amount: '-500.00', dealId: 'D-2', sourcePeriodId: '2026-01', explanation: 'Deal D-2 was cancelled' },
    ];
    const { history, last } = run(open, { type: 'PostLines', data: { payeeId: 'cy', currency: 'USD', lines, postedBy: 'system' } });
    expect(last.map((event) => event.type)).toEqual(['LinesPosted']);
    expect(changesOf(history, 1)).toEqual([{ kind: 'adjusted', payeeId: 'cy', ...ref, currency: 'USD', lines, postedBy: 'system' }]);
  });

  it('makes nothing of events that move no money: opening, closing, the period-level markers and a waived clawback', () => {
    const waiver: PeriodCommand = {
      type: 'NoteClawbackWaived',
      data: { assessmentId: 'a-1', payeeId: 'ana', dealId: 'D-3', sourcePeriodId: '2026-01', outcome: 'outside_window', explanation: 'Cancelled after the window', notedBy: 'system' },
    };
    const { history } = run(open, waiver, close, approve(), pay(undefined, 'RUN-1'));
    const types = history.map((event) => event.type);
    expect(types).toEqual(['PeriodOpened', 'ClawbackWaived', 'PeriodClosed', 'PayoutsApproved', 'PeriodApproved', 'PayoutsPaid', 'PeriodPaid']);
    const silent = new Set<PeriodEvent['type']>(['PeriodOpened', 'ClawbackWaived', 'PeriodClosed', 'PeriodApproved', 'PeriodPaid']);
    const period = emptyPayoutFeedPeriod();
    for (const event of history) {
      if (silent.has(event.type)) expect(payoutChangesOf(event, period)).toEqual([]);
      else expect(payoutChangesOf(event, period).length).toBe(3);
      advancePayoutFeedPeriod(period, event);
    }
  });
});
