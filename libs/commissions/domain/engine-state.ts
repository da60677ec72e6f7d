import { Decimal } from 'decimal.js';
import { Money, parseDecimal } from '#lib/shared/domain/money.js';
import type { PlanAssignmentInput, PlanVersionInput } from './commission-plan.js';
import type { ComponentTerms, RateTableTerms, VersionTerms } from './component-terms.js';
import type { FxIndex } from './input-indexes.js';
import {
  lineKinds,
  type CreditInput,
  type HeldCredit,
  type HeldCreditReason,
  type LineKind,
  type LineSource,
  type PeriodSetupInput,
  type StatementLine,
} from './statement.js';

/**
 * The state of one payee-period's computation and the small helpers every step shares: rounding a line,
 * writing its amount, appending it with its total. Internal to the commission engine.
 */

/** The running computation of one payee-period. Treat as opaque: read it with `statementOf`. */
export interface CommissionPeriodState {
  readonly payeeId: string;
  readonly periodId: string;
  readonly currency: string;
  /** Internal; may change without notice. */
  readonly internal: PeriodInternals;
}

export interface PeriodInternals {
  setup: PeriodSetupInput;
  minorDigits: number;
  /** Zero with the minor-unit digits, e.g. "0.00". */
  zeroText: string;
  linePrefix: string;
  measures: readonly string[];
  measureIndex: ReadonlyMap<string, number>;
  cumulative: Decimal[];
  quotas: (Decimal | null)[];
  quotaByMeasure: Map<string, Decimal | null>;
  versionsByPlanId: Map<string, PlanVersionInput[]>;
  assignments: PlanAssignmentInput[];
  /** What prices a credit, from each date on which assignments or versions change (built on first use). */
  resolutionSegments: { from: string; resolution: Resolution }[] | null;
  termsByVersionId: Map<string, VersionTerms>;
  fxRates: FxIndex;
  runs: ComponentRun[];
  runByKey: Map<string, ComponentRun>;
  applied: Map<string, CreditInput>;
  lastApplied: CreditInput | null;
  /** Every line so far; with keepLines false, only those of the credit being folded. */
  lines: StatementLine[];
  keepLines: boolean;
  /** Lines handed out by applyCredit and no longer kept (keepLines false). */
  linesHandedOut: number;
  heldCredits: HeldCredit[];
  totalsByKind: Decimal[];
  context: CreditContext;
}

export interface Resolution {
  heldReason: HeldCreditReason | null;
  versions: VersionTerms[];
  mismatched: PlanVersionInput[];
}

export interface RetroEntry {
  creditId: string;
  dealId: string;
  sources: LineSource[];
  base: Decimal;
  baseText: string;
  capPerDeal: Decimal | null;
}

export interface RetroGroup {
  terms: RateTableTerms;
  measureIndex: number;
  tierIndex: number;
  entries: RetroEntry[];
}

export interface DealTally {
  earned: Decimal;
  adjustment: Decimal;
}

export interface ComponentRun {
  key: string;
  governing: ComponentTerms;
  tracksDeals: boolean;
  tracksPeriodCap: boolean;
  retroGroups: RetroGroup[];
  /** Only for a component with a per-deal cap in some version. */
  deals: Map<string, DealTally> | null;
  /** Rounded earnings after per-deal caps, before the period cap. */
  earnedBeforePeriodCap: Decimal;
  periodCapAdjustment: Decimal;
  gateOpen: boolean;
  heldOutstanding: Decimal;
  heldLineCount: number;
  heldSources: LineSource[] | null;
  heldEventIds: Set<string> | null;
  milestonesPaid: Set<string> | null;
}

/** An earned line before the threshold decides whether it is payable or held. */
export interface PendingLine {
  line: StatementLine;
  rounded: Decimal;
  dealId: string | null;
  capPerDeal: Decimal | null;
}

export interface CreditContext {
  credit: CreditInput;
  sources: LineSource[];
  share: Decimal | null;
  fxRate: Decimal | null;
  /** Per measure: the credited amount in plan currency, null when the credit does not count toward it. */
  values: (Decimal | null)[];
  /** Per measure: the text the value was given as (unconverted) or its decimal text. */
  valueTexts: (string | null)[];
  rawTexts: (string | null)[];
  before: Decimal[];
  convertedAmount: Decimal | null;
}

export const zero = new Money(0);
export const kindIndex = new Map<LineKind, number>(lineKinds.map((kind, index) => [kind, index]));
const zeroTexts = new Map<number, string>();
export const zeroTextOf = (digits: number): string => {
  let text = zeroTexts.get(digits);
  if (text === undefined) {
    text = zero.toFixed(digits);
    zeroTexts.set(digits, text);
  }
  return text;
};

export function holdCredit(internal: PeriodInternals, credit: CreditInput, reason: HeldCreditReason, sources: LineSource[], componentKey: string | null, planVersionId: string | null): void {
  internal.heldCredits.push({ creditId: credit.creditId, dealId: credit.dealId, reason, componentKey, planVersionId, sources });
}

