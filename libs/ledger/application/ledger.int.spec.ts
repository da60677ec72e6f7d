import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { Money } from '#lib/shared/domain/money.js';
import { onboardPayee } from '#lib/organization/application/payee-commands.js';
import { amendDeal, cancelDeal, closeDealWon } from '#lib/crediting/application/deal-commands.js';
import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import { assignPlan, flatRateTable, monthlyPlan, publishPlanVersion } from '#lib/statements/testing/statement-sources.fixtures.js';
import { nextPeriodId } from '#lib/payouts/domain/calendar-periods.js';
import { analyst, finance, payoutDependencies, payroll } from '#lib/payouts/testing/payout-fixtures.js';
import { approvePayouts, closePeriod, confirmPayoutsPaid, postAdjustmentLines, reopenPeriod, type PayoutDependencies } from '#lib/payouts/application/period-commands.js';
import { listPayouts, type PayoutView } from '#lib/payouts/application/payout-queries.js';
import { PayoutReactions } from '#lib/payouts/application/payout-reactions.js';
import { listLedgerEntries, trialBalance } from './ledger-queries.js';

/**
 * The ledger against the real parts: approvals, payments and reopens post balanced entries, the trial balance nets to
 * zero, and over any sequence of commands the ledger agrees with the payouts.
 */

const temp = createTempDir('ledger');
afterAll(() => temp.remove());

interface World {
  ledger: LedgerHarness;
  deps: PayoutDependencies;
  reactions: PayoutReactions;
  settle(): Promise<void>;
  close(): Promise<void>;
}

async function openWorld(plan: PlanVersionInput, payeeIds: readonly string[]): Promise<World> {
  const ledger = await openLedgerHarness(temp.path);
  const deps = payoutDependencies(ledger);
  const reactions = new PayoutReactions(deps);
  await reactions.start();
  for (const payeeId of payeeIds) {
    await onboardPayee(ledger.store, { payeeId, name: payeeId, managerId: null, territory: 'NA', currency: 'USD', startDate: '2025-01-01' }, testCommandContext());
  }
  await publishPlanVersion(ledger.store, plan);
  for (const payeeId of payeeIds) await assignPlan(ledger.store, { assignmentId: 'a-1', payeeId, planId: plan.planId, effectiveFrom: plan.effectiveFrom });
  return {
    ledger,
    deps,
    reactions,
    async settle() {
      await reactions.waitForPosition(await ledger.store.headPosition());
      await ledger.runner.caughtUp({ timeoutMs: 30_000 });
    },
    async close() {
      await reactions.stop();
      await ledger.close();
    },
  };
}

const deal = (dealId: string, ownerPayeeId: string, amount: string, closeDate: string, product = 'platform') => ({
  dealId,
  ownerPayeeId,
  amount,
  currency: 'USD',
  closeDate,
  product,
  dealType: 'new_business',
  overlays: [],
});

