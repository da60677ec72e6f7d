import { describe, expect, it } from '@jest/globals';
import { computePayout, emptyCarry, figuresOf } from '#lib/payouts/domain/payout.js';
import type { StatementLineSummary } from '#lib/payouts/domain/statement-summary.js';
import { Money } from '#lib/shared/domain/money.js';
import { reversalOf } from './journal-entry.js';
import { postingsForApprovedPayout, type ApprovedPayoutPosting } from './payout-postings.js';
import { balanceOf, trialBalanceOf, trialBalanceReport } from './trial-balance.js';

/** An approved payout as the period records it, priced from these statement lines. */
function approved(lines: StatementLineSummary[], draw: Parameters<typeof computePayout>[0]['draw'] = null): ApprovedPayoutPosting {
  const totalEarned = lines.filter((line) => line.kind !== 'held').reduce((sum, line) => sum.plus(line.amount), new Money(0)).toFixed(2);
  const payout = computePayout({ statement: { payeeId: 'ada', periodId: '2025-07', currency: 'USD', lines, totalEarned }, statementDigest: 'sha256:01', draw, carryOpening: emptyCarry() });
  return {
    payeeId: 'ada',
    payoutId: payout.payoutId,
    currency: 'USD',
    figures: figuresOf(payout),
    postedLines: lines.filter((line) => line.kind === 'adjustment' || line.kind === 'clawback').map(({ lineId, kind, amount }) => ({ lineId, kind, amount })),
  };
}
const options = { postedOn: '2025-07-31', firstAmortizationMonth: '2025-07', approvalReference: '901' };
const balance = (entries: ReturnType<typeof postingsForApprovedPayout>, type: Parameters<typeof balanceOf>[1]['type'], asOf = '9999-12-31') =>
  balanceOf(trialBalanceOf(entries.filter((entry) => entry.postedOn <= asOf)), { payeeId: 'ada', type }, 'USD');

describe('postings of an approved payout', () => {
  it('published: 3,000 of capitalizable commission over a 5-year benefit period is an asset amortised 50 a month', () => {
    const entries = postingsForApprovedPayout(approved([{ lineId: 'c1', kind: 'commission', amount: '3000.00', benefitMonths: 60 }]), options);
    expect(entries.filter((entry) => entry.movement === 'contract_cost_amortized').map((entry) => entry.legs[0]!.amount)).toEqual(Array.from({ length: 60 }, () => '50.00'));
    expect(balance(entries, 'commissions_payable')).toBe('3000.00');
    expect(balance(entries, 'commission_expense')).toBe('0.00');
    expect(balance(entries, 'contract_cost_asset', '2025-07-31')).toBe('2950.00');
    expect(balance(entries, 'contract_cost_asset', '2026-06-30')).toBe('2400.00');
    expect(balance(entries, 'contract_cost_amortization', '2026-06-30')).toBe('600.00');
    expect(balance(entries, 'contract_cost_asset')).toBe('0.00');
  });

  it('expenses the rest, posts each adjustment and clawback line, and the draw', () => {
    const entries = postingsForApprovedPayout(
      approved(
        [
          { lineId: 'c1', kind: 'commission', amount: '500.00' },
          { lineId: 'adj-1', kind: 'adjustment', amount: '150.00' },
          { lineId: 'claw-1', kind: 'clawback', amount: '-500.00' },
        ],
        { kind: 'recoverable', amountPerPeriod: '2000.00', currency: 'USD' },
      ),
      options,
    );
    expect(entries.map((entry) => [entry.movement, entry.sourceId])).toEqual([
      ['commission_earned', expect.stringMatching(/@901$/)],
      ['adjustment', 'adj-1@901'],
      ['clawback', 'claw-1@901'],
      ['draw_advance', expect.stringMatching(/@901$/)],
    ]);
    // 150 earned net, 1,850 advanced against the draw: the payable is the 2,000 the payout pays.
    expect(balance(entries, 'commissions_payable')).toBe('2000.00');
    expect(balance(entries, 'draw_receivable')).toBe('1850.00');
    expect(balance(entries, 'commission_expense')).toBe('150.00');
    expect(trialBalanceReport(trialBalanceOf(entries)).totalsByCurrency).toEqual([{ currency: 'USD', debits: '3000.00', credits: '3000.00', net: '0.00' }]);
  });

  it('gives each approval its own entry ids, and reverses an entry exactly', () => {
    const payout = approved([{ lineId: 'c1', kind: 'commission', amount: '10.00' }]);
    const first = postingsForApprovedPayout(payout, options);
    const second = postingsForApprovedPayout(payout, { ...options, approvalReference: '977' });
    expect(first[0]!.entryId).not.toBe(second[0]!.entryId);
    const reversal = reversalOf(first[0]!, 'reopen-950');
    expect(reversal).toMatchObject({ movement: 'reversal', postedOn: first[0]!.postedOn, sourceId: first[0]!.entryId });
    expect(balance([first[0]!, reversal], 'commission_expense')).toBe('0.00');
  });
});
