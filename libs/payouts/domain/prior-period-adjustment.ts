import type { Decimal } from 'decimal.js';
import { conflictError, validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import type { PeriodStatus } from './period.decider.js';
import {
  adjustmentCauseKinds,
  isPayableLine,
  parseRoundedAmount,
  parseStatementSummary,
  type AdjustmentCause,
  type StatementSummary,
} from './statement-summary.js';

/**
 * Prior-period adjustments: a closed statement never changes. When something behind it changes (a deal amended,
 * a credit corrected, a plan fixed, a dispute approved) the statement is recomputed, and the difference from the
 * frozen statement, less what earlier adjustments already posted, is posted in the payee's earliest open period.
 *
 * Glossary for a finance reader:
 * - Source period: the closed period being corrected. Target period: the open period that carries the correction.
 * - Difference per line: recomputed amount - frozen amount - adjustments already posted for that line. Lines are
 *   matched by line id; a line only in one statement counts as zero in the other. Held lines pay nothing and are
 *   left out.
 * - One adjustment line per cause and deal, naming the cause and listing the source lines it corrects, so it can be
 *   explained line by line and a later recomputation nets against it.
 */

export interface PeriodStanding {
  periodId: string;
  startsOn: string;
  status: PeriodStatus;
}

/** Part of an adjustment already posted, attributed to the source line it corrected. */
export interface AdjustmentAlreadyPosted {
  sourceLineId: string;
  amount: string;
}

export interface PriorPeriodAdjustmentInput {
  frozen: StatementSummary;
  recomputed: StatementSummary;
  /** Digest of the recomputed statement; it makes the adjustment line ids, so the same recomputation posts once. */
  recomputedDigest: string;
  /** The cause of a changed line whose recomputed line names none, usually what triggered the recomputation. */
  causeDefault: AdjustmentCause;
  adjustmentsAlreadyPosted: readonly AdjustmentAlreadyPosted[];
  /** The payee's periods, to find the earliest open one. */
  periods: readonly PeriodStanding[];
}

export interface AdjustmentSourceLine {
  lineId: string;
  amountFrozen: string;
  amountRecomputed: string;
  adjustedBefore: string;
  /** amountRecomputed - amountFrozen - adjustedBefore. */
  amount: string;
}

export interface AdjustmentLine {
  lineId: string;
  kind: 'adjustment';
  amount: string;
  currency: string;
  payeeId: string;
  dealId: string | null;
  cause: AdjustmentCause;
  sourcePeriodId: string;
  targetPeriodId: string;
  sourceLines: AdjustmentSourceLine[];
  explanation: string;
}

export interface PriorPeriodAdjustment {
  payeeId: string;
  sourcePeriodId: string;
  /** Null when nothing is to be posted. */
  targetPeriodId: string | null;
  currency: string;
  lines: AdjustmentLine[];
  totalAdjustment: string;
}

const causeLabels: Record<AdjustmentCause['kind'], string> = {
  deal_amended: 'Deal amended',
  credit_corrected: 'Credit corrected',
  deal_closed_late: 'Deal closed late',
  deal_cancelled: 'Deal cancelled',
  plan_fixed: 'Plan fixed',
  dispute_approved: 'Dispute approved',
  manual: 'Manual adjustment',
};

const causeText = (cause: AdjustmentCause): string =>
  cause.eventId === undefined ? cause.reference : `${cause.reference}, event ${cause.eventId}${cause.position === undefined ? '' : ` at position ${cause.position}`}`;

/** The payee's earliest open period, by start date. */
export function earliestOpenPeriod(periods: readonly PeriodStanding[]): PeriodStanding {
  const open = periods.filter((period) => period.status === 'open').sort((a, b) => a.startsOn.localeCompare(b.startsOn) || a.periodId.localeCompare(b.periodId));
  if (open.length === 0) throw conflictError('PERIOD.NO_OPEN_PERIOD', 'The payee has no open period to post to');
  return open[0];
}

function requireCause(cause: AdjustmentCause, field: string): void {
  if (!adjustmentCauseKinds.includes(cause.kind) || typeof cause.reference !== 'string' || cause.reference.trim() === '') {
    throw validationError('ADJUSTMENT.CAUSE_INVALID', `${field} must name a cause (${adjustmentCauseKinds.join(', ')}) and a reference`, [
      { field, message: 'must name a cause kind and a reference' },
    ]);
  }
}

export function computePriorPeriodAdjustment(input: PriorPeriodAdjustmentInput): PriorPeriodAdjustment {
  const { frozen, recomputed, recomputedDigest, causeDefault } = input;
  if (frozen.payeeId !== recomputed.payeeId || frozen.periodId !== recomputed.periodId) {
    throw validationError('ADJUSTMENT.STATEMENT_MISMATCH', 'The frozen and recomputed statements are for different payees or periods', [
      { field: 'recomputed', message: `must be for payee ${frozen.payeeId} in period ${frozen.periodId}` },
    ]);
  }
  if (frozen.currency !== recomputed.currency) {
    throw validationError('ADJUSTMENT.CURRENCY_MISMATCH', `The recomputed statement is in ${recomputed.currency}, the frozen one in ${frozen.currency}`, [
      { field: 'recomputed.currency', message: `must be ${frozen.currency}` },
    ]);
  }
  if (typeof recomputedDigest !== 'string' || recomputedDigest.trim() === '') {
    throw validationError('VALIDATION.REQUIRED', 'recomputedDigest is required', [{ field: 'recomputedDigest', message: 'is required' }]);
  }
  requireCause(causeDefault, 'causeDefault');
  const { payeeId, periodId: sourcePeriodId, currency } = frozen;
  const source = input.periods.find((period) => period.periodId === sourcePeriodId);
  if (source !== undefined && (source.status === 'open' || source.status === 'not_opened')) {
    throw conflictError('ADJUSTMENT.SOURCE_PERIOD_OPEN', `Period ${sourcePeriodId} is not closed: recompute its statement instead of adjusting it`);
  }

  const frozenLines = parseStatementSummary(frozen, 'frozen').filter(({ line }) => isPayableLine(line));
  const recomputedLines = parseStatementSummary(recomputed, 'recomputed').filter(({ line }) => isPayableLine(line));
  const zero = new Money(0);
  const frozenById = new Map(frozenLines.map((parsed) => [parsed.line.lineId, parsed]));
  const recomputedById = new Map(recomputedLines.map((parsed) => [parsed.line.lineId, parsed]));
  const adjustedById = new Map<string, Decimal>();
  input.adjustmentsAlreadyPosted.forEach((posted, index) => {
    const amount = parseRoundedAmount(posted.amount, currency, `adjustmentsAlreadyPosted[${index}].amount`, { allowNegative: true });
    adjustedById.set(posted.sourceLineId, (adjustedById.get(posted.sourceLineId) ?? zero).plus(amount));
  });

  // Frozen order first, then lines new in the recomputation, then lines only adjustments know: stable output.
  const lineIds = [...new Set([...frozenById.keys(), ...recomputedById.keys(), ...adjustedById.keys()])];
  const groups = new Map<string, { cause: AdjustmentCause; dealId: string | null; sourceLines: AdjustmentSourceLine[]; amount: Decimal }>();
  for (const lineId of lineIds) {
    const before = frozenById.get(lineId);
    const after = recomputedById.get(lineId);
    const amountFrozen = before?.amount ?? zero;
    const amountRecomputed = after?.amount ?? zero;
    const adjustedBefore = adjustedById.get(lineId) ?? zero;
    const difference = amountRecomputed.minus(amountFrozen).minus(adjustedBefore);
    if (difference.isZero()) continue;
    const cause = after?.line.cause ?? causeDefault;
    requireCause(cause, `recomputed line ${lineId} cause`);
    const dealId = after?.line.dealId ?? before?.line.dealId ?? null;
    const key = JSON.stringify([cause.kind, cause.reference, dealId]);
    const group = groups.get(key) ?? { cause, dealId, sourceLines: [], amount: zero };
    group.sourceLines.push({
      lineId,
      amountFrozen: formatMoney(amountFrozen, currency),
      amountRecomputed: formatMoney(amountRecomputed, currency),
      adjustedBefore: formatMoney(adjustedBefore, currency),
      amount: formatMoney(difference, currency),
    });
    group.amount = group.amount.plus(difference);
    groups.set(key, group);
  }

  const changed = [...groups.values()].filter((group) => !group.amount.isZero());
  if (changed.length === 0) return { payeeId, sourcePeriodId, targetPeriodId: null, currency, lines: [], totalAdjustment: formatMoney(zero, currency) };
  const targetPeriodId = earliestOpenPeriod(input.periods).periodId;
  const lines: AdjustmentLine[] = changed.map((group) => {
    const amount = formatMoney(group.amount, currency);
    const signed = group.amount.isNegative() ? amount : `+${amount}`;
    const parts = group.sourceLines.map((line) => `${line.lineId} ${line.amountFrozen} -> ${line.amountRecomputed}${line.adjustedBefore === formatMoney(zero, currency) ? '' : ` (already adjusted ${line.adjustedBefore})`}`);
    return {
      lineId: ['adjustment', payeeId, sourcePeriodId, recomputedDigest, group.cause.kind, group.cause.reference, group.dealId ?? ''].map(encodeURIComponent).join(':'),
      kind: 'adjustment',
      amount,
      currency,
      payeeId,
      dealId: group.dealId,
      cause: group.cause,
      sourcePeriodId,
      targetPeriodId,
      sourceLines: group.sourceLines,
      explanation: `${causeLabels[group.cause.kind]} (${causeText(group.cause)}): period ${sourcePeriodId} ${parts.join('; ')}; ${signed} ${currency} posted in ${targetPeriodId}.`,
    };
  });
  const total = changed.reduce((sum, group) => sum.plus(group.amount), zero);
  return { payeeId, sourcePeriodId, targetPeriodId, currency, lines, totalAdjustment: formatMoney(total, currency) };
}
