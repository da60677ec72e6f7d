import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Money } from '#lib/shared/domain/money.js';
import { foldPayouts } from '#lib/payouts/domain/payout.js';
import type { DrawTerms } from '#lib/payouts/domain/draw.js';
import type { StatementSummary } from '#lib/payouts/domain/statement-summary.js';
import type { JournalEntry, MovementInput } from './journal-entry.js';
import { postingsForPayout, postPayoutPaidFor } from './payout-postings.js';
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
import { applyEntry, balanceOf, emptyTrialBalance, trialBalanceOf, trialBalanceReport } from './trial-balance.js';

const centsToMoney = (cents: bigint, currency: string): string => (currency === 'JPY' ? cents.toString() : new Money(cents.toString()).div(100).toFixed(2));

/** Any mix of postings, in any currency, for any payees: each currency's debits equal its credits. */
describe('trial balance', () => {
  const postingArbitrary = fc
    .record({
      kind: fc.constantFrom('earned', 'adjustment', 'clawback', 'advance', 'recovery', 'paid', 'capitalized', 'amortized'),
      cents: fc.bigInt({ min: 0n, max: 10_000_000_000n }),
      negative: fc.boolean(),
      payeeId: fc.constantFrom('ada', 'bo', 'cy:1'),
      currency: fc.constantFrom('USD', 'EUR', 'JPY', 'KWD'),
      months: fc.integer({ min: 1, max: 72 }),
      sourceId: fc.stringMatching(/^[a-z0-9:-]{1,8}$/),
    })
    .map(({ kind, cents, negative, payeeId, currency, months, sourceId }): JournalEntry[] => {
      const amount = currency === 'KWD' ? new Money(cents.toString()).div(1000).toFixed(3) : centsToMoney(cents, currency);
      const input: MovementInput = { payeeId, currency, amount, sourceId, postedOn: '2025-01-31' };
      const signed = { ...input, amount: negative && !new Money(amount).isZero() ? `-${amount}` : amount };
      switch (kind) {
        case 'earned':
          return postEarnedCommission(signed);
        case 'adjustment':
          return postAdjustment(signed);
        case 'clawback':
          return postClawback({ ...input, amount: new Money(amount).isZero() ? amount : `-${amount}` });
        case 'advance':
          return postDrawAdvance({ ...input, drawKind: negative ? 'non_recoverable' : 'recoverable' });
        case 'recovery':
          return postDrawRecovery(input);
        case 'paid':
          return postPayoutPaid(input);
        case 'capitalized':
          return postCapitalization(input);
        default:
          return postAmortizationSchedule({ ...input, benefitPeriodMonths: months, firstMonth: '2025-01' });
      }
    });

  it('nets to zero in every currency after any sequence of postings', () => {
    fc.assert(
      fc.property(fc.array(postingArbitrary, { maxLength: 30 }), (batches) => {
        let trialBalance = emptyTrialBalance();
        for (const entry of batches.flat()) {
          trialBalance = applyEntry(trialBalance, entry);
          for (const total of trialBalanceReport(trialBalance).totalsByCurrency) {
            expect(new Money(total.net).isZero()).toBe(true);
            expect(total.debits).toBe(total.credits);
          }
        }
        expect(trialBalance.entryCount).toBe(batches.flat().length);
      }),
      { numRuns: 100 },
    );
  });

  /**
   * Payouts and the ledger tell the same story: after posting every payout of a payee's life and paying each one,
   * payroll clearing holds what was paid, the draw receivable holds the draw balance still owed, commissions payable
   * is the payee's carried deficit (a debit balance), and expense is earned + adjustments + clawbacks + draw top-ups.
   */
  it("agrees with the payout fold on a payee's lifetime", () => {
    const cents = (min: bigint, max: bigint) => fc.bigInt({ min, max }).map((value) => centsToMoney(value, 'USD'));
    const periodArbitrary = fc.record({
      commission: cents(0n, 500_000n),
      adjustment: cents(-100_000n, 100_000n),
      clawback: cents(-300_000n, 0n),
      draw: fc.option(fc.record({ kind: fc.constantFrom<DrawTerms['kind']>('recoverable', 'non_recoverable'), amountPerPeriod: cents(0n, 400_000n), currency: fc.constant('USD') }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(periodArbitrary, { minLength: 1, maxLength: 12 }), (periods) => {
        const statements: StatementSummary[] = periods.map((period, index) => ({
          payeeId: 'ada',
          periodId: `p${index}`,
          currency: 'USD',
          lines: [
            { lineId: `c${index}`, kind: 'commission', amount: period.commission },
            { lineId: `a${index}`, kind: 'adjustment', amount: period.adjustment },
            { lineId: `k${index}`, kind: 'clawback', amount: period.clawback },
          ],
          totalEarned: new Money(period.commission).plus(period.adjustment).plus(period.clawback).toFixed(2),
        }));
        const { payouts, carryClosing } = foldPayouts(statements.map((statement, index) => ({ statement, statementDigest: `d${index}`, draw: periods[index].draw })));
        const entries = payouts.flatMap((payout, index) => [...postingsForPayout(payout, statements[index], { postedOn: '2025-01-31' }), ...postPayoutPaidFor(payout, '2025-02-05')]);
        const trialBalance = trialBalanceOf(entries);
        const balance = (type: Parameters<typeof balanceOf>[1]['type']) => balanceOf(trialBalance, { payeeId: 'ada', type }, 'USD');
        const sum = (values: string[]) => values.reduce((total, value) => total.plus(value), new Money(0));

        expect(balance('payroll_clearing')).toBe(sum(payouts.map((payout) => payout.netPayable)).toFixed(2));
        expect(balance('draw_receivable')).toBe(carryClosing.drawBalance);
        expect(balance('commissions_payable')).toBe(new Money(carryClosing.earningsDeficit).negated().toFixed(2));
        const topUps = sum(payouts.filter((payout) => payout.drawKind === 'non_recoverable').map((payout) => payout.drawPaid));
        const earned = sum(periods.flatMap((period) => [period.commission, period.adjustment, period.clawback]));
        expect(balance('commission_expense')).toBe(earned.plus(topUps).toFixed(2));
        expect(trialBalanceReport(trialBalance).totalsByCurrency.every((total) => new Money(total.net).isZero())).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
