import { validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money, parseDecimal, roundToMinorUnit } from '#lib/shared/domain/money.js';
import { addDays, addMonths, daysBetween, formatIsoDate, parseIsoDate, type CivilDate } from '#lib/shared/domain/calendar-date.js';
import { parseRoundedAmount } from './statement-summary.js';

/**
 * Clawbacks: when a deal is cancelled within the plan's clawback window, the commission paid on it is reversed
 * (a percentage, default 100%) as a negative line in the payee's current open period. Cancelled after the window,
 * nothing is reversed, and the result says why.
 *
 * Glossary for a finance reader:
 * - Window: how long after the credit date (or the deal's close date, as the plan says) a cancellation still claws
 *   back, in days or calendar months. The last day of the window counts as inside it.
 * - Commission paid: what the payee was paid on the deal, summed by the caller over the deal's statement lines.
 * - Reduces attainment: a plan setting carried through so attainment projections know whether to reverse the credit.
 */
export interface ClawbackPolicy {
  window: { length: number; unit: 'days' | 'months' };
  windowStartsFrom: 'credit_date' | 'close_date';
  /** Percentage of the commission paid that is reversed, "100" when omitted. */
  percent?: string;
  reducesAttainment: boolean;
}

export interface DealCancellation {
  payeeId: string;
  dealId: string;
  /** Id of the cancellation event; it makes the clawback line id, so the same cancellation claws back once. */
  cancellationId: string;
  cancelledOn: string;
  creditDate: string;
  closeDate?: string;
  commissionPaid: string;
  currency: string;
  /** The payee's current open period, where the line is posted. */
  targetPeriodId: string;
}

export interface ClawbackLine {
  lineId: string;
  kind: 'clawback';
  /** Negative decimal string. */
  amount: string;
  currency: string;
  payeeId: string;
  dealId: string;
  targetPeriodId: string;
}

export type ClawbackOutcome = 'clawed_back' | 'outside_window' | 'nothing_to_claw_back';

export interface ClawbackResult {
  outcome: ClawbackOutcome;
  line: ClawbackLine | null;
  reducesAttainment: boolean;
  windowEndsOn: string;
  explanation: string;
}

export const clawbackLineIdFor = (payeeId: string, dealId: string, cancellationId: string): string =>
  ['clawback', payeeId, dealId, cancellationId].map(encodeURIComponent).join(':');

function windowEnd(start: CivilDate, window: ClawbackPolicy['window']): CivilDate {
  if (!Number.isSafeInteger(window.length) || window.length < 0) {
    throw validationError('CLAWBACK.WINDOW_INVALID', 'The clawback window must be a whole number of days or months, zero or more', [
      { field: 'policy.window.length', message: 'must be a non-negative integer' },
    ]);
  }
  switch (window.unit) {
    case 'days':
      return addDays(start, window.length);
    case 'months':
      return addMonths(start, window.length);
    default:
      throw validationError('CLAWBACK.WINDOW_INVALID', 'The clawback window unit must be days or months', [
        { field: 'policy.window.unit', message: 'must be days or months' },
      ]);
  }
}

export function computeClawback(cancellation: DealCancellation, policy: ClawbackPolicy): ClawbackResult {
  const { payeeId, dealId, cancellationId, currency, targetPeriodId } = cancellation;
  for (const [field, value] of [['payeeId', payeeId], ['dealId', dealId], ['cancellationId', cancellationId], ['targetPeriodId', targetPeriodId]] as const) {
    if (typeof value !== 'string' || value.trim() === '') throw validationError('VALIDATION.REQUIRED', `${field} is required`, [{ field, message: 'is required' }]);
  }
  const commissionPaid = parseRoundedAmount(cancellation.commissionPaid, currency, 'commissionPaid');
  const percent = parseDecimal(policy.percent ?? '100', 'policy.percent');
  if (percent.greaterThan(100)) {
    throw validationError('CLAWBACK.PERCENT_OUT_OF_RANGE', 'The clawback percentage must be between 0 and 100', [
      { field: 'policy.percent', message: 'must be between 0 and 100' },
    ]);
  }
  const cancelledOn = parseIsoDate(cancellation.cancelledOn, 'cancelledOn');
  const anchorName = policy.windowStartsFrom === 'close_date' ? 'close date' : 'credit date';
  const anchor =
    policy.windowStartsFrom === 'close_date' ? parseIsoDate(cancellation.closeDate, 'closeDate') : parseIsoDate(cancellation.creditDate, 'creditDate');
  if (daysBetween(anchor, cancelledOn) < 0) {
    throw validationError('CLAWBACK.CANCELLED_BEFORE_START', `Deal ${dealId} is cancelled before its ${anchorName}`, [
      { field: 'cancelledOn', message: `must not be before the ${anchorName}` },
    ]);
  }
  const windowEndsOn = windowEnd(anchor, policy.window);
  const elapsedDays = daysBetween(anchor, cancelledOn);
  const windowText = `${policy.window.length}-${policy.window.unit === 'days' ? 'day' : 'month'} clawback window`;
  const when = `Deal ${dealId} was cancelled on ${formatIsoDate(cancelledOn)}, ${elapsedDays} days after its ${anchorName} ${formatIsoDate(anchor)}`;
  const base = { reducesAttainment: policy.reducesAttainment, windowEndsOn: formatIsoDate(windowEndsOn) };

  if (daysBetween(cancelledOn, windowEndsOn) < 0) {
    return {
      ...base,
      outcome: 'outside_window',
      line: null,
      explanation: `${when}, after the ${windowText} ended on ${formatIsoDate(windowEndsOn)}: nothing is clawed back.`,
    };
  }
  const clawedBack = roundToMinorUnit(commissionPaid.times(percent).div(100), currency);
  if (clawedBack.isZero()) {
    return {
      ...base,
      outcome: 'nothing_to_claw_back',
      line: null,
      explanation: `${when}, within the ${windowText}, but ${percent.toFixed()}% of the ${formatMoney(commissionPaid, currency)} ${currency} paid on it is nothing to claw back.`,
    };
  }
  const amount = formatMoney(new Money(0).minus(clawedBack), currency);
  return {
    ...base,
    outcome: 'clawed_back',
    line: { lineId: clawbackLineIdFor(payeeId, dealId, cancellationId), kind: 'clawback', amount, currency, payeeId, dealId, targetPeriodId },
    explanation:
      `${when}, within the ${windowText} (through ${formatIsoDate(windowEndsOn)}): ` +
      `${percent.toFixed()}% of the ${formatMoney(commissionPaid, currency)} ${currency} paid on it is clawed back as ${amount} in ${targetPeriodId}.`,
  };
}
