/**
 * Commission plans as the engine reads them: plain, JSON-safe data (money and rates as decimal strings).
 *
 * Glossary for a finance reader:
 * - Plan: a named compensation scheme (e.g. "AE 2025"). A plan changes over time through versions.
 * - Plan version: the plan's terms from `effectiveFrom` on, until the next version takes over. A credit is
 *   priced by the version in force on its credit date.
 * - Component: one way the plan pays: a rate table (commission on credited amounts), a SPIF (a spot
 *   incentive for credits matching a product or deal type), or a milestone bonus.
 * - Measure: what a component counts, e.g. 'bookings' or 'revenue'. Quotas are set per measure.
 * - Quota: the target for a measure in a period. Attainment = credited amount / quota.
 * - Tier: a band `[from, to)` of attainment (in percent of quota) or of amount (in plan currency). A value
 *   exactly on a boundary belongs to the higher tier. The last tier is open (`to` is null).
 * - Rate: the fraction of the credited amount paid (0.10 = 10%). A tier gives a plain rate, or a multiplier
 *   on the component's base rate (an accelerator above 1, a decelerator below 1).
 * - Base rate: given, or derived as target incentive / quota (a rep at 100% attainment earns the target).
 * - Modes: marginal (each slice of the period's amount earns its own tier's rate, like income tax brackets);
 *   retro (the whole period amount earns the rate of the tier reached, earlier lines are trued up when
 *   the tier changes); per_transaction (each credit is priced by its own amount's tier, alone).
 * - Period cap: the most the component pays in a period. Per-deal cap: the most it pays for one deal.
 * - Threshold: below this attainment nothing of the component is payable; commission is earned but held,
 *   and released once attainment reaches the threshold.
 * - Capitalizable / benefit months: whether the commission is a cost of obtaining a contract to capitalise
 *   and amortise over the benefit period (ASC 340-40); carried for accounting, the engine does not use it.
 *   A plan marks every component capitalizable (`capitalizable` + `benefitMonths`), or a component marks
 *   itself (`benefitMonths` on the component), e.g. only the multi-year new-business commission.
 * - Calendar: the period calendar the plan's statements are closed, approved and paid in (e.g. "monthly").
 *   Plans sharing a calendar close together. Default: "monthly", "quarterly" or "yearly" after the frequency.
 * - Clawback terms: how long after the credit (or close) date a cancelled deal still reverses the commission
 *   paid on it, what percentage is reversed, and whether the cancellation also reduces attainment.
 * - Draw: a guaranteed pay per period, recoverable (an advance recovered from later earnings above the draw)
 *   or non-recoverable (a top-up).
 */

/** A decimal written as a string, e.g. "1250.00" or "0.10". Never a JS number. */
export type DecimalString = string;
/** A calendar date 'YYYY-MM-DD'; such strings compare correctly as strings. */
export type DateString = string;

export const periodFrequencies = ['month', 'quarter', 'year'] as const;
export type PeriodFrequency = (typeof periodFrequencies)[number];

export const rateTableModes = ['marginal', 'retro', 'per_transaction'] as const;
export type RateTableMode = (typeof rateTableModes)[number];

export const tierBases = ['attainment', 'amount'] as const;
/** 'attainment': tier bounds are percent of quota; 'amount': tier bounds are plan-currency amounts. */
export type TierBasis = (typeof tierBases)[number];

export interface TierInput {
  /** Inclusive lower bound. */
  from: DecimalString;
  /** Exclusive upper bound; null on the last, open tier. */
  to: DecimalString | null;
  /** A plain rate, e.g. "0.10". Exactly one of `rate` and `multiplier`. */
  rate?: DecimalString;
  /** A multiplier on the component's base rate, e.g. "1.5". */
  multiplier?: DecimalString;
}

/** What every component may say besides its own terms. */
export interface ComponentAccounting {
  /**
   * Set when the component's commission is a cost of obtaining a contract: capitalised and amortised straight-line
   * over this many months (ASC 340-40). Absent or null: expensed when earned (unless the whole plan is capitalizable).
   */
  benefitMonths?: number | null;
}

export interface RateTableComponentInput extends ComponentAccounting {
  kind: 'rate_table';
  id: string;
  name?: string;
  measure: string;
  basis: TierBasis;
  mode: RateTableMode;
  tiers: TierInput[];
  /** Base rate for multiplier tiers. Give this or `targetIncentive`, not both. */
  baseRate?: DecimalString;
  /** Target incentive for the period; base rate = targetIncentive / quota of the measure. */
  targetIncentive?: DecimalString;
  /** Most the component pays in one period (plan currency). */
  capPerPeriod?: DecimalString | null;
  /** Most the component pays for one deal in one period (plan currency). */
  capPerDeal?: DecimalString | null;
  /** Attainment percent of the measure below which the component's earnings are held, e.g. "50". */
  thresholdPercent?: DecimalString | null;
}