describe('ledger postings', () => {
  it('posts approvals, capitalisation with its amortisation, payments and reversals, and always nets to zero', async () => {
    const plan = monthlyPlan({
      draw: { kind: 'recoverable', amountPerPeriod: '1000.00' },
      components: [flatRateTable(), { kind: 'spif', id: 'multi-year', filter: { product: 'multi-year' }, payout: { type: 'flat', amount: '3000.00' }, benefitMonths: 60 }],
    });
    const world = await openWorld(plan, ['ada', 'bo']);
    const { ledger, deps } = world;
    try {
      await closeDealWon(ledger.store, deal('D-1', 'ada', '20000.00', '2026-03-10', 'multi-year'), testCommandContext());
      await closeDealWon(ledger.store, deal('D-2', 'bo', '4000.00', '2026-03-12'), testCommandContext());
      await closePeriod(deps, { calendarId: 'monthly', periodId: '2026-03' }, analyst());
      await approvePayouts(ledger.store, { calendarId: 'monthly', periodId: '2026-03' }, finance());
      await world.settle();

      const march = await trialBalance(ledger.db, { asOf: '2026-03-31' });
      expect(march.balanced).toBe(true);
      // Ada: 2,000 commission expensed, 3,000 SPIF capitalised (50 amortised in March). Bo: 400 earned, 600 advanced.
      expect(Object.fromEntries(march.rows.map((row) => [row.accountType, row.balance]))).toEqual({
        commission_expense: '2400.00',
        commissions_payable: '6000.00',
        contract_cost_amortization: '50.00',
        contract_cost_asset: '2950.00',
        draw_receivable: '600.00',
      });
      const ada = await trialBalance(ledger.db, { asOf: '2027-02-28', payeeId: 'ada' });
      expect(ada.rows.find((row) => row.accountType === 'contract_cost_asset')).toMatchObject({ balance: '2400.00', payeeId: 'ada' });

      const paid = await confirmPayoutsPaid(ledger.store, { calendarId: 'monthly', periodId: '2026-03', payrollReference: 'run-1', paidOn: '2026-04-03' }, payroll());
      await ledger.runner.waitForPosition(paid.position);
      const afterPay = await trialBalance(ledger.db, { asOf: '2026-04-30' });
      expect(afterPay).toMatchObject({ balanced: true, totals: [{ currency: 'USD', net: '0.00' }] });
      expect(afterPay.rows.find((row) => row.accountType === 'payroll_clearing')).toMatchObject({ balance: '6000.00' });
      expect(afterPay.rows.find((row) => row.accountType === 'commissions_payable')).toMatchObject({ balance: '0.00' });

      // April is approved, then reopened: its entries are reversed, not deleted.
      await closeDealWon(ledger.store, deal('D-3', 'bo', '30000.00', '2026-04-12'), testCommandContext());
      await closePeriod(deps, { calendarId: 'monthly', periodId: '2026-04' }, analyst());
      await approvePayouts(ledger.store, { calendarId: 'monthly', periodId: '2026-04' }, finance());
      await world.settle();
      const approvedApril = await trialBalance(ledger.db, { asOf: '2026-04-30', payeeId: 'bo' });
      expect(approvedApril.rows.find((row) => row.accountType === 'draw_receivable')).toMatchObject({ balance: '0.00' });
      await reopenPeriod(deps, { calendarId: 'monthly', periodId: '2026-04', reason: 'late deal for April' }, finance('finance-2'));
      await world.settle();
      const reopenedApril = await trialBalance(ledger.db, { asOf: '2026-04-30', payeeId: 'bo' });
      expect(reopenedApril.rows.find((row) => row.accountType === 'draw_receivable')).toMatchObject({ balance: '600.00' });
      const entries = (await listLedgerEntries(ledger.db, { payeeId: 'bo', limit: 500 })).items;
      const reversed = entries.filter((entry) => entry.periodId === '2026-04' && entry.movement !== 'reversal');
      expect(reversed.length).toBeGreaterThan(0);
      expect(reversed.every((entry) => entry.reversedBy !== null)).toBe(true);
      expect((await trialBalance(ledger.db, { asOf: '2099-12-31' })).balanced).toBe(true);
      await expect(trialBalance(ledger.db, { asOf: '30 April' })).rejects.toMatchObject({ code: 'REQUEST.AS_OF_DATE_INVALID' });
    } finally {
      await world.close();
    }
  });
});

/**
 * Random sequences of commands (deals closed, amended and cancelled; periods closed, approved (sometimes by their
 * preparer), paid, reopened; lines posted by hand). Goals: every refusal leaves the log as it was; the ledger nets
 * to zero; approving any number of times leaves one set of entries per payout; and each payee's payouts and ledger
 * agree: lifetime net payable = earned + adjustments - clawed back + draw paid - draw recovered + deficit still owed.
 */
