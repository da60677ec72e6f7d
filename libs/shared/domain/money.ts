import { Decimal } from 'decimal.js';
import { validationError } from './domain-error.js';

/**
 * Money and rates are decimal.js values in memory and decimal strings on the wire and in events.
 * A JS number never holds money. Computation runs at full precision; rounding happens once per
 * statement line, to the currency's minor unit, half-even (banker's rounding).
 */

/** A decimal configured for money: ample precision and half-even rounding. Use this, not the global Decimal. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Money = Decimal;

/** ISO 4217 minor units for the currencies the ledger knows; others default to 2. */
const minorUnitsByCurrency: Readonly<Record<string, number>> = {
  BHD: 3, CLF: 4, CLP: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, TND: 3,
  UGX: 0, UYI: 0, UYW: 4, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
};

export const minorUnits = (currency: string): number => minorUnitsByCurrency[currency] ?? 2;

/** Rounds once to the currency's minor unit, half-even. */
export const roundToMinorUnit = (amount: Decimal, currency: string): Decimal =>
  amount.toDecimalPlaces(minorUnits(currency), Decimal.ROUND_HALF_EVEN);

/** Formats a rounded amount with exactly the currency's minor-unit digits, e.g. "5600.00". */
export const formatMoney = (amount: Decimal, currency: string): string =>
  roundToMinorUnit(amount, currency).toFixed(minorUnits(currency));

const decimalPattern = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/**
 * Parses a decimal string strictly: no exponent, no spaces, no leading '+', no JS numbers.
 * Throws a validation DomainError naming the field.
 */
export function parseDecimal(value: unknown, field: string, options: { allowNegative?: boolean } = {}): Decimal {
  if (typeof value !== 'string' || !decimalPattern.test(value)) {
    throw validationError('VALIDATION.DECIMAL', `${field} must be a decimal string such as "1250.00"`, [
      { field, message: 'must be a decimal string such as "1250.00"' },
    ]);
  }
  const parsed = new Money(value);
  if (!options.allowNegative && parsed.isNegative() && !parsed.isZero()) {
    throw validationError('VALIDATION.NEGATIVE', `${field} must not be negative`, [{ field, message: 'must not be negative' }]);
  }
  return parsed;
}

export const isDecimalString = (value: unknown): value is string => typeof value === 'string' && decimalPattern.test(value);

/** Attainment as a percentage with two decimals, half-even: credited / quota * 100. Null when quota is zero or unknown. */
export function attainmentPercent(credited: Decimal, quota: Decimal | null): string | null {
  if (quota === null || quota.isZero()) return null;
  return credited.div(quota).times(100).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed(2);
}
