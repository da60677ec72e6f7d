import { describe, expect, it } from '@jest/globals';
import { Money } from '#lib/shared/domain/money.js';
import type { AccountType } from './accounts.js';
import { assertBalanced, type JournalEntry, type MovementInput } from './journal-entry.js';
import {
  amortizationSchedule,
  postAdjustment,
  postAmortizationSchedule,
  postCapitalization,
  postClawback,
  postDrawAdvance,
  postDrawRecovery,
  postEarnedCommission,
  postPayoutPaid,
} from './postings.js';
import { balanceOf, trialBalanceOf, trialBalanceReport } from './trial-balance.js';

const movement = (amount: string, sourceId = 'line-1'): MovementInput => ({ payeeId: 'ada', currency: 'USD', amount, sourceId, postedOn: '2025-08-31' });
const legsOf = (entries: JournalEntry[]): [string, AccountType, string][] =>
  entries.flatMap((entry) => entry.legs.map((leg) => [leg.side, leg.account.type, leg.amount] as [string, AccountType, string]));

describe('postings', () => {
  it.each([
    { name: 'earned commission', entries: postEarnedCommission(movement('5600.00')), legs: [['debit', 'commission_expense', '5600.00'], ['credit', 'commissions_payable', '5600.00']] },
    { name: 'upward adjustment', entries: postAdjustment(movement('150.00')), legs: [['debit', 'commission_expense', '150.00'], ['credit', 'commissions_payable', '150.00']] },
    { name: 'downward adjustment reverses', entries: postAdjustment(movement('-50.00')), legs: [['debit', 'commissions_payable', '50.00'], ['credit', 'commission_expense', '50.00']] },
    { name: 'clawback of -500', entries: postClawback(movement('-500.00')), legs: [['debit', 'commissions_payable', '500.00'], ['credit', 'commission_expense', '500.00']] },
    { name: 'recoverable draw advance', entries: postDrawAdvance({ ...movement('500.00'), drawKind: 'recoverable' }), legs: [['debit', 'draw_receivable', '500.00'], ['credit', 'commissions_payable', '500.00']] },
    { name: 'non-recoverable top-up', entries: postDrawAdvance({ ...movement('1200.00'), drawKind: 'non_recoverable' }), legs: [['debit', 'commission_expense', '1200.00'], ['credit', 'commissions_payable', '1200.00']] },
    { name: 'draw recovery', entries: postDrawRecovery(movement('375.00')), legs: [['debit', 'commissions_payable', '375.00'], ['credit', 'draw_receivable', '375.00']] },
    { name: 'payout paid', entries: postPayoutPaid(movement('2000.00')), legs: [['debit', 'commissions_payable', '2000.00'], ['credit', 'payroll_clearing', '2000.00']] },
    { name: 'capitalisation', entries: postCapitalization(movement('3000.00')), legs: [['debit', 'contract_cost_asset', '3000.00'], ['credit', 'commissions_payable', '3000.00']] },
    { name: 'zero posts nothing', entries: postEarnedCommission(movement('0.00')), legs: [] },
  ])('$name', ({ entries, legs }) => {
    expect(legsOf(entries)).toEqual(legs);
    for (const entry of entries) assertBalanced(entry);
  });

  it('derives entry ids from movement and source, so reposting names the same entry', () => {
    expect(postEarnedCommission(movement('1.00', 'L:1'))[0].entryId).toBe('commission_earned:L%3A1');
    expect(postEarnedCommission(movement('1.00', 'L:1'))[0].entryId).not.toBe(postAdjustment(movement('1.00', 'L:1'))[0].entryId);
  });

  it('published: 3,000 of capitalizable commission over a 5-year benefit period amortizes 50 per month', () => {
    const schedule = amortizationSchedule({ amount: '3000.00', currency: 'USD', benefitPeriodMonths: 5 * 12, firstMonth: '2025-07' });
    expect(schedule).toHaveLength(60);
    expect(new Set(schedule.map((month) => month.amount))).toEqual(new Set(['50.00']));
    expect([schedule[0].month, schedule[59].month]).toEqual(['2025-07', '2030-06']);

    const entries = [...postCapitalization(movement('3000.00', 'cap-1')), ...postAmortizationSchedule({ payeeId: 'ada', currency: 'USD', amount: '3000.00', benefitPeriodMonths: 60, firstMonth: '2025-07', sourceId: 'cap-1' })];
    const afterTwelve = trialBalanceOf(entries.slice(0, 13));
    expect(balanceOf(afterTwelve, { payeeId: 'ada', type: 'contract_cost_asset' }, 'USD')).toBe('2400.00');
    expect(balanceOf(afterTwelve, { payeeId: 'ada', type: 'contract_cost_amortization' }, 'USD')).toBe('600.00');
    const atEnd = trialBalanceOf(entries);
    expect(balanceOf(atEnd, { payeeId: 'ada', type: 'contract_cost_asset' }, 'USD')).toBe('0.00');
    expect(trialBalanceReport(atEnd).totalsByCurrency).toEqual([{ currency: 'USD', debits: '6000.00', credits: '6000.00', net: '0.00' }]);
  });

  it.each([
    { amount: '1000.00', months: 60, first: '16.67', distinct: ['16.66', '16.67'] },
    { amount: '0.10', months: 60, first: '0.00', distinct: ['0.00', '0.01'] },
    { amount: '100', months: 7, first: '14', distinct: ['14', '15'], currency: 'JPY' },
  ])('spreads $amount over $months months exactly, never negative', ({ amount, months, first, distinct, currency }) => {
    const schedule = amortizationSchedule({ amount, currency: currency ?? 'USD', benefitPeriodMonths: months, firstMonth: '2025-01' });
    expect(schedule[0].amount).toBe(first);
    expect([...new Set(schedule.map((month) => month.amount))].sort()).toEqual(distinct);
    expect(schedule.reduce((sum, month) => sum.plus(month.amount), new Money(0)).equals(amount)).toBe(true);
  });

  it.each([
    { name: 'a positive clawback', run: () => postClawback(movement('500.00')), code: 'LEDGER.CLAWBACK_NOT_NEGATIVE' },
    { name: 'a negative payout', run: () => postPayoutPaid(movement('-1.00')), code: 'LEDGER.AMOUNT_NEGATIVE' },
    { name: 'an unrounded amount', run: () => postEarnedCommission(movement('1.005')), code: 'VALIDATION.AMOUNT_NOT_ROUNDED' },
    { name: 'a zero-month benefit period', run: () => amortizationSchedule({ amount: '1.00', currency: 'USD', benefitPeriodMonths: 0, firstMonth: '2025-01' }), code: 'LEDGER.BENEFIT_PERIOD_INVALID' },
    { name: 'a bad month', run: () => amortizationSchedule({ amount: '1.00', currency: 'USD', benefitPeriodMonths: 2, firstMonth: '2025-13' }), code: 'VALIDATION.MONTH' },
    { name: 'a bad currency', run: () => postEarnedCommission({ ...movement('1.00'), currency: 'usd' }), code: 'VALIDATION.CURRENCY' },
  ])('rejects $name', ({ run, code }) => {
    expect(run).toThrow(expect.objectContaining({ code }));
  });

  it('refuses an unbalanced entry as a programming error', () => {
    const [entry] = postEarnedCommission(movement('10.00'));
    expect(() => trialBalanceOf([{ ...entry, legs: [entry.legs[0], { ...entry.legs[1], amount: '9.99' }] }])).toThrow('unbalanced');
  });
});
