import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Money } from '#lib/shared/domain/money.js';
import { foldDraws, type DrawTerms } from './draw.js';

const recoverable2000: DrawTerms = { kind: 'recoverable', amountPerPeriod: '2000.00', currency: 'USD' };
const nonRecoverable2000: DrawTerms = { kind: 'non_recoverable', amountPerPeriod: '2000.00', currency: 'USD' };
const months = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06'];

describe('draws', () => {
  it('reproduces the published recoverable draw: 2,000 a month over six months', () => {
    const earned = ['2750', '3000', '1500', '2375', '3000', '2750'];
    const { periods, drawBalanceClosing } = foldDraws(recoverable2000, earned.map((amount, index) => ({ periodId: months[index], earned: amount })));
    expect(periods.map(({ periodId, earned: e, drawPaid, drawRecovered, paid, drawBalanceClosing: balance }) => [periodId, e, drawPaid, drawRecovered, paid, balance])).toEqual([
      ['2025-01', '2750.00', '0.00', '0.00', '2750.00', '0.00'],
      ['2025-02', '3000.00', '0.00', '0.00', '3000.00', '0.00'],
      ['2025-03', '1500.00', '500.00', '0.00', '2000.00', '500.00'],
      ['2025-04', '2375.00', '0.00', '375.00', '2000.00', '125.00'],
      ['2025-05', '3000.00', '0.00', '125.00', '2875.00', '0.00'],
      ['2025-06', '2750.00', '0.00', '0.00', '2750.00', '0.00'],
    ]);
    expect(drawBalanceClosing).toBe('0.00');
  });

  it.each([
    { name: 'published: 800 earned tops up 1,200', terms: nonRecoverable2000, earned: '800', drawPaid: '1200.00', paid: '2000.00' },
    { name: 'nothing earned pays the whole draw', terms: nonRecoverable2000, earned: '0', drawPaid: '2000.00', paid: '2000.00' },
    { name: 'earnings above the draw pay as earned', terms: nonRecoverable2000, earned: '2000.01', drawPaid: '0.00', paid: '2000.01' },
    { name: 'exactly the draw pays no top-up', terms: recoverable2000, earned: '2000', drawPaid: '0.00', paid: '2000.00' },
    { name: 'yen have no minor unit', terms: { kind: 'recoverable', amountPerPeriod: '300000', currency: 'JPY' } as DrawTerms, earned: '120000', drawPaid: '180000', paid: '300000' },
  ])('single period: $name', ({ terms, earned, drawPaid, paid }) => {
    const [period] = foldDraws(terms, [{ periodId: '2025-01', earned }]).periods;
    expect({ drawPaid: period.drawPaid, paid: period.paid }).toEqual({ drawPaid, paid });
  });

  it('a non-recoverable draw never builds a balance, and leaves one carried in untouched', () => {
    const { periods, drawBalanceClosing } = foldDraws(nonRecoverable2000, [{ periodId: 'p1', earned: '800' }, { periodId: 'p2', earned: '5000' }], '300.00');
    expect(periods.map((period) => period.drawRecovered)).toEqual(['0.00', '0.00']);
    expect(drawBalanceClosing).toBe('300.00');
  });

  it('carries a balance in from an earlier fold', () => {
    const { periods } = foldDraws(recoverable2000, [{ periodId: 'p7', earned: '2600' }], '1000.00');
    expect(periods[0]).toMatchObject({ drawRecovered: '600.00', paid: '2000.00', drawBalanceClosing: '400.00' });
  });

  it.each([
    { name: 'negative earnings', earned: '-1.00', code: 'VALIDATION.NEGATIVE' },
    { name: 'unrounded earnings', earned: '1.001', code: 'VALIDATION.AMOUNT_NOT_ROUNDED' },
    { name: 'an exponent', earned: '1e3', code: 'VALIDATION.DECIMAL' },
  ])('rejects $name', ({ earned, code }) => {
    expect(() => foldDraws(recoverable2000, [{ periodId: 'p1', earned }])).toThrow(expect.objectContaining({ code }));
  });

  /** A recoverable draw never pays below the draw amount, and its balance is exactly what was advanced and not yet recovered. */
  it('recoverable draw invariants hold for any earnings', () => {
    const cents = fc.bigInt({ min: 0n, max: 1_000_000n });
    fc.assert(
      fc.property(cents, fc.array(cents, { minLength: 1, maxLength: 12 }), (drawCents, earnedCents) => {
        const toMoney = (value: bigint): string => new Money(value.toString()).div(100).toFixed(2);
        const terms: DrawTerms = { kind: 'recoverable', amountPerPeriod: toMoney(drawCents), currency: 'USD' };
        const { periods, drawBalanceClosing } = foldDraws(terms, earnedCents.map((value, index) => ({ periodId: `p${index}`, earned: toMoney(value) })));
        let advanced = new Money(0);
        let recovered = new Money(0);
        for (const period of periods) {
          expect(new Money(period.paid).greaterThanOrEqualTo(terms.amountPerPeriod)).toBe(true);
          expect(new Money(period.paid).equals(new Money(period.earned).plus(period.drawPaid).minus(period.drawRecovered))).toBe(true);
          advanced = advanced.plus(period.drawPaid);
          recovered = recovered.plus(period.drawRecovered);
        }
        expect(new Money(drawBalanceClosing).equals(advanced.minus(recovered))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
