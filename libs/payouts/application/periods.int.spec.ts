import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { amendDeal, cancelDeal, closeDealWon } from '#lib/crediting/application/deal-commands.js';
import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import { flatRateTable, monthlyPlan } from '#lib/statements/testing/statement-sources.fixtures.js';
import { analyst, dealInput, finance, onboardPayees, payoutDependencies, payroll, putOnPlan } from '../testing/payout-fixtures.js';
import { approvePayouts, closePeriod, confirmPayoutsPaid, postAdjustmentLines, reopenPeriod, type PayoutDependencies } from './period-commands.js';
import { earliestOpenPeriodOf, getFrozenStatement, getPayeePeriod, getPayout, getPeriod, listPayouts } from './payout-queries.js';

/**
 * Closing, approving and paying calendar periods against the real parts (store file, read-model file, runner):
 * statements freeze with a digest that the log reproduces, payouts carry draws and balances from period to period,
 * and every misuse is refused with a stable code and appends nothing.
 */

const temp = createTempDir('payout-periods');
afterAll(() => temp.remove());

let ledger: LedgerHarness;
let deps: PayoutDependencies;
beforeEach(async () => {
  ledger = await openLedgerHarness(temp.path);
  deps = payoutDependencies(ledger);
});
afterEach(async () => {
  await ledger.close();
});

const onboard = (...payeeIds: string[]): Promise<void> => onboardPayees(ledger.store, ...payeeIds);
const onPlan = (planVersion: PlanVersionInput, ...payeeIds: string[]): Promise<void> => putOnPlan(ledger.store, planVersion, ...payeeIds);
const deal = dealInput;

const month = (calendarId: string, periodId: string) => ({ calendarId, periodId });

/** Runs a command that must be refused: the code, and the log did not grow. */
async function refused(run: () => Promise<unknown>, code: string): Promise<void> {
  const head = await ledger.store.headPosition();
  await expect(run()).rejects.toMatchObject({ code });
  expect(await ledger.store.headPosition()).toBe(head);
}

