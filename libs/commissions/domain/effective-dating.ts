/**
 * Effective dating: which plan version prices a credit, and what quota a period is measured against.
 *
 * PRORATION POLICY for a plan, assignment or quota change in the middle of a period
 *
 * 1. Terms by credit date. Each credit is priced by the plan version in force for the payee on its credit
 *    date: for every plan the payee is assigned to on that date, the latest version whose effectiveFrom is on
 *    or before it. A credit dated before the change keeps the old rates; one dated on or after gets the new.
 * 2. One climb per period. Tiers, thresholds and milestones are measured on period-to-date attainment of the
 *    measure across the whole period, whichever version priced the earlier credits. A plan change does not
 *    restart the climb through the tiers, so a rep is not paid twice at the low tiers in one period.
 * 3. Time-weighted quota. A measure has one quota for the whole period, weighted by calendar days:
 *        quota = Σ quota_i × days_i / days in period, rounded half-even to the currency's minor unit,
 *    where quota_i is a full-period quota in force for days_i days of the period. Days before the first quota
 *    takes effect weigh zero, which prorates the quota of a payee who joins mid-period.
 *    Why not the quota in force at period end: a rep who sold two months against 300,000 and one month
 *    against 360,000 was asked for 320,000 over the quarter; measuring everything against 360,000 would let
 *    a late change reprice sales made before it was agreed. The weighted quota is also fixed by the
 *    effective-dated inputs alone, not by credits or their arrival order, so the incremental path prices a
 *    credit when it arrives exactly as the full recompute does, and the statement shows one auditable quota.
 * 4. A component keeps its identity across versions (`planId/componentId`): a period cap, a milestone paid,
 *    held earnings and retro true-ups carry over the change. Where a setting is needed (cap, threshold), the
 *    setting of the version that priced the latest credit governs; in retro mode an earlier line is trued
 *    up to the rate its own version gives the tier now reached.
 * 5. A change to versions, assignments, quotas or FX rates is not a credit: the period is recomputed with
 *    computeStatement (a closed period gets the difference as a prior-period adjustment, never an edit).
 */
import { Decimal } from 'decimal.js';
import { minorUnits, Money, roundToMinorUnit } from '#lib/shared/domain/money.js';
import type { DateString, PeriodFrequency, PlanAssignmentInput, PlanVersionInput, QuotaInput } from './commission-plan.js';
import type { PeriodInput } from './statement.js';

/**
 * Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil), computed
 * without the Date object so nothing here can touch the clock or a time zone.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const shiftedYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(shiftedYear / 400);
  const yearOfEra = shiftedYear - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const shifted = days + 719468;
  const era = Math.floor(shifted / 146097);
  const dayOfEra = shifted - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthShifted = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthShifted + 2) / 5) + 1;
  const month = monthShifted < 10 ? monthShifted + 3 : monthShifted - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const digitAt = (text: string, index: number): number => text.charCodeAt(index) - 48;
const digitPositions = [0, 1, 2, 3, 5, 6, 8, 9] as const;

/** Days since 1970-01-01 of a valid 'YYYY-MM-DD', or null when the string is not a real calendar date. */
export function dayNumber(date: DateString): number | null {
  // Read by character codes rather than a regex: this runs once per credit.
  if (typeof date !== 'string' || date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) return null;
  for (const index of digitPositions) {
    const digit = digitAt(date, index);
    if (digit < 0 || digit > 9) return null;
  }
  const year = digitAt(date, 0) * 1000 + digitAt(date, 1) * 100 + digitAt(date, 2) * 10 + digitAt(date, 3);
  const month = digitAt(date, 5) * 10 + digitAt(date, 6);
  const day = digitAt(date, 8) * 10 + digitAt(date, 9);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return daysFromCivil(year, month, day);
}

