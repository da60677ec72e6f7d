import type { Decimal } from 'decimal.js';

/**
 * The sign of a − b for two finite decimals, like `a.cmp(b)` but without the copy of `b` decimal.js makes
 * on every comparison. The engine compares period-to-date amounts with tier bounds and caps for every
 * credit, so that copy is a large share of its garbage. Reads the read-only digits/exponent/sign fields
 * decimal.js documents (`d`, `e`, `s`), following its own comparison.
 */
export function compareDecimals(a: Decimal, b: Decimal): number {
  const aDigits = a.d;
  const bDigits = b.d;
  if (!aDigits[0] || !bDigits[0]) return aDigits[0] ? a.s : bDigits[0] ? -b.s : 0;
  if (a.s !== b.s) return a.s;
  const negative = a.s < 0;
  if (a.e !== b.e) return a.e > b.e !== negative ? 1 : -1;
  const length = aDigits.length < bDigits.length ? aDigits.length : bDigits.length;
  for (let index = 0; index < length; index++) {
    if (aDigits[index] !== bDigits[index]) return aDigits[index]! > bDigits[index]! !== negative ? 1 : -1;
  }
  if (aDigits.length === bDigits.length) return 0;
  return aDigits.length > bDigits.length !== negative ? 1 : -1;
}