describe('closing, approving and paying a period', () => {
  it('freezes each statement with a digest the log reproduces, approves by finance and is paid by payroll', async () => {
    await onboard('ada', 'bo');
    await onPlan(monthlyPlan(), 'ada', 'bo');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '80000.00', '2026-03-14', { primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bo', sharePercent: '30' }] }), testCommandContext());

    const closed = await closePeriod(deps, month('monthly', '2026-03'), analyst());
    expect(closed).toMatchObject({ payeesFrozen: 2, totals: [{ currency: 'USD', netPayable: '8000.00' }], events: [{ type: 'PeriodOpened' }, { type: 'PeriodClosed' }] });
    await ledger.runner.waitForPosition(closed.position);
    const frozen = await getFrozenStatement(ledger.store, ledger.db, { calendarId: 'monthly', periodId: '2026-03', payeeId: 'ada' });
    expect(frozen).toMatchObject({ digestMatches: true, logPosition: closed.logPosition, statement: { totals: { payable: '5600.00' } } });
    expect(frozen.statementDigest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const approved = await approvePayouts(ledger.store, month('monthly', '2026-03'), finance());
    expect(approved.payouts.map(({ payeeId, netPayable }) => [payeeId, netPayable])).toEqual([
      ['ada', '5600.00'],
      ['bo', '2400.00'],
    ]);
    expect(approved.events.map((event) => event.type)).toEqual(['PayoutsApproved', 'PeriodApproved']);
    const again = await approvePayouts(ledger.store, month('monthly', '2026-03'), finance('finance-2'));
    expect(again).toMatchObject({ events: [], payouts: [] });

    const paid = await confirmPayoutsPaid(ledger.store, { ...month('monthly', '2026-03'), payrollReference: 'run-2026-04', paidOn: '2026-04-05' }, payroll());
    expect(paid.events.map((event) => event.type)).toEqual(['PayoutsPaid', 'PeriodPaid']);
    await ledger.runner.waitForPosition(paid.position);
    const payout = await getPayout(ledger.db, approved.payouts[0]!.payoutId);
    expect(payout).toMatchObject({
      payeeId: 'ada',
      status: 'paid',
      grossEarned: '5600.00',
      adjustments: '0.00',
      clawbacks: '0.00',
      drawPaid: '0.00',
      drawRecovered: '0.00',
      netPayable: '5600.00',
      currency: 'USD',
      preparedBy: 'analyst-1',
      approvedBy: 'finance-1',
      payrollReference: 'run-2026-04',
      paidOn: '2026-04-05',
    });
    expect(await getPeriod(ledger.db, month('monthly', '2026-03'))).toMatchObject({
      status: 'paid',
      preparedBy: 'analyst-1',
      payees: { frozen: 2, pendingApproval: 0, approved: 2, paid: 2 },
      totals: [{ currency: 'USD', netPayable: '8000.00', approved: '8000.00', paid: '8000.00' }],
    });
    expect((await listPayouts(ledger.db, { ...month('monthly', '2026-03'), limit: 1 })).nextAfter).toBe('ada');
  });

  it('reproduces the published recoverable draw, closing month after month: 2,750 / 3,000 / 2,000 / 2,000 / 2,875 / 2,750', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan({ draw: { kind: 'recoverable', amountPerPeriod: '2000.00' } }), 'ada');
    const earned = ['27500.00', '30000.00', '15000.00', '23750.00', '30000.00', '27500.00'];
    const paid: string[] = [];
    for (const [index, amount] of earned.entries()) {
      const periodId = `2026-0${index + 1}`;
      await closeDealWon(ledger.store, deal(`D-${index}`, 'ada', amount, `${periodId}-15`), testCommandContext());
      await closePeriod(deps, month('monthly', periodId), analyst());
      const approved = await approvePayouts(ledger.store, month('monthly', periodId), finance());
      paid.push(approved.payouts[0]!.netPayable);
    }
    expect(paid).toEqual(['2750.00', '3000.00', '2000.00', '2000.00', '2875.00', '2750.00']);
    await ledger.runner.caughtUp();
    const april = await getPayeePeriod(ledger.db, { calendarId: 'monthly', periodId: '2026-04', payeeId: 'ada' });
    expect(april.payout).toMatchObject({ grossEarned: '2375.00', drawPaid: '0.00', drawRecovered: '375.00', drawKind: 'recoverable' });
    expect(april).toMatchObject({ carryOpening: { drawBalance: '500.00' }, carryClosing: { drawBalance: '125.00' } });
  });

  it.each([
    { name: 'published: a non-recoverable 2,000 draw with 800 earned tops up 1,200', kind: 'non_recoverable' as const, amount: '8000.00', drawPaid: '1200.00', net: '2000.00', balance: '0.00' },
    { name: 'a recoverable draw advances the shortfall as a balance', kind: 'recoverable' as const, amount: '8000.00', drawPaid: '1200.00', net: '2000.00', balance: '1200.00' },
    { name: 'earnings above the draw pay as earned', kind: 'non_recoverable' as const, amount: '25000.00', drawPaid: '0.00', net: '2500.00', balance: '0.00' },
  ])('$name', async ({ kind, amount, drawPaid, net, balance }) => {
    await onboard('ada');
    await onPlan(monthlyPlan({ draw: { kind, amountPerPeriod: '2000.00' } }), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', amount, '2026-03-10'), testCommandContext());
    await closePeriod(deps, month('monthly', '2026-03'), analyst());
    const approved = await approvePayouts(ledger.store, month('monthly', '2026-03'), finance());
    await ledger.runner.waitForPosition(approved.position);
    expect(await getPayout(ledger.db, approved.payouts[0]!.payoutId)).toMatchObject({ drawKind: kind, drawPaid, netPayable: net, carryClosing: { drawBalance: balance } });
  });

  it('pays the draw to a payee on the plan who earned nothing, and names the capitalised part of gross', async () => {
    await onboard('ada', 'bo');
    await onPlan(monthlyPlan({ draw: { kind: 'non_recoverable', amountPerPeriod: '500.00' }, components: [flatRateTable({ benefitMonths: 60 })] }), 'ada', 'bo');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '30000.00', '2026-03-10'), testCommandContext());
    const closed = await closePeriod(deps, month('monthly', '2026-03'), analyst());
    await ledger.runner.waitForPosition(closed.position);
    const [ada, bo] = (await listPayouts(ledger.db, month('monthly', '2026-03'))).items;
    expect(ada).toMatchObject({ payeeId: 'ada', status: 'pending_approval', grossEarned: '3000.00', capitalized: [{ benefitMonths: 60, amount: '3000.00' }], netPayable: '3000.00' });
    expect(bo).toMatchObject({ payeeId: 'bo', grossEarned: '0.00', capitalized: [], drawPaid: '500.00', netPayable: '500.00' });
    expect((await getFrozenStatement(ledger.store, ledger.db, { calendarId: 'monthly', periodId: '2026-03', payeeId: 'bo' })).digestMatches).toBe(true);
  });

  it('freezes lines posted by hand with the statement, and reopens only with a reason', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    await postAdjustmentLines(
      deps,
      {
        ...month('monthly', '2026-03'),
        payeeId: 'ada',
        currency: 'USD',
        lines: [{ lineId: 'dispute-7', amount: '150.00', cause: { kind: 'dispute_approved', reference: 'dispute-7' }, explanation: 'Dispute 7 approved: split corrected' }],
      },
      analyst(),
    );
    const first = await closePeriod(deps, month('monthly', '2026-03'), analyst());
    const approved = await approvePayouts(ledger.store, month('monthly', '2026-03'), finance());
    expect(approved.payouts[0]).toMatchObject({ netPayable: '1150.00' });

    await refused(() => reopenPeriod(deps, { ...month('monthly', '2026-03'), reason: ' ' }, finance()), 'PERIOD.REOPEN_REASON_REQUIRED');
    const reopened = await reopenPeriod(deps, { ...month('monthly', '2026-03'), reason: 'Deal D-9 was booked to April by mistake' }, finance('finance-2'));
    await ledger.runner.waitForPosition(reopened.position);
    expect(await getPeriod(ledger.db, month('monthly', '2026-03'))).toMatchObject({
      status: 'open',
      payees: { frozen: 0 },
      reopens: [{ reopenedBy: 'finance-2', reason: 'Deal D-9 was booked to April by mistake', statusBefore: 'approved' }],
    });
    // Nothing changed: closed again, the statement has the same digest and the payout the same id.
    const second = await closePeriod(deps, month('monthly', '2026-03'), analyst());
    const secondApproval = await approvePayouts(ledger.store, month('monthly', '2026-03'), finance());
    expect(secondApproval.payouts[0]!.payoutId).toBe(approved.payouts[0]!.payoutId);
    expect(second.logPosition).toBeGreaterThan(first.logPosition);
  });

  it("names a payee's earliest open period: the month of today until the calendar closes one, then the one after the latest closed", async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await ledger.runner.caughtUp();
    expect(await earliestOpenPeriodOf(ledger.db, { payeeId: 'ada', today: '2026-03-20' })).toEqual({ calendarId: 'monthly', periodId: '2026-03' });
    expect(await earliestOpenPeriodOf(ledger.db, { payeeId: 'ada', today: '2025-12-20' })).toBeNull();
    await closePeriod(deps, month('monthly', '2026-03'), analyst());
    await ledger.runner.caughtUp();
    expect(await earliestOpenPeriodOf(ledger.db, { payeeId: 'ada', today: '2026-05-02' })).toEqual({ calendarId: 'monthly', periodId: '2026-04' });
  });

  it('refuses misuse with a stable code and appends nothing', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    const line = { lineId: 'manual-1', amount: '10.00', cause: { kind: 'manual' as const, reference: 'ticket-1' }, explanation: 'goodwill' };

    await refused(() => approvePayouts(ledger.store, month('monthly', '2026-03'), finance()), 'PERIOD.NOT_CLOSED');
    await closePeriod(deps, month('monthly', '2026-03'), analyst());
    await refused(() => closePeriod(deps, month('monthly', '2026-03'), analyst()), 'PERIOD.ALREADY_CLOSED');
    await refused(() => approvePayouts(ledger.store, month('monthly', '2026-03'), analyst()), 'APPROVAL.SAME_PREPARER');
    await refused(() => confirmPayoutsPaid(ledger.store, { ...month('monthly', '2026-03'), payrollReference: 'run-1', paidOn: '2026-04-05' }, payroll()), 'PAYOUT.NOT_APPROVED');
    await refused(() => postAdjustmentLines(deps, { ...month('monthly', '2026-03'), payeeId: 'ada', currency: 'USD', lines: [line] }, analyst()), 'PERIOD.CLOSED');
    await refused(() => closePeriod(deps, month('monthly', '2026-05'), analyst()), 'PERIOD.PREVIOUS_NOT_CLOSED');
    await refused(() => closePeriod(deps, month('monthly', '2026-Q2'), analyst()), 'PERIOD.NOT_OF_CALENDAR');
    await refused(() => closePeriod(deps, month('quarterly', '2026-Q2'), analyst()), 'CALENDAR.NOT_FOUND');
    await refused(() => approvePayouts(ledger.store, { ...month('monthly', '2026-03'), payeeIds: ['nobody'] }, finance()), 'PAYOUT.UNKNOWN_PAYEE');
    await refused(
      () => postAdjustmentLines(deps, { ...month('monthly', '2026-04'), payeeId: 'ada', currency: 'USD', lines: [{ ...line, cause: { kind: 'typo' as never, reference: 'x' } }] }, analyst()),
      'ADJUSTMENT.CAUSE_INVALID',
    );
    await approvePayouts(ledger.store, month('monthly', '2026-03'), finance());
    await closePeriod(deps, month('monthly', '2026-04'), analyst());
    await refused(() => reopenPeriod(deps, { ...month('monthly', '2026-03'), reason: 'late deal' }, finance()), 'PERIOD.LATER_PERIOD_CLOSED');
  });
});

