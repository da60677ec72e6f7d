import { Decimal } from 'decimal.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { Money, parseDecimal } from '#lib/shared/domain/money.js';
import type { PlanAssignmentInput, PlanVersionInput } from './commission-plan.js';
import { componentKeyOf, measuresOf } from './component-terms.js';
import { isDateString } from './effective-dating.js';
import { combineErrors, validateAssignment } from './plan-validation.js';
import type { PeriodSetupInput } from './statement.js';

/**
 * Lookups over the engine's inputs: plan versions by plan, assignments by payee, FX rates by currency and
 * date, the statement currency and measures. Internal to the commission engine.
 *
 * Inputs a caller typically shares across every payee-period (all plan versions, all assignments, one FX
 * table) are indexed once per array object instead of once per statement.
 */
const noCurrency = 'XXX';
const versionIndexes = new WeakMap<readonly PlanVersionInput[], Map<string, PlanVersionInput[]>>();
const assignmentIndexes = new WeakMap<readonly PlanAssignmentInput[], Map<string, PlanAssignmentInput[]>>();

export interface FxIndex {
  texts: Map<string, string>;
  parsed: Map<string, Decimal>;
}
const fxIndexes = new WeakMap<object, FxIndex>();

export function versionIndexOf(versions: readonly PlanVersionInput[]): Map<string, PlanVersionInput[]> {
  let index = versionIndexes.get(versions);
  if (index === undefined) {
    index = new Map();
    for (const version of versions) {
      const list = index.get(version.planId) ?? [];
      list.push(version);
      index.set(version.planId, list);
    }
    for (const list of index.values()) {
      list.sort((left, right) => (left.effectiveFrom < right.effectiveFrom ? -1 : left.effectiveFrom > right.effectiveFrom ? 1 : left.version - right.version));
    }
    versionIndexes.set(versions, index);
  }
  return index;
}

export function assignmentsOf(assignments: readonly PlanAssignmentInput[], payeeId: string): PlanAssignmentInput[] {
  let index = assignmentIndexes.get(assignments);
  if (index === undefined) {
    index = new Map();
    for (const assignment of assignments) {
      const until = assignment.effectiveUntil;
      if (!isDateString(assignment.effectiveFrom) || (until !== null && (!isDateString(until) || until <= assignment.effectiveFrom))) {
        throw combineErrors(validateAssignment(assignment), 'ASSIGNMENT.INVALID', `Assignment of ${assignment.payeeId} to ${assignment.planId} is invalid`)!;
      }
      const list = index.get(assignment.payeeId) ?? [];
      list.push(assignment);
      index.set(assignment.payeeId, list);
    }
    assignmentIndexes.set(assignments, index);
  }
  return index.get(payeeId) ?? [];
}

export function fxIndexOf(setup: PeriodSetupInput): FxIndex {
  let index = fxIndexes.get(setup.fxRates);
  if (index === undefined) {
    index = { texts: new Map(), parsed: new Map() };
    for (const rate of setup.fxRates) {
      if (!isDateString(rate.date)) throw validationError('FX.DATE_INVALID', `FX rate date ${rate.date} is not 'YYYY-MM-DD'`, [{ field: 'fxRates.date', message: "must be a date 'YYYY-MM-DD'" }]);
      parseDecimal(rate.rateToPlanCurrency, 'fxRates.rateToPlanCurrency');
      index.texts.set(`${rate.currency}>${rate.toCurrency ?? '*'}|${rate.date}`, rate.rateToPlanCurrency);
    }
    fxIndexes.set(setup.fxRates, index);
  }
  return index;
}

/** The rate from `currency` into the plan currency on `date`: a row naming that plan currency first, then one naming none. */
export function fxRateFor(fx: FxIndex, currency: string, planCurrency: string, date: string): Decimal | null {
  for (const key of [`${currency}>${planCurrency}|${date}`, `${currency}>*|${date}`]) {
    const parsed = fx.parsed.get(key);
    if (parsed !== undefined) return parsed;
    const text = fx.texts.get(key);
    if (text === undefined) continue;
    const rate = new Money(text);
    fx.parsed.set(key, rate);
    return rate;
  }
  return null;
}

export function versionInForce(versions: readonly PlanVersionInput[] | undefined, date: string): PlanVersionInput | null {
  if (versions === undefined) return null;
  let found: PlanVersionInput | null = null;
  for (const version of versions) {
    if (version.effectiveFrom > date) break;
    found = version;
  }
  return found;
}

