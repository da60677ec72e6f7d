import type {
  DateString,
  DecimalString,
  PlanAssignmentInput,
  PlanVersionInput,
  QuotaInput,
} from './commission-plan.js';

/**
 * What goes into and comes out of a statement computation. Plain JSON-safe data, money as decimal strings.
 *
 * Glossary for a finance reader:
 * - Credit: the part of a deal counted for one payee. `amount` is the deal amount in the credit's currency;
 *   the payee is credited `amount × share` (a primary split such as 70/30, or an overlay share for a
 *   manager, usually 1). Overlay credits come on top of the primary split and reduce nobody's share.
 * - Statement: the payee's earnings for one period, as lines. Each line is rounded once to the currency's
 *   minor unit (half-even); totals are sums of rounded lines, so a statement always adds up.
 * - Held: earned but not payable yet (below threshold), or not priceable (e.g. no FX rate for the date).
 * - True-up: a later line that corrects an earlier one when the tier reached changes (retro mode).
 * - Cap adjustment: a negative line that brings earnings back to a cap (or gives back a cap adjustment
 *   when a reversal takes earnings below the cap again).
 */

export interface PeriodInput {
  id: string;
  /** First day of the period, inclusive. */
  start: DateString;
  /** Last day of the period, inclusive. */
  end: DateString;
}

export type CreditKind = 'primary' | 'overlay';

export interface CreditInput {
  creditId: string;
  dealId: string;
  /** The event the credit was recorded by, and its global log position. */
  eventId: string;
  position: number;
  /** Deal amount in `currency`; negative for a reversal. */
  amount: DecimalString;
  currency: string;
  creditDate: DateString;
  /**
   * Deal amounts per measure in `currency` (e.g. { bookings: "80000", revenue: "60000" }). When given, the
   * credit counts only toward the measures listed; when absent, `amount` counts toward every measure.
   */
  measureAmounts?: Readonly<Record<string, DecimalString>>;
  product?: string | null;
  dealType?: string | null;
  kind: CreditKind;
  /** The payee's fraction of the deal, e.g. "0.7". */
  share: DecimalString;
}

/**
 * Units of plan currency for one unit of `currency` on `date`. A credit converts only at the rate of its own
 * credit date: a missing date is held, never filled from a neighbour. One table can serve plans in several
 * currencies when each row names `toCurrency`; a row without it applies to whatever the plan currency is.
 */
export interface FxRateInput {
  currency: string;
  toCurrency?: string;
  date: DateString;
  rateToPlanCurrency: DecimalString;
}

export interface PeriodSetupInput {
  payeeId: string;
  period: PeriodInput;
  /** Versions of every plan the payee may be assigned to (other payees' plans are ignored). */
  planVersions: readonly PlanVersionInput[];
  assignments: readonly PlanAssignmentInput[];
  quotas: readonly QuotaInput[];
  fxRates: readonly FxRateInput[];
}

export interface StatementInput extends PeriodSetupInput {
  credits: readonly CreditInput[];
}

export const lineKinds = ['commission', 'true_up', 'spif', 'bonus', 'held', 'release', 'cap_adjustment'] as const;
export type LineKind = (typeof lineKinds)[number];

/** The kinds a held line can have been earned as. */
export type EarnedLineKind = 'commission' | 'true_up' | 'cap_adjustment';

export interface LineSource {
  eventId: string;
  position: number;
}

export interface StatementLine {
  /** Stable for the same inputs: built from period, payee, component, credit and what made the line. */
  lineId: string;
  kind: LineKind;
  creditId: string | null;
  dealId: string | null;
  planVersionId: string | null;
  /** `planId/componentId`, so a component keeps its identity across plan versions. */
  componentKey: string | null;
  /** 1-based tier number, when the line was priced by a tier. */
  tier: number | null;
  rate: DecimalString | null;
  baseAmount: DecimalString | null;
  /** How the amount was made, with the numbers, e.g. "56000 × 0.1 = 5600". */
  formula: string;
  amountUnrounded: DecimalString;
  /** Rounded once, half-even, to the currency's minor unit, e.g. "5600.00". */
  amount: DecimalString;
  currency: string;
  sources: LineSource[];
  /** On a held line: why it is held and what it was earned as. */
  heldReason?: 'THRESHOLD_NOT_MET';
  earnedAs?: EarnedLineKind;
}

export const heldCreditReasons = [
  'FX_RATE_MISSING',
  'NO_PLAN_ASSIGNED',
  'NO_PLAN_VERSION_IN_FORCE',
  'PLAN_CURRENCY_MISMATCH',
  'QUOTA_MISSING',
  'CREDIT_DATE_OUTSIDE_PERIOD',
] as const;
export type HeldCreditReason = (typeof heldCreditReasons)[number];

/** A credit the engine could not price (for one component, or at all when componentKey is null). */
export interface HeldCredit {
  creditId: string;
  dealId: string;
  reason: HeldCreditReason;
  componentKey: string | null;
  planVersionId: string | null;
  sources: LineSource[];
}

export interface AttainmentEntry {
  measure: string;
  /** Credited in the period (plan currency, rounded to the minor unit). */
  credited: DecimalString;
  /** Time-weighted quota for the period; null when none is set. */
  quota: DecimalString | null;
  /** credited / quota × 100 with two decimals; null without a quota. */
  percent: DecimalString | null;
}

export interface StatementTotals {
  currency: string;
  /** Sum of every line except held lines: what the period pays. */
  payable: DecimalString;
  /** Held lines not yet released. */
  held: DecimalString;
  byKind: Record<LineKind, DecimalString>;
}

export interface Statement {
  payeeId: string;
  periodId: string;
  periodStart: DateString;
  periodEnd: DateString;
  /** The plan currency; 'XXX' (ISO 4217 "no currency") when no plan is in force in the period. */
  currency: string;
  lines: StatementLine[];
  totals: StatementTotals;
  attainment: AttainmentEntry[];
  heldCredits: HeldCredit[];
}
