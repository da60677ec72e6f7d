import { Decimal } from 'decimal.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { Money, isDecimalString } from '#lib/shared/domain/money.js';

/** Value rules of credit shares and overlay roles, shared by deals and territory overlays. */

const ONE_HUNDRED = new Money(100);

/** A share is a decimal string more than 0 and at most 100 percent. */
export function requireShare(value: unknown, field: string): Decimal {
  if (!isDecimalString(value)) {
    throw validationError('VALIDATION.DECIMAL', `${field} must be a decimal string such as "50"`, [{ field, message: 'must be a decimal string such as "50"' }]);
  }
  const share = new Money(value);
  if (share.lte(0) || share.gt(ONE_HUNDRED)) {
    throw validationError('CREDIT.SHARE_OUT_OF_RANGE', `${field} must be more than 0 and at most 100`, [
      { field, message: 'must be more than 0 and at most 100' },
    ]);
  }
  return share;
}

const rolePattern = /^[a-z][a-z0-9_]{0,31}$/;

export function requireRole(value: unknown, field: string): string {
  if (typeof value !== 'string' || !rolePattern.test(value)) {
    throw validationError('VALIDATION.ROLE', `${field} must be a role such as "manager" or "specialist"`, [
      { field, message: 'must be lower-case letters, digits and "_", such as "manager"' },
    ]);
  }
  return value;
}