export interface SpifFilter {
  product?: string;
  dealType?: string;
}

export type SpifPayout =
  | { type: 'flat'; amount: DecimalString }
  | { type: 'percent_of_credit'; percent: DecimalString };

/**
 * A spot incentive. A flat SPIF pays its amount times the payee's share of the deal, so a split deal pays the
 * flat amount once in total; a percent SPIF pays a percent of the credited amount of `measure` (or of the
 * credit's amount when no measure is named).
 */
export interface SpifComponentInput extends ComponentAccounting {
  kind: 'spif';
  id: string;
  name?: string;
  filter: SpifFilter;
  measure?: string;
  payout: SpifPayout;
}

export interface MilestoneInput {
  attainmentPercent: DecimalString;
  amount: DecimalString;
}

/** A bonus paid once per period per milestone, on the credit that first takes attainment to the level. */
export interface MilestoneBonusComponentInput extends ComponentAccounting {
  kind: 'milestone_bonus';
  id: string;
  name?: string;
  measure: string;
  milestones: MilestoneInput[];
}

export type ComponentInput = RateTableComponentInput | SpifComponentInput | MilestoneBonusComponentInput;

export interface PlanVersionInput {
  /** Plan version id, unique across plans. */
  id: string;
  planId: string;
  /** 1, 2, 3... within the plan. */
  version: number;
  effectiveFrom: DateString;
  /** ISO 4217 code; quotas, caps, statements of this plan are in it. */
  currency: string;
  periodFrequency: PeriodFrequency;
  components: ComponentInput[];
  capitalizable: boolean;
  /** Months over which capitalised commission is amortised; null when not capitalizable. */
  benefitMonths: number | null;
  /** The period calendar the plan closes in; absent: the default of its frequency (see calendarIdOf). */
  calendarId?: string;
  /** Absent or null: a cancelled deal claws nothing back once its period is closed. */
  clawback?: ClawbackTermsInput | null;
  /** Absent or null: no draw. */
  draw?: DrawTermsInput | null;
}

export const clawbackWindowUnits = ['days', 'months'] as const;
export const clawbackWindowAnchors = ['credit_date', 'close_date'] as const;

/**
 * A deal cancelled within `window` of its credit date (or close date) reverses `percent` of the commission paid on
 * it; the last day of the window counts as inside.
 */
export interface ClawbackTermsInput {
  window: { length: number; unit: (typeof clawbackWindowUnits)[number] };
  windowStartsFrom: (typeof clawbackWindowAnchors)[number];
  /** Percentage of the commission paid that is reversed, e.g. "100" or "50". */
  percent: DecimalString;
  /** Whether the cancelled deal stops counting toward attainment in the closed period it was credited in. */
  reducesAttainment: boolean;
}

export const drawKinds = ['recoverable', 'non_recoverable'] as const;

export interface DrawTermsInput {
  kind: (typeof drawKinds)[number];
  /** Guaranteed pay per period, in plan currency. */
  amountPerPeriod: DecimalString;
}

const defaultCalendarIds: Record<PeriodFrequency, string> = { month: 'monthly', quarter: 'quarterly', year: 'yearly' };

/** The calendar a plan version closes in: its own, or "monthly", "quarterly" or "yearly" after its frequency. */
export const calendarIdOf = (plan: Pick<PlanVersionInput, 'calendarId' | 'periodFrequency'>): string =>
  plan.calendarId ?? defaultCalendarIds[plan.periodFrequency];

/** The benefit period of a component's commission when it is capitalised, or null when it is expensed. */
export function benefitMonthsOf(plan: Pick<PlanVersionInput, 'capitalizable' | 'benefitMonths'>, component: ComponentAccounting): number | null {
  if (component.benefitMonths !== undefined && component.benefitMonths !== null) return component.benefitMonths;
  return plan.capitalizable ? plan.benefitMonths : null;
}

/** A payee is on a plan from `effectiveFrom` (inclusive) until `effectiveUntil` (exclusive; null = open). */
export interface PlanAssignmentInput {
  payeeId: string;
  planId: string;
  effectiveFrom: DateString;
  effectiveUntil: DateString | null;
}

/**
 * The payee's full-period quota for a measure, in force from `effectiveFrom`. A later entry for the same
 * measure replaces it from its own date (see effective-dating.ts for how a mid-period change is weighted).
 */
export interface QuotaInput {
  measure: string;
  amount: DecimalString;
  effectiveFrom: DateString;
}