/**
 * Whatever is appended after a close (deals closed, amended or cancelled in the closed period, more closes), each
 * frozen statement keeps its digest, and recomputing it from the log at its log position gives that digest again.
 */
describe('frozen statement digests', () => {
  it('never change, whatever is appended later', async () => {
    await onboard('ada', 'bo');
    await onPlan(monthlyPlan({ components: [flatRateTable({ basis: 'amount', tiers: [{ from: '0', to: '20000', rate: '0.05' }, { from: '20000', to: null, rate: '0.10' }] })] }), 'ada', 'bo');
    await closeDealWon(ledger.store, deal('D-0', 'ada', '15000.00', '2026-03-03'), testCommandContext());
    await closeDealWon(ledger.store, deal('D-1', 'bo', '9000.00', '2026-03-04', { primarySplits: [{ payeeId: 'bo', sharePercent: '60' }, { payeeId: 'ada', sharePercent: '40' }] }), testCommandContext());
    await closePeriod(deps, month('monthly', '2026-03'), analyst());
    await ledger.runner.caughtUp();
    const frozenBefore = await Promise.all(['ada', 'bo'].map((payeeId) => getFrozenStatement(ledger.store, ledger.db, { calendarId: 'monthly', periodId: '2026-03', payeeId })));

    let dealNumber = 10;
    const action = fc.oneof(
      fc.record({ kind: fc.constant('close' as const), owner: fc.constantFrom('ada', 'bo'), cents: fc.integer({ min: 1, max: 5_000_000 }), day: fc.integer({ min: 1, max: 28 }) }),
      fc.record({ kind: fc.constant('amend' as const), dealId: fc.constantFrom('D-0', 'D-1'), cents: fc.integer({ min: 1, max: 5_000_000 }) }),
      fc.record({ kind: fc.constant('cancel' as const), dealId: fc.constantFrom('D-0', 'D-1') }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 4 }), async (actions) => {
        for (const next of actions) {
          const amount = 'cents' in next ? `${Math.floor(next.cents / 100)}.${String(next.cents % 100).padStart(2, '0')}` : '0';
          const attempt =
            next.kind === 'close'
              ? closeDealWon(ledger.store, deal(`D-${dealNumber++}`, next.owner, amount, `2026-03-${String(next.day).padStart(2, '0')}`), testCommandContext())
              : next.kind === 'amend'
                ? amendDeal(ledger.store, { dealId: next.dealId, amount, reason: 'property' }, testCommandContext())
                : cancelDeal(ledger.store, { dealId: next.dealId, cancelDate: '2026-04-01', reason: 'property' }, testCommandContext());
          // A cancelled deal refuses amendments: that is fine, the log just does not grow.
          await attempt.catch((error: { code?: string }) => expect(error.code).toMatch(/^DEAL\./));
        }
        await ledger.runner.caughtUp();
        for (const before of frozenBefore) {
          const now = await getFrozenStatement(ledger.store, ledger.db, { calendarId: 'monthly', periodId: '2026-03', payeeId: before.payeeId });
          expect(now).toEqual(before);
          expect(now.digestMatches).toBe(true);
        }
      }),
      { numRuns: 12 },
    );
  });
});