export function assignedPlanIds(assignments: readonly PlanAssignmentInput[], date: string): string[] {
  const planIds: string[] = [];
  for (const assignment of assignments) {
    if (assignment.effectiveFrom > date) continue;
    if (assignment.effectiveUntil !== null && assignment.effectiveUntil <= date) continue;
    if (!planIds.includes(assignment.planId)) planIds.push(assignment.planId);
  }
  return planIds.sort();
}

/**
 * The statement currency: that of the first plan version in force for the payee during the period (at its
 * start, or at the first assignment or version that begins inside it).
 */
export function statementCurrency(setup: PeriodSetupInput, assignments: readonly PlanAssignmentInput[], versionsByPlanId: Map<string, PlanVersionInput[]>): string {
  const { start, end } = setup.period;
  for (const planId of assignedPlanIds(assignments, start)) {
    const version = versionInForce(versionsByPlanId.get(planId), start);
    if (version !== null) return version.currency;
  }
  const dates = new Set<string>([start]);
  for (const assignment of assignments) if (assignment.effectiveFrom > start && assignment.effectiveFrom <= end) dates.add(assignment.effectiveFrom);
  for (const assignment of assignments) {
    for (const version of versionsByPlanId.get(assignment.planId) ?? []) {
      if (version.effectiveFrom > start && version.effectiveFrom <= end) dates.add(version.effectiveFrom);
    }
  }
  for (const date of [...dates].sort()) {
    for (const planId of assignedPlanIds(assignments, date)) {
      const version = versionInForce(versionsByPlanId.get(planId), date);
      if (version !== null) return version.currency;
    }
  }
  return noCurrency;
}

export interface MeasureTable {
  measures: readonly string[];
  measureIndex: ReadonlyMap<string, number>;
}

/** Payees with the same quota measures on the same plans share one measure table (bounded memo). */
const measureTables = new WeakMap<readonly PlanVersionInput[], Map<string, MeasureTable>>();

export function measureTableOf(setup: PeriodSetupInput, assignments: readonly PlanAssignmentInput[], versionsByPlanId: Map<string, PlanVersionInput[]>): MeasureTable {
  let tables = measureTables.get(setup.planVersions);
  if (tables === undefined) {
    tables = new Map();
    measureTables.set(setup.planVersions, tables);
  }
  let key = '';
  for (const quota of setup.quotas) key += `${quota.measure},`;
  key += '|';
  for (const assignment of assignments) key += `${assignment.planId},`;
  let table = tables.get(key);
  if (table === undefined) {
    const measureSet = new Set<string>();
    for (const quota of setup.quotas) measureSet.add(quota.measure);
    for (const assignment of assignments) {
      for (const version of versionsByPlanId.get(assignment.planId) ?? []) for (const measure of measuresOf(version)) measureSet.add(measure);
    }
    const measures = [...measureSet].sort();
    table = { measures, measureIndex: new Map(measures.map((measure, index) => [measure, index])) };
    if (tables.size >= 4096) tables.clear();
    tables.set(key, table);
  }
  return table;
}

export interface CapTracking {
  tracksDeals: boolean;
  tracksPeriodCap: boolean;
}

/** Whether any version of a plan caps a component, per plan's version list (itself built once per input array). */
const capTrackingByVersions = new WeakMap<readonly PlanVersionInput[], Map<string, CapTracking>>();

export function capTrackingOf(versions: readonly PlanVersionInput[], componentKey: string): CapTracking {
  let byKey = capTrackingByVersions.get(versions);
  if (byKey === undefined) {
    byKey = new Map();
    capTrackingByVersions.set(versions, byKey);
  }
  let tracking = byKey.get(componentKey);
  if (tracking === undefined) {
    tracking = { tracksDeals: false, tracksPeriodCap: false };
    for (const version of versions) {
      for (const candidate of version.components) {
        if (candidate.kind !== 'rate_table' || componentKeyOf(version.planId, candidate.id) !== componentKey) continue;
        if (candidate.capPerDeal !== undefined && candidate.capPerDeal !== null) tracking.tracksDeals = true;
        if (candidate.capPerPeriod !== undefined && candidate.capPerPeriod !== null) tracking.tracksPeriodCap = true;
      }
    }
    byKey.set(componentKey, tracking);
  }
  return tracking;
}

export const noVersions: PlanVersionInput[] = [];
