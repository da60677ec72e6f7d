import type { Decimal } from 'decimal.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { parseRoundedAmount } from './statement-summary.js';

/**
 * Draws: a guaranteed minimum pay per period, advanced against commission.
 *
 * Glossary for a finance reader:
 * - Draw amount: the guaranteed pay per period.
 * - Draw paid: what the period pays on top of earnings to reach the draw amount (the shortfall).
 * - Recoverable draw: the draw paid is an advance. It accrues to the draw balance (a receivable from the payee),
 *   recovered from later earnings above the draw amount, never taking net pay below the draw amount.
 * - Non-recoverable draw: a top-up that is never paid back; no balance.
 * - Draw balance: what the payee still owes from earlier recoverable draws; it carries across periods.
 *
 * When no draw is in force for a period (terms null), the balance carries untouched: whether an outstanding balance
 * is forgiven or recovered after a draw ends is a plan decision, made by passing terms (an amount of "0" recovers
 * from every later earning).
 */
export type DrawKind = 'recoverable' | 'non_recoverable';

export interface DrawTerms {
  kind: DrawKind;
  /** Guaranteed pay per period (decimal string). */
  amountPerPeriod: string;
  currency: string;
}

export interface DrawPeriodInput {
  periodId: string;
  /** Earnings payable in the period before the draw (decimal string, not negative). */
  earned: string;
}

export interface DrawPeriodResult {
  periodId: string;
  earned: string;
  drawPaid: string;
  drawRecovered: string;
  /** earned + drawPaid - drawRecovered. */
  paid: string;
  drawBalanceOpening: string;
  drawBalanceClosing: string;
}

export interface DrawStep {
  drawPaid: Decimal;
  drawRecovered: Decimal;
  paid: Decimal;
  drawBalanceClosing: Decimal;
}

/** One period of a draw at full precision. Inputs are already rounded, so every result is exact. */
export function applyDraw(terms: DrawTerms | null, drawBalanceOpening: Decimal, earned: Decimal): DrawStep {
  if (earned.isNegative() && !earned.isZero()) throw new Error('applyDraw takes earnings of zero or more');
  const zero = new Money(0);
  if (terms === null) return { drawPaid: zero, drawRecovered: zero, paid: earned, drawBalanceClosing: drawBalanceOpening };
  const drawAmount = parseRoundedAmount(terms.amountPerPeriod, terms.currency, 'draw.amountPerPeriod');
  const shortfall = Money.max(drawAmount.minus(earned), zero);
  switch (terms.kind) {
    case 'non_recoverable':
      return { drawPaid: shortfall, drawRecovered: zero, paid: earned.plus(shortfall), drawBalanceClosing: drawBalanceOpening };
    case 'recoverable': {
      const aboveDraw = Money.max(earned.minus(drawAmount), zero);
      const drawRecovered = Money.min(drawBalanceOpening, aboveDraw);
      return {
        drawPaid: shortfall,
        drawRecovered,
        paid: earned.plus(shortfall).minus(drawRecovered),
        drawBalanceClosing: drawBalanceOpening.plus(shortfall).minus(drawRecovered),
      };
    }
    default:
      return assertNever(terms.kind);
  }
}

/** Folds a draw over consecutive periods, carrying the balance from each into the next. */
export function foldDraws(
  terms: DrawTerms,
  periods: readonly DrawPeriodInput[],
  drawBalanceOpening = '0',
): { periods: DrawPeriodResult[]; drawBalanceClosing: string } {
  const { currency } = terms;
  let balance = parseRoundedAmount(drawBalanceOpening, currency, 'drawBalanceOpening');
  const results = periods.map((period, index) => {
    const earned = parseRoundedAmount(period.earned, currency, `periods[${index}].earned`);
    const step = applyDraw(terms, balance, earned);
    const result: DrawPeriodResult = {
      periodId: period.periodId,
      earned: formatMoney(earned, currency),
      drawPaid: formatMoney(step.drawPaid, currency),
      drawRecovered: formatMoney(step.drawRecovered, currency),
      paid: formatMoney(step.paid, currency),
      drawBalanceOpening: formatMoney(balance, currency),
      drawBalanceClosing: formatMoney(step.drawBalanceClosing, currency),
    };
    balance = step.drawBalanceClosing;
    return result;
  });
  return { periods: results, drawBalanceClosing: formatMoney(balance, currency) };
}