/** A valid 'YYYY-MM-DD' calendar date. Checked once per credit, so without computing the day number. */
export function isDateString(value: unknown): value is DateString {
  if (typeof value !== 'string' || value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  const year = digitAt(value, 0) * 1000 + digitAt(value, 1) * 100 + digitAt(value, 2) * 10 + digitAt(value, 3);
  const month = digitAt(value, 5) * 10 + digitAt(value, 6);
  const day = digitAt(value, 8) * 10 + digitAt(value, 9);
  // A non-digit makes its digitAt fall outside 0..9, so check each before trusting the sums.
  for (let index = 0; index < 10; index++) {
    if (index === 4 || index === 7) continue;
    const digit = digitAt(value, index);
    if (digit < 0 || digit > 9) return false;
  }
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function requireDayNumber(date: DateString): number {
  const days = dayNumber(date);
  if (days === null) throw new Error(`Not a calendar date 'YYYY-MM-DD': ${date}`);
  return days;
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

function dateOfDayNumber(days: number): DateString {
  const { year, month, day } = civilFromDays(days);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** Number of days in a period, both ends inclusive. */
export const daysInPeriod = (period: PeriodInput): number => requireDayNumber(period.end) - requireDayNumber(period.start) + 1;

/**
 * The period of the given frequency that contains `date`, with a readable id:
 * '2025-03' (month), '2025-Q1' (quarter), '2025' (year). Calendar periods; fiscal calendars are not modelled.
 */
export function periodContaining(date: DateString, frequency: PeriodFrequency): PeriodInput {
  requireDayNumber(date);
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const lastDay = daysInMonth;
  switch (frequency) {
    case 'month':
      return { id: `${pad(year, 4)}-${pad(month, 2)}`, start: `${pad(year, 4)}-${pad(month, 2)}-01`, end: `${pad(year, 4)}-${pad(month, 2)}-${pad(lastDay(year, month), 2)}` };
    case 'quarter': {
      const quarter = Math.floor((month - 1) / 3) + 1;
      const firstMonth = quarter * 3 - 2;
      const lastMonth = quarter * 3;
      return {
        id: `${pad(year, 4)}-Q${quarter}`,
        start: `${pad(year, 4)}-${pad(firstMonth, 2)}-01`,
        end: `${pad(year, 4)}-${pad(lastMonth, 2)}-${pad(lastDay(year, lastMonth), 2)}`,
      };
    }
    case 'year':
      return { id: pad(year, 4), start: `${pad(year, 4)}-01-01`, end: `${pad(year, 4)}-12-31` };
  }
}

/** The version of one plan in force on `date`: the latest effectiveFrom on or before it (ties: higher version). */
export function planVersionInForce(versions: readonly PlanVersionInput[], planId: string, date: DateString): PlanVersionInput | null {
  let found: PlanVersionInput | null = null;
  for (const version of versions) {
    if (version.planId !== planId || version.effectiveFrom > date) continue;
    if (
      found === null ||
      version.effectiveFrom > found.effectiveFrom ||
      (version.effectiveFrom === found.effectiveFrom && version.version > found.version)
    ) {
      found = version;
    }
  }
  return found;
}

/** Plan ids the payee is assigned to on `date`, in ascending order, without repeats. */
export function plansAssignedOn(assignments: readonly PlanAssignmentInput[], payeeId: string, date: DateString): string[] {
  const planIds = new Set<string>();
  for (const assignment of assignments) {
    if (assignment.payeeId !== payeeId || assignment.effectiveFrom > date) continue;
    if (assignment.effectiveUntil !== null && assignment.effectiveUntil <= date) continue;
    planIds.add(assignment.planId);
  }
  return [...planIds].sort();
}

export interface PlanResolution {
  /** Plans assigned on the date. */
  planIds: string[];
  /** The version in force for each assigned plan that has one, in plan id order. */
  versions: PlanVersionInput[];
}

/** Everything that prices a credit of `payeeId` dated `date` (policy point 1). */
export function resolvePlanVersions(
  versions: readonly PlanVersionInput[],
  assignments: readonly PlanAssignmentInput[],
  payeeId: string,
  date: DateString,
): PlanResolution {
  const planIds = plansAssignedOn(assignments, payeeId, date);
  const inForce: PlanVersionInput[] = [];
  for (const planId of planIds) {
    const version = planVersionInForce(versions, planId, date);
    if (version !== null) inForce.push(version);
  }
  return { planIds, versions: inForce };
}

/**
 * The period's quota for a measure, time-weighted by days (policy point 3); null when no quota is in force
 * on any day of the period.
 */
export function timeWeightedQuota(
  quotas: readonly QuotaInput[],
  measure: string,
  period: PeriodInput,
  currency: string,
): Decimal | null {
  let entries: QuotaInput[] | null = null;
  let latest: QuotaInput | null = null;
  for (const quota of quotas) {
    if (quota.measure !== measure || quota.effectiveFrom > period.end) continue;
    (entries ??= []).push(quota);
    if (latest === null || quota.effectiveFrom >= latest.effectiveFrom) latest = quota;
  }
  if (entries === null || latest === null) return null;
  // The common case, one quota in force for the whole period, needs no weighting.
  if (latest.effectiveFrom <= period.start) {
    const amount = new Money(latest.amount);
    return amount.decimalPlaces() <= minorUnits(currency) ? amount : roundToMinorUnit(amount, currency);
  }
  entries.sort((left, right) => (left.effectiveFrom < right.effectiveFrom ? -1 : left.effectiveFrom > right.effectiveFrom ? 1 : 0));
  const periodStartDay = requireDayNumber(period.start);
  const periodEndExclusiveDay = requireDayNumber(period.end) + 1;
  const totalDays = periodEndExclusiveDay - periodStartDay;
  let weighted = new Money(0);
  let daysWithQuota = 0;
  for (let index = 0; index < entries.length; index++) {
    const segmentStart = Math.max(requireDayNumber(entries[index]!.effectiveFrom), periodStartDay);
    const next = entries[index + 1];
    const segmentEnd = next === undefined ? periodEndExclusiveDay : Math.max(Math.min(requireDayNumber(next.effectiveFrom), periodEndExclusiveDay), segmentStart);
    const days = segmentEnd - segmentStart;
    if (days <= 0) continue;
    daysWithQuota += days;
    weighted = weighted.plus(new Money(entries[index]!.amount).times(days));
  }
  if (daysWithQuota === 0) return null;
  return roundToMinorUnit(weighted.div(totalDays), currency);
}

/** The day after `date`. */
export const nextDate = (date: DateString): DateString => dateOfDayNumber(requireDayNumber(date) + 1);
