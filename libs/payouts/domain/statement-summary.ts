import { Decimal } from 'decimal.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { Money, minorUnits, parseDecimal } from '#lib/shared/domain/money.js';

/**
 * What payouts need from a statement, kept plain so any statement source can feed it.
 *
 * Glossary for a finance reader:
 * - Frozen statement: a payee's statement for one period as it stood when the period closed. It never changes;
 *   later corrections arrive as adjustment lines in a later open period.
 * - Line kind: what made the line. `held` lines are earned but not payable yet (a threshold not met) and pay
 *   nothing; `adjustment` lines correct a closed period; `clawback` lines reverse commission on a cancelled deal;
 *   every other kind (commission, true_up, spif, bonus, release, cap_adjustment, ...) is gross earnings.
 * - Total earned: the sum of every payable line, i.e. every line except `held` ones.
 */

/**
 * Why an earlier period is corrected; the reference names the thing behind it (deal, credit, plan version, dispute).
 * `deal_closed_late`: a deal recorded after the period closed, with a credit date inside it.
 */
export const adjustmentCauseKinds = ['deal_amended', 'credit_corrected', 'deal_closed_late', 'deal_cancelled', 'plan_fixed', 'dispute_approved', 'manual'] as const;
export type AdjustmentCauseKind = (typeof adjustmentCauseKinds)[number];

export interface AdjustmentCause {
  kind: AdjustmentCauseKind;
  /** e.g. the deal id for deal_amended, the plan version id for plan_fixed, the dispute id for dispute_approved. */
  reference: string;
  /** The event that caused it, when one did: its id and global log position. */
  eventId?: string;
  position?: number;
}

export interface StatementLineSummary {
  lineId: string;
  kind: string;
  /** Decimal string already rounded to the currency's minor unit; negative for clawbacks and downward adjustments. */
  amount: string;
  dealId?: string | null;
  cause?: AdjustmentCause;
  /** On an earned line: the months its commission is capitalised over (ASC 340-40); absent or null when expensed. */
  benefitMonths?: number | null;
}

export interface StatementSummary {
  payeeId: string;
  periodId: string;
  currency: string;
  lines: readonly StatementLineSummary[];
  /** Sum of the payable lines (all but `held`). */
  totalEarned: string;
}

/** Line kinds that pay nothing in the period they appear in. */
export const nonPayableLineKinds: ReadonlySet<string> = new Set(['held']);
export const isPayableLine = (line: Pick<StatementLineSummary, 'kind'>): boolean => !nonPayableLineKinds.has(line.kind);

/** Parses a money amount that must already be rounded to the currency's minor unit, so sums stay exact. */
export function parseRoundedAmount(value: unknown, currency: string, field: string, options: { allowNegative?: boolean } = {}): Decimal {
  const amount = parseDecimal(value, field, options);
  if (amount.decimalPlaces() > minorUnits(currency)) {
    throw validationError('VALIDATION.AMOUNT_NOT_ROUNDED', `${field} must be rounded to ${minorUnits(currency)} decimals for ${currency}`, [
      { field, message: `must have at most ${minorUnits(currency)} decimals` },
    ]);
  }
  return amount;
}

export interface ParsedStatementLine {
  line: StatementLineSummary;
  amount: Decimal;
}

/** Checks a statement summary: amounts rounded, line ids unique, total equal to the sum of the payable lines. */
export function parseStatementSummary(statement: StatementSummary, field = 'statement'): ParsedStatementLine[] {
  if (!/^[A-Z]{3}$/.test(statement.currency)) {
    throw validationError('VALIDATION.CURRENCY', `${field}.currency must be an ISO 4217 code`, [
      { field: `${field}.currency`, message: 'must be three capital letters' },
    ]);
  }
  const seen = new Set<string>();
  const parsed = statement.lines.map((line, index) => {
    if (seen.has(line.lineId)) {
      throw validationError('STATEMENT.DUPLICATE_LINE', `${field}.lines[${index}].lineId ${line.lineId} appears twice`, [
        { field: `${field}.lines[${index}].lineId`, message: 'must be unique' },
      ]);
    }
    seen.add(line.lineId);
    return { line, amount: parseRoundedAmount(line.amount, statement.currency, `${field}.lines[${index}].amount`, { allowNegative: true }) };
  });
  const totalEarned = parseRoundedAmount(statement.totalEarned, statement.currency, `${field}.totalEarned`, { allowNegative: true });
  const sumPayable = parsed.filter(({ line }) => isPayableLine(line)).reduce((sum, { amount }) => sum.plus(amount), new Money(0));
  if (!sumPayable.equals(totalEarned)) {
    throw validationError(
      'STATEMENT.TOTAL_MISMATCH',
      `${field}.totalEarned ${statement.totalEarned} is not the sum of its payable lines (${sumPayable.toFixed()})`,
      [{ field: `${field}.totalEarned`, message: 'must equal the sum of the payable lines' }],
    );
  }
  return parsed;
}
