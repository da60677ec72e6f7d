import { Money } from '#lib/shared/domain/money.js';
import type { PeriodFrequency, PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import type { CreditInput, FxRateInput, PeriodInput } from '#lib/commissions/domain/statement.js';
import { periodContaining } from '#lib/commissions/domain/effective-dating.js';
import type { Credit } from '#lib/crediting/domain/deal.decider.js';
import type { SourceRef } from './statement-sources.js';

/**
 * How the statements read model turns recorded events into the commission engine's inputs, and which statement
 * period a credit belongs to. Shared by the projection, the as-of reconstruction from the log, the estimator and
 * plan modelling, so that all four price a credit the same way.
 *
 * Periods follow the plan: a credit counts in the period (month, quarter or year, as the plan's
 * `periodFrequency` says) that contains its credit date, for the plan in force for the payee on that date. With
 * several plans in force, the first by plan id decides; with none, statements are monthly (the credit is then
 * held as NO_PLAN_ASSIGNED in that month's statement, and moves if a plan is assigned later).
 */

/** What a credit needs from its deal besides the credit itself. */
export interface DealFacts {
  dealId: string;
  /** Deal amount in the deal currency. */
  amount: string;
  currency: string;
  /** Deal amount per measure (what each payee's share is taken of). */
  measures: Record<string, string>;
  product: string;
  dealType: string;
}

const ONE_HUNDRED = new Money(100);
const sharesByPercent = new Map<string, string>();

/** "70" (percent) -> "0.7" (the engine's fraction), exactly. */
export function shareOfPercent(sharePercent: string): string {
  let share = sharesByPercent.get(sharePercent);
  if (share === undefined) {
    share = new Money(sharePercent).div(ONE_HUNDRED).toString();
    if (sharesByPercent.size > 10_000) sharesByPercent.clear();
    sharesByPercent.set(sharePercent, share);
  }
  return share;
}

/**
 * A deal's credit as the engine prices it: the deal's amounts with the payee's share, so the engine's formula shows
 * "80000 USD × share 0.7" and a flat SPIF is paid once per deal across a split. `source` is the event that set it.
 */
export function creditInputOf(credit: Credit, deal: DealFacts, source: SourceRef): CreditInput {
  return {
    creditId: credit.creditId,
    dealId: credit.dealId,
    eventId: source.eventId,
    position: source.position,
    amount: deal.amount,
    currency: credit.currency,
    creditDate: credit.creditDate,
    measureAmounts: deal.measures,
    product: deal.product,
    dealType: deal.dealType,
    kind: credit.kind,
    share: shareOfPercent(credit.sharePercent),
  };
}

export interface AssignmentRecord {
  assignmentId: string;
  payeeId: string;
  planId: string;
  effectiveFrom: string;
  effectiveUntil: string | null;
}

/** The engine's assignment; null when it was ended on or before the day it began (it never took effect). */
export function assignmentInputOf(record: AssignmentRecord): PlanAssignmentInput | null {
  if (record.effectiveUntil !== null && record.effectiveUntil <= record.effectiveFrom) return null;
  return { payeeId: record.payeeId, planId: record.planId, effectiveFrom: record.effectiveFrom, effectiveUntil: record.effectiveUntil };
}

export const fxRateInputOf = (data: { fromCurrency: string; toCurrency: string; date: string; rate: string }): FxRateInput => ({
  currency: data.fromCurrency,
  toCurrency: data.toCurrency,
  date: data.date,
  rateToPlanCurrency: data.rate,
});

const monthIdPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;
const quarterIdPattern = /^(\d{4})-Q([1-4])$/;
const yearIdPattern = /^(\d{4})$/;

/** 'month' for "2026-03", 'quarter' for "2026-Q1", 'year' for "2026"; null for anything else. */
export function frequencyOfPeriodId(periodId: string): PeriodFrequency | null {
  if (monthIdPattern.test(periodId)) return 'month';
  if (quarterIdPattern.test(periodId)) return 'quarter';
  if (yearIdPattern.test(periodId)) return 'year';
  return null;
}

const periodsById = new Map<string, PeriodInput>();

/** The calendar period a period id names, or null when it is not a period id. */
export function periodOfId(periodId: string): PeriodInput | null {
  const cached = periodsById.get(periodId);
  if (cached !== undefined) return cached;
  let firstDay: string;
  let frequency: PeriodFrequency;
  const quarter = quarterIdPattern.exec(periodId);
  if (monthIdPattern.test(periodId)) {
    firstDay = `${periodId}-01`;
    frequency = 'month';
  } else if (quarter !== null) {
    firstDay = `${quarter[1]}-${String(Number(quarter[2]) * 3 - 2).padStart(2, '0')}-01`;
    frequency = 'quarter';
  } else if (yearIdPattern.test(periodId)) {
    firstDay = `${periodId}-01-01`;
    frequency = 'year';
  } else {
    return null;
  }
  const period = periodContaining(firstDay, frequency);
  periodsById.set(periodId, period);
  return period;
}

/** The id of the period of `frequency` containing `date` ('YYYY-MM-DD'), without building the period. */
export function periodIdOfDate(date: string, frequency: PeriodFrequency): string {
  switch (frequency) {
    case 'month':
      return date.slice(0, 7);
    case 'quarter':
      return `${date.slice(0, 4)}-Q${Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1}`;
    case 'year':
      return date.slice(0, 4);
  }
}

/** A quota set for a period id applies to the statement of that period, from its first day. */
export function quotaInputOf(periodId: string, measure: string, amount: string): QuotaInput | null {
  const period = periodOfId(periodId);
  return period === null ? null : { measure, amount, effectiveFrom: period.start };
}

/** Plan versions grouped by plan, each list in effective order (ties: higher version last). */
export function versionsByPlanOf(versions: Iterable<PlanVersionInput>): Map<string, PlanVersionInput[]> {
  const byPlan = new Map<string, PlanVersionInput[]>();
  for (const version of versions) {
    const list = byPlan.get(version.planId);
    if (list === undefined) byPlan.set(version.planId, [version]);
    else list.push(version);
  }
  for (const list of byPlan.values()) {
    list.sort((left, right) => (left.effectiveFrom < right.effectiveFrom ? -1 : left.effectiveFrom > right.effectiveFrom ? 1 : left.version - right.version));
  }
  return byPlan;
}

function inForce(versions: readonly PlanVersionInput[], date: string): PlanVersionInput | null {
  let found: PlanVersionInput | null = null;
  for (const version of versions) {
    if (version.effectiveFrom > date) break;
    found = version;
  }
  return found;
}

/**
 * The frequency of the payee's statements on `date`: that of the version in force of the first plan (by id) the
 * payee is assigned to on that date; before a plan's first version, that version's; 'month' without a plan.
 */
export function statementFrequencyOn(
  payeeAssignments: readonly PlanAssignmentInput[],
  versionsByPlan: ReadonlyMap<string, readonly PlanVersionInput[]>,
  date: string,
): PeriodFrequency {
  let firstPlanId: string | null = null;
  for (const assignment of payeeAssignments) {
    if (assignment.effectiveFrom > date || (assignment.effectiveUntil !== null && assignment.effectiveUntil <= date)) continue;
    if (!versionsByPlan.has(assignment.planId)) continue;
    if (firstPlanId === null || assignment.planId < firstPlanId) firstPlanId = assignment.planId;
  }
  if (firstPlanId === null) return 'month';
  const versions = versionsByPlan.get(firstPlanId)!;
  return (inForce(versions, date) ?? versions[0]!).periodFrequency;
}

/** The statement period id a payee's credit dated `date` counts in. */
export const statementPeriodIdOf = (
  payeeAssignments: readonly PlanAssignmentInput[],
  versionsByPlan: ReadonlyMap<string, readonly PlanVersionInput[]>,
  date: string,
): string => periodIdOfDate(date, statementFrequencyOn(payeeAssignments, versionsByPlan, date));

/**
 * Whether a period id is one the payee has statements for: the payee's statement frequency on its first or last
 * day is the period's kind.
 */
export function isStatementPeriodOf(
  payeeAssignments: readonly PlanAssignmentInput[],
  versionsByPlan: ReadonlyMap<string, readonly PlanVersionInput[]>,
  period: PeriodInput,
): boolean {
  const kind = frequencyOfPeriodId(period.id);
  return kind === statementFrequencyOn(payeeAssignments, versionsByPlan, period.start) || kind === statementFrequencyOn(payeeAssignments, versionsByPlan, period.end);
}
