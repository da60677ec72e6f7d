import type { Decimal } from 'decimal.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { applyDraw, type DrawKind, type DrawTerms } from './draw.js';
import { payoutIdFor } from './payout-id.js';
import { isPayableLine, parseRoundedAmount, parseStatementSummary, type StatementSummary } from './statement-summary.js';

/**
 * What a payee is paid for a period, from the frozen statement, the draw in force and what carried over.
 *
 * Glossary for a finance reader:
 * - Gross earned: payable statement lines other than adjustments and clawbacks.
 * - Capitalized: the part of gross earned on lines of capitalizable components, by benefit period; the ledger
 *   books it as a contract cost asset and amortises it instead of expensing it (a group that nets to zero or less
 *   is expensed).
 * - Adjustments: prior-period adjustment lines (either sign). Clawbacks: reversals on cancelled deals (negative).
 * - Earnings deficit: when clawbacks exceed what a period earned, the excess is owed by the payee and carried
 *   forward, netted against the next periods' earnings before any draw applies. A period never pays less than zero.
 * - Draw paid / draw recovered / draw balance: see draw.ts.
 * - Net payable = earnings payable + draw paid - draw recovered, where
 *   earnings payable = max(gross earned + adjustments + clawbacks - deficit carried in, 0).
 *
 * Over a payee's life this gives: sum of net payable = sum of (gross + adjustments + clawbacks)
 *   + sum of draw paid - sum of draw recovered + deficit still carried (clawed back but not yet netted).
 */

/** What carries from one period of a payee to the next (decimal strings, not negative). */
export interface PayeeCarry {
  drawBalance: string;
  earningsDeficit: string;
}

export const emptyCarry = (): PayeeCarry => ({ drawBalance: '0', earningsDeficit: '0' });

export interface PayoutInput {
  statement: StatementSummary;
  /** Digest of the frozen statement, computed by the caller; it makes the payout id. */
  statementDigest: string;
  draw: DrawTerms | null;
  carryOpening: PayeeCarry;
}

export interface Payout {
  payoutId: string;
  payeeId: string;
  periodId: string;
  currency: string;
  statementDigest: string;
  grossEarned: string;
  /** Part of grossEarned capitalised, one entry per benefit period, in ascending months. */
  capitalized: CapitalizedAmount[];
  adjustments: string;
  /** Zero or negative. */
  clawbacks: string;
  /** Deficit carried in from earlier periods and netted here. */
  earningsDeficitApplied: string;
  drawKind: DrawKind | null;
  drawPaid: string;
  drawRecovered: string;
  netPayable: string;
  carryOpening: PayeeCarry;
  carryClosing: PayeeCarry;
}

export interface CapitalizedAmount {
  benefitMonths: number;
  amount: string;
}

/** A payout's money figures without its identity: what a frozen statement records and an approval carries. */
export type PayoutFigures = Omit<Payout, 'payoutId' | 'payeeId' | 'periodId' | 'currency' | 'statementDigest' | 'netPayable'>;

export const figuresOf = ({ payoutId: _id, payeeId: _payee, periodId: _period, currency: _currency, statementDigest: _digest, netPayable: _net, ...figures }: Payout): PayoutFigures =>
  figures;

export function computePayout({ statement, statementDigest, draw, carryOpening }: PayoutInput): Payout {
  const { currency } = statement;
  const lines = parseStatementSummary(statement);
  if (typeof statementDigest !== 'string' || statementDigest.trim() === '') {
    throw validationError('VALIDATION.REQUIRED', 'statementDigest is required', [{ field: 'statementDigest', message: 'is required' }]);
  }
  if (draw !== null && draw.currency !== currency) {
    throw validationError('PAYOUT.CURRENCY_MISMATCH', `The draw is in ${draw.currency} but the statement is in ${currency}`, [
      { field: 'draw.currency', message: `must be ${currency}` },
    ]);
  }
  const drawBalanceOpening = parseRoundedAmount(carryOpening.drawBalance, currency, 'carryOpening.drawBalance');
  const deficitOpening = parseRoundedAmount(carryOpening.earningsDeficit, currency, 'carryOpening.earningsDeficit');

  const zero = new Money(0);
  let grossEarned = zero;
  let adjustments = zero;
  let clawbacks = zero;
  const capitalizedByMonths = new Map<number, Decimal>();
  for (const { line, amount } of lines) {
    if (!isPayableLine(line)) continue;
    if (line.kind === 'adjustment') adjustments = adjustments.plus(amount);
    else if (line.kind === 'clawback') clawbacks = clawbacks.plus(amount);
    else {
      grossEarned = grossEarned.plus(amount);
      const months = line.benefitMonths;
      if (months !== undefined && months !== null) capitalizedByMonths.set(months, (capitalizedByMonths.get(months) ?? zero).plus(amount));
    }
  }
  const capitalized = [...capitalizedByMonths.entries()]
    .filter(([, amount]) => amount.isPositive() && !amount.isZero())
    .sort(([left], [right]) => left - right)
    .map(([benefitMonths, amount]) => ({ benefitMonths, amount: formatMoney(amount, currency) }));

  const periodNet = grossEarned.plus(adjustments).plus(clawbacks);
  const available = periodNet.minus(deficitOpening);
  const earningsPayable = Money.max(available, zero);
  const deficitClosing = Money.max(available.negated(), zero);
  const step = applyDraw(draw, drawBalanceOpening, earningsPayable);
  const carryClosing = { drawBalance: formatMoney(step.drawBalanceClosing, currency), earningsDeficit: formatMoney(deficitClosing, currency) };

  return {
    payoutId: payoutIdFor({ payeeId: statement.payeeId, periodId: statement.periodId, statementDigest }),
    payeeId: statement.payeeId,
    periodId: statement.periodId,
    currency,
    statementDigest,
    grossEarned: formatMoney(grossEarned, currency),
    capitalized,
    adjustments: formatMoney(adjustments, currency),
    clawbacks: formatMoney(clawbacks, currency),
    earningsDeficitApplied: formatMoney(Money.min(deficitOpening, Money.max(periodNet, zero)), currency),
    drawKind: draw?.kind ?? null,
    drawPaid: formatMoney(step.drawPaid, currency),
    drawRecovered: formatMoney(step.drawRecovered, currency),
    netPayable: formatMoney(step.paid, currency),
    carryOpening: { drawBalance: formatMoney(drawBalanceOpening, currency), earningsDeficit: formatMoney(deficitOpening, currency) },
    carryClosing,
  };
}

/** A payee's payouts over consecutive periods, each period's carry feeding the next. */
export function foldPayouts(
  periods: readonly Omit<PayoutInput, 'carryOpening'>[],
  carryOpening: PayeeCarry = emptyCarry(),
): { payouts: Payout[]; carryClosing: PayeeCarry } {
  let carry = carryOpening;
  const payouts = periods.map((period) => {
    const payout = computePayout({ ...period, carryOpening: carry });
    carry = payout.carryClosing;
    return payout;
  });
  return { payouts, carryClosing: carry };
}
