import { Decimal } from 'decimal.js';
import { Money } from '#lib/shared/domain/money.js';

/**
 * An exact decimal held as integer units of 10^-scale (a bigint), for sums that must never round: credited
 * amounts add up thousands of decimal strings per rebuild, and this does it several times faster than decimal.js
 * with the same result. It only adds and subtracts; anything else converts to Money with `toMoney()`.
 */
export class ExactDecimal {
  static readonly ZERO = new ExactDecimal(0n, 0);

  private constructor(
    private readonly units: bigint,
    private readonly scale: number,
  ) {}

  /** Parses a plain decimal string ("-12.50", "0.000123"); no exponent, no spaces. */
  static parse(text: string): ExactDecimal {
    if (!decimalPattern.test(text)) throw new Error(`Not a decimal string: ${JSON.stringify(text)}`);
    const point = text.indexOf('.');
    if (point < 0) return new ExactDecimal(BigInt(text), 0);
    let end = text.length;
    while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
    if (end === point + 1) return new ExactDecimal(BigInt(text.slice(0, point)), 0);
    return new ExactDecimal(BigInt(text.slice(0, point) + text.slice(point + 1, end)), end - point - 1);
  }

  plus(other: ExactDecimal): ExactDecimal {
    if (this.scale === other.scale) return new ExactDecimal(this.units + other.units, this.scale);
    if (this.scale > other.scale) return new ExactDecimal(this.units + other.units * powerOfTen(this.scale - other.scale), this.scale);
    return new ExactDecimal(this.units * powerOfTen(other.scale - this.scale) + other.units, other.scale);
  }

  minus(other: ExactDecimal): ExactDecimal {
    return this.plus(other.negated());
  }

  negated(): ExactDecimal {
    return new ExactDecimal(-this.units, this.scale);
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  equals(other: ExactDecimal): boolean {
    return this.minus(other).isZero();
  }

  /** Plain notation without trailing zeros, as decimal.js `toFixed()` writes it: "1250.5", "0", "-0.001". */
  toString(): string {
    if (this.units === 0n) return '0';
    const negative = this.units < 0n;
    let digits = (negative ? -this.units : this.units).toString();
    let scale = this.scale;
    while (scale > 0 && digits.endsWith('0')) {
      digits = digits.slice(0, -1);
      scale--;
    }
    if (scale > 0) {
      digits = digits.padStart(scale + 1, '0');
      digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    }
    return negative ? `-${digits}` : digits;
  }

  toMoney(): Decimal {
    return new Money(this.toString());
  }
}

const decimalPattern = /^-?\d+(\.\d+)?$/;
const powersOfTen: bigint[] = [1n];

function powerOfTen(exponent: number): bigint {
  while (powersOfTen.length <= exponent) powersOfTen.push(powersOfTen[powersOfTen.length - 1] * 10n);
  return powersOfTen[exponent];
}
