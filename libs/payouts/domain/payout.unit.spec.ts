import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Money } from '#lib/shared/domain/money.js';
import { computePayout, emptyCarry, foldPayouts, type PayoutInput } from './payout.js';
import { payoutIdFor } from './payout-id.js';
import type { DrawTerms } from './draw.js';
import type { StatementLineSummary, StatementSummary } from './statement-summary.js';

const statementOf = (periodId: string, lines: StatementLineSummary[], currency = 'USD'): StatementSummary => ({
  payeeId: 'ada',
  periodId,
  currency,
  lines,
  totalEarned: lines.filter((line) => line.kind !== 'held').reduce((sum, line) => sum.plus(line.amount), new Money(0)).toFixed(),
});
const recoverable2000: DrawTerms = { kind: 'recoverable', amountPerPeriod: '2000.00', currency: 'USD' };

describe('payout computation', () => {
  it('splits the statement into gross, adjustments and clawbacks, and ignores held lines', () => {
    const statement = statementOf('2025-08', [
      { lineId: 'c1', kind: 'commission', amount: '3000.00', dealId: 'd-1' },
      { lineId: 's1', kind: 'spif', amount: '250.00' },
      { lineId: 'h1', kind: 'held', amount: '900.00' },
      { lineId: 'a1', kind: 'adjustment', amount: '150.00', cause: { kind: 'deal_amended', reference: 'd-4' } },
      { lineId: 'k1', kind: 'clawback', amount: '-500.00', dealId: 'd-7' },
    ]);
    const payout = computePayout({ statement, statementDigest: 'sha256:01', draw: null, carryOpening: emptyCarry() });
    expect(payout).toMatchObject({
      payoutId: payoutIdFor({ payeeId: 'ada', periodId: '2025-08', statementDigest: 'sha256:01' }),
      grossEarned: '3250.00',
      adjustments: '150.00',
      clawbacks: '-500.00',
      drawPaid: '0.00',
      drawRecovered: '0.00',
      netPayable: '2900.00',
      currency: 'USD',
      carryClosing: { drawBalance: '0.00', earningsDeficit: '0.00' },
    });
  });

  it('names the part of gross earned that is capitalised, by benefit period', () => {
    const statement = statementOf('2025-07', [
      { lineId: 'c1', kind: 'commission', amount: '3000.00', benefitMonths: 60 },
      { lineId: 'c2', kind: 'true_up', amount: '-200.00', benefitMonths: 60 },
      { lineId: 'c3', kind: 'commission', amount: '400.00', benefitMonths: 12 },
      { lineId: 'c4', kind: 'commission', amount: '-10.00', benefitMonths: 24 },
      { lineId: 'c5', kind: 'spif', amount: '500.00' },
      { lineId: 'h1', kind: 'held', amount: '900.00', benefitMonths: 60 },
    ]);
    const payout = computePayout({ statement, statementDigest: 'sha256:02', draw: null, carryOpening: emptyCarry() });
    expect(payout).toMatchObject({
      grossEarned: '3690.00',
      capitalized: [
        { benefitMonths: 12, amount: '400.00' },
        { benefitMonths: 60, amount: '2800.00' },
      ],
      netPayable: '3690.00',
    });
  });

  it('carries a clawback larger than the period earned as a deficit, never paying below zero', () => {
    const { payouts, carryClosing } = foldPayouts([
      { statement: statementOf('p1', [{ lineId: 'c1', kind: 'commission', amount: '100.00' }, { lineId: 'k1', kind: 'clawback', amount: '-400.00' }]), statementDigest: 'd1', draw: null },
      { statement: statementOf('p2', [{ lineId: 'c2', kind: 'commission', amount: '1000.00' }]), statementDigest: 'd2', draw: null },
    ]);
    expect(payouts.map((payout) => [payout.netPayable, payout.earningsDeficitApplied, payout.carryClosing.earningsDeficit])).toEqual([
      ['0.00', '0.00', '300.00'],
      ['700.00', '300.00', '0.00'],
    ]);
    expect(carryClosing).toEqual({ drawBalance: '0.00', earningsDeficit: '0.00' });
  });

  it('reproduces the published recoverable draw through payouts', () => {
    const earned = ['2750.00', '3000.00', '1500.00', '2375.00', '3000.00', '2750.00'];
    const { payouts } = foldPayouts(
      earned.map((amount, index) => ({ statement: statementOf(`2025-0${index + 1}`, [{ lineId: `c${index}`, kind: 'commission', amount }]), statementDigest: `d${index}`, draw: recoverable2000 })),
    );
    expect(payouts.map((payout) => payout.netPayable)).toEqual(['2750.00', '3000.00', '2000.00', '2000.00', '2875.00', '2750.00']);
  });

  it('the same statement digest always gives the same payout id; a changed digest gives another', () => {
    const input: PayoutInput = { statement: statementOf('p1', [{ lineId: 'c1', kind: 'commission', amount: '10.00' }]), statementDigest: 'sha256:aa', draw: null, carryOpening: emptyCarry() };
    expect(computePayout(input).payoutId).toBe(computePayout(structuredClone(input)).payoutId);
    expect(computePayout({ ...input, statementDigest: 'sha256:ab' }).payoutId).not.toBe(computePayout(input).payoutId);
  });

  it.each([
    { name: 'a total that is not the sum of payable lines', change: (input: PayoutInput) => ({ ...input, statement: { ...input.statement, totalEarned: '11.00' } }), code: 'STATEMENT.TOTAL_MISMATCH' },
    { name: 'a draw in another currency', change: (input: PayoutInput) => ({ ...input, draw: { ...recoverable2000, currency: 'EUR' } }), code: 'PAYOUT.CURRENCY_MISMATCH' },
    { name: 'a missing digest', change: (input: PayoutInput) => ({ ...input, statementDigest: '' }), code: 'VALIDATION.REQUIRED' },
    { name: 'a negative carried balance', change: (input: PayoutInput) => ({ ...input, carryOpening: { drawBalance: '-1.00', earningsDeficit: '0' } }), code: 'VALIDATION.NEGATIVE' },
  ])('rejects $name', ({ change, code }) => {
    const input: PayoutInput = { statement: statementOf('p1', [{ lineId: 'c1', kind: 'commission', amount: '10.00' }]), statementDigest: 'sha256:aa', draw: null, carryOpening: emptyCarry() };
    expect(() => computePayout(change(input))).toThrow(expect.objectContaining({ code }));
  });

  /**
   * The lifetime identity finance reconciles against: whatever the mix of earnings, adjustments, clawbacks and
   * draws, total paid = earned + adjustments - clawed back + draw paid - draw recovered + deficit still owed by the payee, and the
   * draw balance left is exactly what was advanced and not recovered.
   */
  it('lifetime net paid equals earned + adjustments - clawbacks +/- draw movements', () => {
    const cents = (min: bigint, max: bigint) => fc.bigInt({ min, max }).map((value) => new Money(value.toString()).div(100).toFixed(2));
    const periodArbitrary = fc.record({
      commission: cents(0n, 500_000n),
      adjustment: cents(-100_000n, 100_000n),
      clawback: cents(-300_000n, 0n),
      draw: fc.option(fc.record({ kind: fc.constantFrom<DrawTerms['kind']>('recoverable', 'non_recoverable'), amountPerPeriod: cents(0n, 400_000n), currency: fc.constant('USD') }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(periodArbitrary, { minLength: 1, maxLength: 12 }), (periods) => {
        const { payouts, carryClosing } = foldPayouts(
          periods.map((period, index) => ({
            statement: statementOf(`p${index}`, [
              { lineId: 'c', kind: 'commission', amount: period.commission },
              { lineId: 'a', kind: 'adjustment', amount: period.adjustment },
              { lineId: 'k', kind: 'clawback', amount: period.clawback },
            ]),
            statementDigest: `d${index}`,
            draw: period.draw,
          })),
        );
        const sum = (values: string[]) => values.reduce((total, value) => total.plus(value), new Money(0));
        const paid = sum(payouts.map((payout) => payout.netPayable));
        const earned = sum(periods.map((period) => period.commission));
        const adjustments = sum(periods.map((period) => period.adjustment));
        const clawedBack = sum(periods.map((period) => period.clawback)).negated();
        const drawPaid = sum(payouts.map((payout) => payout.drawPaid));
        const drawRecovered = sum(payouts.map((payout) => payout.drawRecovered));
        const recoverableAdvanced = sum(payouts.filter((payout) => payout.drawKind === 'recoverable').map((payout) => payout.drawPaid));
        expect(paid.toFixed(2)).toBe(earned.plus(adjustments).minus(clawedBack).plus(drawPaid).minus(drawRecovered).plus(carryClosing.earningsDeficit).toFixed(2));
        expect(new Money(carryClosing.drawBalance).toFixed(2)).toBe(recoverableAdvanced.minus(drawRecovered).toFixed(2));
        for (const payout of payouts) expect(new Money(payout.netPayable).isNegative()).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