export const measureChanged = (context: CreditContext, measureIndex: number): boolean => {
  const value = context.values[measureIndex];
  return value !== null && value !== undefined && !value.isZero();
};

/** Deal amount text → credited amount in plan currency: amount × share × FX rate, at full precision. */
export function convertCredited(raw: string, field: string, share: Decimal | null, fxRate: Decimal | null): Decimal {
  let value = parseDecimal(raw, field, { allowNegative: true });
  if (share !== null) value = value.times(share);
  if (fxRate !== null) value = value.times(fxRate);
  return value;
}

/** "80000 EUR × fx 1.1 × share 0.7" when the credit was converted, else "". */
export function conversionText(context: CreditContext, rawText: string): string {
  if (context.share === null && context.fxRate === null) return '';
  let text = `${rawText} ${context.credit.currency}`;
  if (context.fxRate !== null) text += ` × fx ${context.fxRate.toString()}`;
  if (context.share !== null) text += ` × share ${context.share.toString()}`;
  return text;
}

/** "(80000 EUR × share 0.7) = " before the base amount when the credit was converted, else "". */
export function wholeCreditExplanation(context: CreditContext, measureIndex: number): string {
  const conversion = conversionText(context, context.rawTexts[measureIndex]!);
  return conversion === '' ? '' : `(${conversion}) = `;
}

export function amountOfCredit(context: CreditContext): Decimal {
  context.convertedAmount ??= convertCredited(context.credit.amount, 'amount', context.share, context.fxRate);
  return context.convertedAmount;
}

export function roundLine(internal: PeriodInternals, unrounded: Decimal): Decimal {
  if (unrounded.decimalPlaces() <= internal.minorDigits) return unrounded;
  return unrounded.toDecimalPlaces(internal.minorDigits, Decimal.ROUND_HALF_EVEN);
}

/**
 * Text of a rounded amount with exactly the minor-unit digits, e.g. "5600.00". Same result as toFixed, but
 * from toString plus padding: toFixed allocates and re-rounds, and this runs once per line.
 */
export function amountText(internal: PeriodInternals, rounded: Decimal, roundedText?: string): string {
  if (rounded.isZero()) return internal.zeroText;
  const text = roundedText ?? rounded.toString();
  const digits = internal.minorDigits;
  if (digits === 0) return text;
  const point = text.indexOf('.');
  if (point === -1) return `${text}.${internal.zeroText.slice(-digits)}`;
  const missing = digits - (text.length - point - 1);
  return missing === 0 ? text : text + internal.zeroText.slice(-missing);
}

export function makeLine(
  state: CommissionPeriodState,
  fields: Omit<StatementLine, 'lineId' | 'amountUnrounded' | 'amount' | 'currency'>,
  lineIdSuffix: string,
  unroundedText: string,
  rounded: Decimal,
  roundedText?: string,
): StatementLine {
  return {
    lineId: state.internal.linePrefix + lineIdSuffix,
    kind: fields.kind,
    creditId: fields.creditId,
    dealId: fields.dealId,
    planVersionId: fields.planVersionId,
    componentKey: fields.componentKey,
    tier: fields.tier,
    rate: fields.rate,
    baseAmount: fields.baseAmount,
    formula: fields.formula,
    amountUnrounded: unroundedText,
    amount: amountText(state.internal, rounded, roundedText),
    currency: state.currency,
    sources: fields.sources,
  };
}

export function emit(internal: PeriodInternals, line: StatementLine, rounded: Decimal): void {
  internal.lines.push(line);
  const index = kindIndex.get(line.kind)!;
  internal.totalsByKind[index] = internal.totalsByKind[index]!.plus(rounded);
}


/**
 * credited / quota × 100 with two decimals, half-even: the same text as `attainmentPercent` in money.ts, in
 * two decimal operations instead of four (rounding the ratio at four places is rounding the percent at
 * two), because every statement shows it for every measure. Null without a usable quota.
 */
export function attainmentPercentText(credited: Decimal, quota: Decimal | null): string | null {
  if (quota === null || quota.isZero()) return null;
  if (credited.isZero()) return '0.00';
  const ratioText = credited.div(quota).toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN).toString();
  const negative = ratioText.startsWith('-');
  const unsigned = negative ? ratioText.slice(1) : ratioText;
  const point = unsigned.indexOf('.');
  const wholeDigits = point === -1 ? unsigned : unsigned.slice(0, point);
  const fractionDigits = `${point === -1 ? '' : unsigned.slice(point + 1)}0000`.slice(0, 4);
  const percentWhole = `${wholeDigits}${fractionDigits.slice(0, 2)}`.replace(/^0+(?=\d)/, '');
  const text = `${percentWhole}.${fractionDigits.slice(2)}`;
  return negative && text !== '0.00' ? `-${text}` : text;
}
