import { Decimal } from 'decimal.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { Money, isDecimalString } from '#lib/shared/domain/money.js';
import { isIsoDate } from './calendar.js';

/**
 * Value rules every context applies to the commands it decides. The HTTP edge validates shapes first;
 * these rules hold on their own so that a command from anywhere (Kafka, a script, a test) is judged the same.
 */

/**
 * Ids become part of stream ids (`payee-<id>`) and credit ids (`<dealId>:<payeeId>:primary`), so they
 * exclude ':' and whitespace and start with a letter or digit.
 */
const identifierPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const currencyPattern = /^[A-Z]{3}$/;
/** Measures name what a plan counts (bookings, revenue, arr): lower-case words joined by '_'. */
const measurePattern = /^[a-z][a-z0-9_]{0,63}$/;
const emailPattern = /^[^\s@]+@[^\s@]+$/;

export function requireIdentifier(value: unknown, field: string): string {
  if (typeof value !== 'string' || !identifierPattern.test(value)) {
    throw validationError('VALIDATION.IDENTIFIER', `${field} must be 1 to 128 letters, digits, '_', '.' or '-'`, [
      { field, message: "must be 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit" },
    ]);
  }
  return value;
}

export function requireText(value: unknown, field: string, maxLength = 200): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > maxLength) {
    throw validationError('VALIDATION.TEXT', `${field} must be non-blank text of at most ${maxLength} characters`, [
      { field, message: `must be non-blank text of at most ${maxLength} characters` },
    ]);
  }
  return value;
}

export function requireEmail(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 254 || !emailPattern.test(value)) {
    throw validationError('VALIDATION.EMAIL', `${field} must be an e-mail address`, [{ field, message: 'must be an e-mail address' }]);
  }
  return value;
}

export function requireCurrency(value: unknown, field: string): string {
  if (typeof value !== 'string' || !currencyPattern.test(value)) {
    throw validationError('VALIDATION.CURRENCY', `${field} must be an ISO 4217 code such as "EUR"`, [
      { field, message: 'must be an ISO 4217 code such as "EUR"' },
    ]);
  }
  return value;
}

export function requireMeasure(value: unknown, field: string): string {
  if (typeof value !== 'string' || !measurePattern.test(value)) {
    throw validationError('VALIDATION.MEASURE', `${field} must be a measure name such as "bookings"`, [
      { field, message: 'must be lower-case letters, digits and "_", such as "bookings"' },
    ]);
  }
  return value;
}

export function requireIsoDate(value: unknown, field: string): string {
  if (!isIsoDate(value)) {
    throw validationError('VALIDATION.DATE', `${field} must be a calendar date "YYYY-MM-DD"`, [
      { field, message: 'must be a calendar date "YYYY-MM-DD"' },
    ]);
  }
  return value;
}

/** A money amount or measure value: a decimal string, zero or more. */
export function requireAmount(value: unknown, field: string): Decimal {
  if (!isDecimalString(value)) {
    throw validationError('VALIDATION.DECIMAL', `${field} must be a decimal string such as "1250.00"`, [
      { field, message: 'must be a decimal string such as "1250.00"' },
    ]);
  }
  const amount = new Money(value);
  if (amount.isNegative() && !amount.isZero()) {
    throw validationError('VALIDATION.NEGATIVE_AMOUNT', `${field} must not be negative`, [{ field, message: 'must not be negative' }]);
  }
  return amount;
}