describe('ledger and payouts under any sequence of commands', () => {
  type Action =
    | { kind: 'deal'; payee: number; cents: number; day: number; multiYear: boolean }
    | { kind: 'amend'; deal: number; cents: number }
    | { kind: 'cancel'; deal: number }
    | { kind: 'close' }
    | { kind: 'approve'; byPreparer: boolean; onlyFirst: boolean }
    | { kind: 'pay' }
    | { kind: 'reopen' }
    | { kind: 'manual'; payee: number; cents: number; negative: boolean };

  const payees = ['ada', 'bo'];
  const action: fc.Arbitrary<Action> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('deal' as const), payee: fc.integer({ min: 0, max: 1 }), cents: fc.integer({ min: 100, max: 8_000_000 }), day: fc.integer({ min: 1, max: 28 }), multiYear: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), deal: fc.nat(), cents: fc.integer({ min: 100, max: 8_000_000 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), deal: fc.nat() }) },
    { weight: 4, arbitrary: fc.constant({ kind: 'close' as const }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('approve' as const), byPreparer: fc.integer({ min: 0, max: 4 }).map((value) => value === 0), onlyFirst: fc.boolean() }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'pay' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('manual' as const), payee: fc.integer({ min: 0, max: 1 }), cents: fc.integer({ min: 1, max: 100_000 }), negative: fc.boolean() }) },
  );
  const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  const sum = (values: readonly string[]) => values.reduce((total, value) => total.plus(value), new Money(0));

  it('keeps the ledger balanced and in agreement with the payouts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 24 }), async (actions) => {
        const plan = monthlyPlan({
          draw: { kind: 'recoverable', amountPerPeriod: '1500.00' },
          clawback: { window: { length: 60, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '100', reducesAttainment: false },
          components: [flatRateTable(), { kind: 'spif', id: 'multi-year', filter: { product: 'multi-year' }, payout: { type: 'flat', amount: '1200.00' }, benefitMonths: 24 }],
        });
        const world = await openWorld(plan, payees);
        const { ledger, deps } = world;
        try {
          const deals: { dealId: string; closeDate: string; cancelled: boolean }[] = [];
          let openMonth = '2026-01';
          const closedMonths: string[] = [];
          let manualLines = 0;
          for (const next of actions) {
            const head = await ledger.store.headPosition();
            const day = (value: number) => `${openMonth}-${String(value).padStart(2, '0')}`;
            try {
              switch (next.kind) {
                case 'deal':
                  deals.push({ dealId: `D-${deals.length}`, closeDate: day(next.day), cancelled: false });
                  await closeDealWon(ledger.store, deal(`D-${deals.length - 1}`, payees[next.payee]!, money(next.cents), day(next.day), next.multiYear ? 'multi-year' : 'platform'), testCommandContext());
                  break;
                case 'amend': {
                  const target = deals[next.deal % Math.max(deals.length, 1)];
                  if (target === undefined) break;
                  await amendDeal(ledger.store, { dealId: target.dealId, amount: money(next.cents), reason: 'property' }, testCommandContext());
                  break;
                }
                case 'cancel': {
                  const target = deals[next.deal % Math.max(deals.length, 1)];
                  if (target === undefined) break;
                  const cancelDate = target.closeDate > day(28) ? target.closeDate : day(28);
                  await cancelDeal(ledger.store, { dealId: target.dealId, cancelDate, reason: 'property' }, testCommandContext());
                  target.cancelled = true;
                  break;
                }
                case 'close':
                  await closePeriod(deps, { calendarId: 'monthly', periodId: openMonth }, analyst());
                  closedMonths.push(openMonth);
                  openMonth = nextPeriodId(openMonth);
                  break;
                case 'approve': {
                  const periodId = closedMonths.at(-1) ?? openMonth;
                  await approvePayouts(ledger.store, { calendarId: 'monthly', periodId, ...(next.onlyFirst ? { payeeIds: ['ada'] } : {}) }, next.byPreparer ? analyst() : finance());
                  break;
                }
                case 'pay':
                  await confirmPayoutsPaid(ledger.store, { calendarId: 'monthly', periodId: closedMonths.at(-1) ?? openMonth, payrollReference: `run-${closedMonths.length}`, paidOn: `${openMonth}-05` }, payroll());
                  break;
                case 'reopen':
                  await reopenPeriod(deps, { calendarId: 'monthly', periodId: closedMonths.at(-1) ?? openMonth, reason: 'property' }, finance());
                  openMonth = closedMonths.pop() ?? openMonth;
                  break;
                case 'manual':
                  await postAdjustmentLines(
                    deps,
                    {
                      calendarId: 'monthly',
                      periodId: openMonth,
                      payeeId: payees[next.payee]!,
                      currency: 'USD',
                      lines: [{ lineId: `manual-${manualLines++}`, amount: `${next.negative ? '-' : ''}${money(next.cents)}`, cause: { kind: 'manual', reference: 'property' }, explanation: 'by hand' }],
                    },
                    analyst(),
                  );
                  break;
              }
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              if (next.kind === 'deal') deals.pop();
              // A refused command appends nothing.
              expect(await ledger.store.headPosition()).toBe(head);
            }
            await world.settle();
          }

          const balance = await trialBalance(ledger.db, { asOf: '2099-12-31' });
          expect(balance.balanced).toBe(true);
          for (const total of balance.totals) expect(total.debits).toBe(total.credits);

          for (const payeeId of payees) {
            const payouts: PayoutView[] = [];
            for (const periodId of closedMonths) payouts.push(...(await listPayouts(ledger.db, { calendarId: 'monthly', periodId })).items.filter((payout) => payout.payeeId === payeeId));
            // Lifetime identity over the payee's chain of frozen payouts.
            const last = payouts.at(-1);
            const lifetime = sum(payouts.flatMap((payout) => [payout.grossEarned, payout.adjustments, payout.clawbacks, payout.drawPaid]))
              .minus(sum(payouts.map((payout) => payout.drawRecovered)))
              .plus(last?.carryClosing.earningsDeficit ?? '0');
            expect(sum(payouts.map((payout) => payout.netPayable)).toFixed(2)).toBe(lifetime.toFixed(2));

            // The ledger holds what was approved and paid, once each.
            const approved = payouts.filter((payout) => payout.status !== 'pending_approval');
            const accounts = Object.fromEntries((await trialBalance(ledger.db, { asOf: '2099-12-31', payeeId })).rows.map((row) => [row.accountType, row.balance]));
            expect(accounts.payroll_clearing ?? '0.00').toBe(sum(approved.filter((payout) => payout.status === 'paid').map((payout) => payout.netPayable)).toFixed(2));
            const recoverable = approved.filter((payout) => payout.drawKind === 'recoverable');
            expect(accounts.draw_receivable ?? '0.00').toBe(sum(recoverable.map((payout) => payout.drawPaid)).minus(sum(recoverable.map((payout) => payout.drawRecovered))).toFixed(2));
            const entries = (await listLedgerEntries(ledger.db, { payeeId, limit: 500 })).items;
            const earnedByPayout = new Map<string, number>();
            for (const entry of entries) {
              if (entry.movement === 'commission_earned' && entry.reversedBy === null) earnedByPayout.set(entry.payoutId!, (earnedByPayout.get(entry.payoutId!) ?? 0) + 1);
            }
            for (const payout of approved) expect(earnedByPayout.get(payout.payoutId) ?? 1).toBe(1);
            expect([...earnedByPayout.keys()].sort()).toEqual(approved.map((payout) => payout.payoutId).filter((id) => earnedByPayout.has(id)).sort());
          }
        } finally {
          await world.close();
        }
      }),
      { numRuns: 12 },
    );
  });
});
