import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Money } from '#lib/shared/domain/money.js';
import { ExactDecimal } from './exact-decimal.js';

/** ExactDecimal must agree with decimal.js (Money) on every sum and on how the result is written. */

const decimalString = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3 }))
  .map(([negative, units, scale, trailingZeros]) => {
    let digits = units.toString().padStart(scale + 1, '0');
    if (scale > 0) digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    if (trailingZeros > 0) digits = scale > 0 ? digits + '0'.repeat(trailingZeros) : `${digits}.${'0'.repeat(trailingZeros)}`;
    return negative && units !== 0n ? `-${digits}` : digits;
  });

describe('ExactDecimal', () => {
  it.each([
    ['1000.00', '1000'],
    ['0.000', '0'],
    ['-0.50', '-0.5'],
    ['0.0001', '0.0001'],
    ['333.3363333', '333.3363333'],
    ['120', '120'],
  ])('writes %s as %s', (text, written) => {
    expect(ExactDecimal.parse(text).toString()).toBe(written);
    expect(ExactDecimal.parse(text).toString()).toBe(new Money(text).toFixed());
  });

  it('adds exactly where binary floating point would not', () => {
    const sum = ['0.1', '0.2', '0.3'].reduce((total, text) => total.plus(ExactDecimal.parse(text)), ExactDecimal.ZERO);
    expect(sum.toString()).toBe('0.6');
    expect(ExactDecimal.parse('600').minus(ExactDecimal.parse('600.00')).isZero()).toBe(true);
    expect(ExactDecimal.parse('1.50').equals(ExactDecimal.parse('1.5'))).toBe(true);
  });

  it('rejects text that is not a plain decimal string', () => {
    for (const text of ['1e3', '', ' 1', '1.', '.5', '+1', 'NaN']) expect(() => ExactDecimal.parse(text)).toThrow('Not a decimal string');
  });

  it('agrees with decimal.js on any sum and difference of decimal strings', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), decimalString), { minLength: 1, maxLength: 20 }), (terms) => {
        let exact = ExactDecimal.ZERO;
        let reference = new Money(0);
        for (const [subtract, text] of terms) {
          exact = subtract ? exact.minus(ExactDecimal.parse(text)) : exact.plus(ExactDecimal.parse(text));
          reference = subtract ? reference.minus(text) : reference.plus(text);
        }
        expect(exact.toString()).toBe(reference.toFixed());
        expect(exact.toMoney().equals(reference)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
