import { Decimal } from 'decimal.js';
import { conflictError, validationError } from '#lib/shared/domain/domain-error.js';
import { attainmentPercent, isDecimalString, minorUnits, Money, parseDecimal } from '#lib/shared/domain/money.js';
import type { PlanAssignmentInput, PlanVersionInput } from './commission-plan.js';
import {
  compileVersionTerms,
  componentKeyOf,
  measuresOf,
  tierIndexAt,
  type ComponentTerms,
  type MilestoneTerms,
  type PricedTier,
  type RateTableTerms,
  type SpifTerms,
  type VersionTerms,
} from './component-terms.js';
import { compareDecimals } from './decimal-compare.js';
import { isDateString, timeWeightedQuota } from './effective-dating.js';
import { combineErrors, validateAssignment, validateQuota } from './plan-validation.js';
import {
  lineKinds,
  type AttainmentEntry,
  type CreditInput,
  type HeldCredit,
  type HeldCreditReason,
  type LineKind,
  type LineSource,
  type PeriodSetupInput,
  type Statement,
  type StatementInput,
  type StatementLine,
} from './statement.js';

/**
 * The commission engine: folds one payee's credits of one period into statement lines.
 *
 * Two ways in, one result:
 * - `computeStatement(input)` sorts the credits by credit date, then log position, then credit id, and
 *   folds them. Arrival order therefore never changes a closed statement.
 * - `startPeriod(setup)` then `applyCredit(state, credit)` per credit gives a projection the new lines as
 *   credits arrive; `statementOf(state)` reads the statement so far. Fed the same credits in the sorted
 *   order, it ends with exactly the statement `computeStatement` gives. A credit that sorts before one
 *   already applied (a back-dated credit: see `sortsAfterLastApplied`), or any change to plans,
 *   assignments, quotas or FX rates, calls for `computeStatement` instead.
 *
 * Lines are only ever appended: a tier change adds true-up lines, a cap adds a cap adjustment, a threshold
 * crossing adds a release line. Nothing already emitted changes, so a statement's lines are the
 * concatenation of every `newLines` returned.
 *
 * Speed: a period's state is mutated in place (a projection owns one state per payee-period); marginal and
 * retro modes cost O(tiers) per credit plus one true-up line per earlier credit when the tier reached
 * changes, never a rescan of the period.
 */

/** The running computation of one payee-period. Treat as opaque: read it with `statementOf`. */
export interface CommissionPeriodState {
  readonly payeeId: string;
  readonly periodId: string;
  readonly currency: string;
  /** Internal; may change without notice. */
  readonly internal: PeriodInternals;
}

interface PeriodInternals {
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
  resolutionByDate: Map<string, Resolution>;
  termsByVersionId: Map<string, VersionTerms>;
  fxRates: FxIndex;
  runs: ComponentRun[];
  runByKey: Map<string, ComponentRun>;
  applied: Map<string, CreditInput>;
  lastApplied: CreditInput | null;
  lines: StatementLine[];
  heldCredits: HeldCredit[];
  totalsByKind: Decimal[];
  context: CreditContext;
}

interface Resolution {
  heldReason: HeldCreditReason | null;
  versions: VersionTerms[];
  mismatched: PlanVersionInput[];
}

interface RetroEntry {
  creditId: string;
  dealId: string;
  sources: LineSource[];
  base: Decimal;
  baseText: string;
  capPerDeal: Decimal | null;
}

interface RetroGroup {
  terms: RateTableTerms;
  measureIndex: number;
  tierIndex: number;
  entries: RetroEntry[];
}

interface DealTally {
  earned: Decimal;
  adjustment: Decimal;
}

interface ComponentRun {
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
interface PendingLine {
  line: StatementLine;
  rounded: Decimal;
  dealId: string | null;
  capPerDeal: Decimal | null;
}

interface CreditContext {
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

const zero = new Money(0);
const kindIndex = new Map<LineKind, number>(lineKinds.map((kind, index) => [kind, index]));
const noCurrency = 'XXX';
const zeroTexts = new Map<number, string>();
const zeroTextOf = (digits: number): string => {
  let text = zeroTexts.get(digits);
  if (text === undefined) {
    text = zero.toFixed(digits);
    zeroTexts.set(digits, text);
  }
  return text;
};

// Indexes over inputs a caller typically shares across every payee-period (all plan versions, all
// assignments, one FX table): built once per array object instead of once per statement.
const versionIndexes = new WeakMap<readonly PlanVersionInput[], Map<string, PlanVersionInput[]>>();
const assignmentIndexes = new WeakMap<readonly PlanAssignmentInput[], Map<string, PlanAssignmentInput[]>>();

interface FxIndex {
  texts: Map<string, string>;
  parsed: Map<string, Decimal>;
}
const fxIndexes = new WeakMap<object, FxIndex>();

function versionIndexOf(versions: readonly PlanVersionInput[]): Map<string, PlanVersionInput[]> {
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

function assignmentsOf(assignments: readonly PlanAssignmentInput[], payeeId: string): PlanAssignmentInput[] {
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

function fxIndexOf(setup: PeriodSetupInput): FxIndex {
  let index = fxIndexes.get(setup.fxRates);
  if (index === undefined) {
    index = { texts: new Map(), parsed: new Map() };
    for (const rate of setup.fxRates) {
      if (!isDateString(rate.date)) throw validationError('FX.DATE_INVALID', `FX rate date ${rate.date} is not 'YYYY-MM-DD'`, [{ field: 'fxRates.date', message: "must be a date 'YYYY-MM-DD'" }]);
      parseDecimal(rate.rateToPlanCurrency, 'fxRates.rateToPlanCurrency');
      index.texts.set(`${rate.currency}|${rate.date}`, rate.rateToPlanCurrency);
    }
    fxIndexes.set(setup.fxRates, index);
  }
  return index;
}

function fxRateFor(fx: FxIndex, currency: string, date: string): Decimal | null {
  const key = `${currency}|${date}`;
  const parsed = fx.parsed.get(key);
  if (parsed !== undefined) return parsed;
  const text = fx.texts.get(key);
  if (text === undefined) return null;
  const rate = new Money(text);
  fx.parsed.set(key, rate);
  return rate;
}

function versionInForce(versions: readonly PlanVersionInput[] | undefined, date: string): PlanVersionInput | null {
  if (versions === undefined) return null;
  let found: PlanVersionInput | null = null;
  for (const version of versions) {
    if (version.effectiveFrom > date) break;
    found = version;
  }
  return found;
}

function assignedPlanIds(assignments: readonly PlanAssignmentInput[], date: string): string[] {
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
function statementCurrency(setup: PeriodSetupInput, assignments: readonly PlanAssignmentInput[], versionsByPlanId: Map<string, PlanVersionInput[]>): string {
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

interface MeasureTable {
  measures: readonly string[];
  measureIndex: ReadonlyMap<string, number>;
}

/** Payees with the same quota measures on the same plans share one measure table (bounded memo). */
const measureTables = new WeakMap<readonly PlanVersionInput[], Map<string, MeasureTable>>();

function measureTableOf(setup: PeriodSetupInput, assignments: readonly PlanAssignmentInput[], versionsByPlanId: Map<string, PlanVersionInput[]>): MeasureTable {
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

/** Begins a payee-period. Throws a validation DomainError on a broken plan, assignment, quota or FX row. */
export function startPeriod(setup: PeriodSetupInput): CommissionPeriodState {
  const { period, payeeId } = setup;
  if (!isDateString(period.start) || !isDateString(period.end) || period.end < period.start) {
    throw validationError('PERIOD.RANGE_INVALID', `Period ${period.id} must run from a start date to an end date on or after it`, [
      { field: 'period', message: "start and end must be dates 'YYYY-MM-DD', end on or after start" },
    ]);
  }
  for (const quota of setup.quotas) {
    if (typeof quota.measure === 'string' && quota.measure !== '' && isDecimalString(quota.amount) && quota.amount[0] !== '-' && isDateString(quota.effectiveFrom)) continue;
    throw combineErrors(validateQuota(quota), 'QUOTA.INVALID', `Quota for ${quota.measure} is invalid`)!;
  }
  const versionsByPlanId = versionIndexOf(setup.planVersions);
  const assignments = assignmentsOf(setup.assignments, payeeId).filter(
    (assignment) => assignment.effectiveFrom <= period.end && (assignment.effectiveUntil === null || assignment.effectiveUntil > period.start),
  );
  const currency = statementCurrency(setup, assignments, versionsByPlanId);

  const { measures, measureIndex } = measureTableOf(setup, assignments, versionsByPlanId);
  const quotas = measures.map((measure) => timeWeightedQuota(setup.quotas, measure, period, currency));
  return {
    payeeId,
    periodId: period.id,
    currency,
    internal: {
      setup,
      minorDigits: minorUnits(currency),
      zeroText: zeroTextOf(minorUnits(currency)),
      linePrefix: `${period.id}:${payeeId}:`,
      measures,
      measureIndex,
      cumulative: measures.map(() => zero),
      quotas,
      quotaByMeasure: new Map(measures.map((measure, index) => [measure, quotas[index]!])),
      versionsByPlanId,
      assignments,
      resolutionByDate: new Map(),
      termsByVersionId: new Map(),
      fxRates: fxIndexOf(setup),
      runs: [],
      runByKey: new Map(),
      applied: new Map(),
      lastApplied: null,
      lines: [],
      heldCredits: [],
      totalsByKind: lineKinds.map(() => zero),
      context: {
        credit: null as unknown as CreditInput,
        sources: [],
        share: null,
        fxRate: null,
        values: new Array(measures.length).fill(null),
        valueTexts: new Array(measures.length).fill(null),
        rawTexts: new Array(measures.length).fill(null),
        before: measures.map(() => zero),
        convertedAmount: null,
      },
    },
  };
}

/** Credits fold in this order: credit date, then global log position, then credit id. */
export function compareCredits(left: CreditInput, right: CreditInput): number {
  if (left.creditDate !== right.creditDate) return left.creditDate < right.creditDate ? -1 : 1;
  if (left.position !== right.position) return left.position - right.position;
  return left.creditId < right.creditId ? -1 : left.creditId > right.creditId ? 1 : 0;
}

/** True when applying `credit` now keeps the fold in the order `computeStatement` uses. */
export function sortsAfterLastApplied(state: CommissionPeriodState, credit: CreditInput): boolean {
  const last = state.internal.lastApplied;
  return last === null || compareCredits(last, credit) < 0;
}

export interface AppliedCredit {
  state: CommissionPeriodState;
  newLines: StatementLine[];
  newHeldCredits: HeldCredit[];
}

/**
 * Folds one credit into the period. Applying a credit id already applied from the same event is a no-op
 * (at-least-once delivery); the same credit id from another event is a conflict.
 */
export function applyCredit(state: CommissionPeriodState, credit: CreditInput): AppliedCredit {
  const internal = state.internal;
  const previous = internal.applied.get(credit.creditId);
  if (previous !== undefined) {
    if (previous.eventId === credit.eventId && previous.position === credit.position) return { state, newLines: [], newHeldCredits: [] };
    throw conflictError('CREDIT.DUPLICATE_ID', `Credit ${credit.creditId} was already applied from event ${previous.eventId}`);
  }
  internal.applied.set(credit.creditId, credit);
  if (internal.lastApplied === null || compareCredits(internal.lastApplied, credit) < 0) internal.lastApplied = credit;
  const linesBefore = internal.lines.length;
  const heldBefore = internal.heldCredits.length;
  foldCredit(state, credit);
  return { state, newLines: internal.lines.slice(linesBefore), newHeldCredits: internal.heldCredits.slice(heldBefore) };
}

/** The full recompute: the closed result of a period, independent of the order credits arrived in. */
export function computeStatement(input: StatementInput): Statement {
  const state = startPeriod(input);
  const credits = [...input.credits].sort(compareCredits);
  for (const credit of credits) {
    const previous = state.internal.applied.get(credit.creditId);
    if (previous !== undefined) {
      if (previous.eventId === credit.eventId && previous.position === credit.position) continue;
      throw conflictError('CREDIT.DUPLICATE_ID', `Credit ${credit.creditId} appears from events ${previous.eventId} and ${credit.eventId}`);
    }
    state.internal.applied.set(credit.creditId, credit);
    state.internal.lastApplied = credit;
    foldCredit(state, credit);
  }
  return statementOf(state);
}

function holdCredit(internal: PeriodInternals, credit: CreditInput, reason: HeldCreditReason, sources: LineSource[], componentKey: string | null, planVersionId: string | null): void {
  internal.heldCredits.push({ creditId: credit.creditId, dealId: credit.dealId, reason, componentKey, planVersionId, sources });
}

function resolve(internal: PeriodInternals, currency: string, date: string): Resolution {
  const cached = internal.resolutionByDate.get(date);
  if (cached !== undefined) return cached;
  const planIds = assignedPlanIds(internal.assignments, date);
  const versions: VersionTerms[] = [];
  const mismatched: PlanVersionInput[] = [];
  for (const planId of planIds) {
    const version = versionInForce(internal.versionsByPlanId.get(planId), date);
    if (version === null) continue;
    if (version.currency !== currency) {
      mismatched.push(version);
      continue;
    }
    let terms = internal.termsByVersionId.get(version.id);
    if (terms === undefined) {
      terms = compileVersionTerms(version, internal.quotaByMeasure);
      internal.termsByVersionId.set(version.id, terms);
    }
    versions.push(terms);
  }
  const heldReason: HeldCreditReason | null =
    planIds.length === 0 ? 'NO_PLAN_ASSIGNED' : versions.length === 0 && mismatched.length === 0 ? 'NO_PLAN_VERSION_IN_FORCE' : null;
  const resolution = { heldReason, versions, mismatched };
  internal.resolutionByDate.set(date, resolution);
  return resolution;
}

function foldCredit(state: CommissionPeriodState, credit: CreditInput): void {
  const internal = state.internal;
  const sources: LineSource[] = [{ eventId: credit.eventId, position: credit.position }];
  if (!isDateString(credit.creditDate)) {
    throw validationError('CREDIT.DATE_INVALID', `Credit ${credit.creditId} has no valid credit date`, [{ field: 'creditDate', message: "must be a date 'YYYY-MM-DD'" }]);
  }
  if (credit.creditDate < internal.setup.period.start || credit.creditDate > internal.setup.period.end) {
    holdCredit(internal, credit, 'CREDIT_DATE_OUTSIDE_PERIOD', sources, null, null);
    return;
  }
  const resolution = resolve(internal, state.currency, credit.creditDate);
  if (resolution.heldReason !== null) {
    holdCredit(internal, credit, resolution.heldReason, sources, null, null);
    return;
  }
  let fxRate: Decimal | null = null;
  if (credit.currency !== state.currency) {
    fxRate = fxRateFor(internal.fxRates, credit.currency, credit.creditDate);
    if (fxRate === null) {
      holdCredit(internal, credit, 'FX_RATE_MISSING', sources, null, null);
      return;
    }
  }
  for (const version of resolution.mismatched) holdCredit(internal, credit, 'PLAN_CURRENCY_MISMATCH', sources, null, version.id);

  const context = creditContext(internal, credit, sources, fxRate);
  for (const terms of resolution.versions) {
    for (const component of terms.components) {
      if (!internal.runByKey.has(component.componentKey)) addRun(internal, component);
    }
  }
  for (const run of internal.runs) {
    let terms: ComponentTerms | null = null;
    for (const version of resolution.versions) {
      const found = version.byKey.get(run.key);
      if (found !== undefined) {
        terms = found;
        break;
      }
    }
    if (terms === null && !runNeedsStep(internal, run, context)) continue;
    switch (run.governing.kind) {
      case 'rate_table':
        stepRateTable(state, run, terms as RateTableTerms | null, context);
        break;
      case 'spif':
        if (terms !== null) stepSpif(state, terms as SpifTerms, context);
        break;
      case 'milestone_bonus':
        if (terms !== null) stepMilestone(state, run, terms as MilestoneTerms, context);
        break;
    }
  }
}

const measureChanged = (context: CreditContext, measureIndex: number): boolean => {
  const value = context.values[measureIndex];
  return value !== null && value !== undefined && !value.isZero();
};

/** A component absent from the credit's version still moves when the credit shifts its measure. */
function runNeedsStep(internal: PeriodInternals, run: ComponentRun, context: CreditContext): boolean {
  for (const group of run.retroGroups) if (measureChanged(context, group.measureIndex)) return true;
  if (run.heldLineCount > 0 && !run.gateOpen && run.governing.kind === 'rate_table') {
    return measureChanged(context, internal.measureIndex.get(run.governing.measure)!);
  }
  return false;
}

interface CapTracking {
  tracksDeals: boolean;
  tracksPeriodCap: boolean;
}

/** Whether any version of a plan caps a component, per plan's version list (itself built once per input array). */
const capTrackingByVersions = new WeakMap<readonly PlanVersionInput[], Map<string, CapTracking>>();

function capTrackingOf(versions: readonly PlanVersionInput[], componentKey: string): CapTracking {
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

const noVersions: PlanVersionInput[] = [];

function addRun(internal: PeriodInternals, component: ComponentTerms): void {
  const planId = component.componentKey.slice(0, component.componentKey.indexOf('/'));
  const { tracksDeals, tracksPeriodCap } = capTrackingOf(internal.versionsByPlanId.get(planId) ?? noVersions, component.componentKey);
  const run: ComponentRun = {
    key: component.componentKey,
    governing: component,
    tracksDeals,
    tracksPeriodCap,
    retroGroups: [],
    deals: tracksDeals ? new Map() : null,
    earnedBeforePeriodCap: zero,
    periodCapAdjustment: zero,
    gateOpen: false,
    heldOutstanding: zero,
    heldLineCount: 0,
    heldSources: null,
    heldEventIds: null,
    milestonesPaid: null,
  };
  internal.runByKey.set(run.key, run);
  // Kept in component-key order so lines come out in the same order whatever the order components are met.
  let position = internal.runs.length;
  while (position > 0 && internal.runs[position - 1]!.key > run.key) position--;
  internal.runs.splice(position, 0, run);
}

function creditContext(internal: PeriodInternals, credit: CreditInput, sources: LineSource[], fxRate: Decimal | null): CreditContext {
  let share: Decimal | null = null;
  if (credit.share !== '1') {
    const shareValue = parseDecimal(credit.share, 'share');
    share = shareValue.eq(1) ? null : shareValue;
  }
  const measureCount = internal.measures.length;
  // One context per period, refilled for each credit: nothing keeps it past the fold of its credit.
  const context = internal.context;
  context.credit = credit;
  context.sources = sources;
  context.share = share;
  context.fxRate = fxRate;
  context.convertedAmount = null;
  const { values, valueTexts, rawTexts, before } = context;
  const converted = share !== null || fxRate !== null;
  if (credit.measureAmounts === undefined) {
    const convertedAmount = convertCredited(credit.amount, 'amount', share, fxRate);
    context.convertedAmount = convertedAmount;
    const text = converted ? convertedAmount.toString() : credit.amount;
    for (let index = 0; index < measureCount; index++) {
      values[index] = convertedAmount;
      valueTexts[index] = text;
      rawTexts[index] = credit.amount;
    }
  } else {
    // Measures often carry the same amount (bookings = revenue): convert each distinct text once.
    let previousRaw: string | null = null;
    let previousValue: Decimal | null = null;
    let previousText: string | null = null;
    for (let index = 0; index < measureCount; index++) {
      const raw = credit.measureAmounts[internal.measures[index]!];
      if (raw === undefined) {
        values[index] = null;
        valueTexts[index] = null;
        rawTexts[index] = null;
        continue;
      }
      if (raw !== previousRaw) {
        previousRaw = raw;
        previousValue = convertCredited(raw, `measureAmounts.${internal.measures[index]}`, share, fxRate);
        previousText = converted ? previousValue.toString() : raw;
      }
      values[index] = previousValue;
      valueTexts[index] = previousText;
      rawTexts[index] = raw;
    }
  }
  const cumulative = internal.cumulative;
  for (let index = 0; index < measureCount; index++) {
    before[index] = cumulative[index]!;
    const value = values[index];
    if (value === null || value === undefined) continue;
    // Measures that have moved together so far (same running total, same amount) share one sum: Decimals are immutable.
    if (index > 0 && value === values[index - 1] && before[index] === before[index - 1]) cumulative[index] = cumulative[index - 1]!;
    else cumulative[index] = cumulative[index]!.plus(value);
  }
  return context;
}

/** Deal amount text → credited amount in plan currency: amount × share × FX rate, at full precision. */
function convertCredited(raw: string, field: string, share: Decimal | null, fxRate: Decimal | null): Decimal {
  let value = parseDecimal(raw, field, { allowNegative: true });
  if (share !== null) value = value.times(share);
  if (fxRate !== null) value = value.times(fxRate);
  return value;
}

/** "80000 EUR × fx 1.1 × share 0.7" when the credit was converted, else "". */
function conversionText(context: CreditContext, rawText: string): string {
  if (context.share === null && context.fxRate === null) return '';
  let text = `${rawText} ${context.credit.currency}`;
  if (context.fxRate !== null) text += ` × fx ${context.fxRate.toString()}`;
  if (context.share !== null) text += ` × share ${context.share.toString()}`;
  return text;
}

/** "(80000 EUR × share 0.7) = " before the base amount when the credit was converted, else "". */
function wholeCreditExplanation(context: CreditContext, measureIndex: number): string {
  const conversion = conversionText(context, context.rawTexts[measureIndex]!);
  return conversion === '' ? '' : `(${conversion}) = `;
}

function amountOfCredit(context: CreditContext): Decimal {
  context.convertedAmount ??= convertCredited(context.credit.amount, 'amount', context.share, context.fxRate);
  return context.convertedAmount;
}

function roundLine(internal: PeriodInternals, unrounded: Decimal): Decimal {
  if (unrounded.decimalPlaces() <= internal.minorDigits) return unrounded;
  return unrounded.toDecimalPlaces(internal.minorDigits, Decimal.ROUND_HALF_EVEN);
}

/**
 * Text of a rounded amount with exactly the minor-unit digits, e.g. "5600.00". Same result as toFixed, but
 * from toString plus padding: toFixed allocates and re-rounds, and this runs once per line.
 */
function amountText(internal: PeriodInternals, rounded: Decimal, roundedText?: string): string {
  if (rounded.isZero()) return internal.zeroText;
  const text = roundedText ?? rounded.toString();
  const digits = internal.minorDigits;
  if (digits === 0) return text;
  const point = text.indexOf('.');
  if (point === -1) return `${text}.${internal.zeroText.slice(-digits)}`;
  const missing = digits - (text.length - point - 1);
  return missing === 0 ? text : text + internal.zeroText.slice(-missing);
}

function makeLine(
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

function emit(internal: PeriodInternals, line: StatementLine, rounded: Decimal): void {
  internal.lines.push(line);
  const index = kindIndex.get(line.kind)!;
  internal.totalsByKind[index] = internal.totalsByKind[index]!.plus(rounded);
}

function tierLine(
  state: CommissionPeriodState,
  terms: RateTableTerms,
  tier: PricedTier,
  base: Decimal,
  baseText: string,
  context: CreditContext,
  baseExplanation: string,
  lineIdSuffix: string,
): PendingLine {
  const unrounded = base.times(tier.rate);
  const rounded = roundLine(state.internal, unrounded);
  const unroundedText = unrounded.toString();
  const credit = context.credit;
  const internal = state.internal;
  // Built in place rather than through makeLine: this is the line nearly every credit makes.
  const line: StatementLine = {
    lineId: internal.linePrefix + lineIdSuffix,
    kind: 'commission',
    creditId: credit.creditId,
    dealId: credit.dealId,
    planVersionId: terms.planVersionId,
    componentKey: terms.componentKey,
    tier: tier.tierNumber,
    rate: tier.rateText,
    baseAmount: baseText,
    formula: `${tier.formulaPrefix}${baseExplanation}${baseText} × ${tier.rateText} = ${unroundedText}`,
    amountUnrounded: unroundedText,
    amount: amountText(internal, rounded, rounded === unrounded ? unroundedText : undefined),
    currency: state.currency,
    sources: context.sources,
  };
  return { line, rounded, dealId: credit.dealId, capPerDeal: terms.capPerDeal };
}

function stepRateTable(state: CommissionPeriodState, run: ComponentRun, terms: RateTableTerms | null, context: CreditContext): void {
  const internal = state.internal;
  const credit = context.credit;
  if (terms !== null) {
    run.governing = terms;
    if (terms.quotaMissing) {
      holdCredit(internal, credit, 'QUOTA_MISSING', context.sources, terms.componentKey, terms.planVersionId);
      return;
    }
  }
  const governing = run.governing as RateTableTerms;
  const pending: PendingLine[] = [];
  const keyOfCredit = `${run.key}:${credit.creditId}`;

  if (terms !== null && terms.mode !== 'retro') {
    const measureIndex = internal.measureIndex.get(terms.measure)!;
    const value = context.values[measureIndex];
    if (value !== null && value !== undefined && !value.isZero()) {
      if (terms.mode === 'per_transaction') {
        const tier = terms.tiers[tierIndexAt(terms.tiers, value.abs())]!;
        pending.push(tierLine(state, terms, tier, value, context.valueTexts[measureIndex]!, context, wholeCreditExplanation(context, measureIndex), `commission:${keyOfCredit}`));
      } else {
        marginalLines(state, terms, value, context.before[measureIndex]!, internal.cumulative[measureIndex]!, context, measureIndex, keyOfCredit, pending);
      }
    }
  }

  // Retro: a change of the tier reached trues up every earlier line of the component to the new rate.
  for (const group of run.retroGroups) {
    if (!measureChanged(context, group.measureIndex)) continue;
    const newIndex = tierIndexAt(group.terms.tiers, internal.cumulative[group.measureIndex]!);
    if (newIndex === group.tierIndex) continue;
    const oldTier = group.terms.tiers[group.tierIndex]!;
    const newTier = group.terms.tiers[newIndex]!;
    group.tierIndex = newIndex;
    if (compareDecimals(newTier.rate, oldTier.rate) === 0) continue;
    const rateDelta = newTier.rate.minus(oldTier.rate);
    for (const entry of group.entries) {
      const unrounded = entry.base.times(rateDelta);
      const rounded = roundLine(internal, unrounded);
      const unroundedText = unrounded.toString();
      const line = makeLine(
        state,
        {
          kind: 'true_up',
          creditId: entry.creditId,
          dealId: entry.dealId,
          planVersionId: group.terms.planVersionId,
          componentKey: run.key,
          tier: newTier.tierNumber,
          rate: newTier.rateText,
          baseAmount: entry.baseText,
          formula: `true-up from tier ${oldTier.tierNumber} to ${newTier.formulaPrefix}${entry.baseText} × (${newTier.rateText} − ${oldTier.rateText}) = ${unroundedText}`,
          sources: [...entry.sources, ...context.sources],
        },
        `true_up:${run.key}:${entry.creditId}:by:${credit.creditId}`,
        unroundedText,
        rounded,
      );
      pending.push({ line, rounded, dealId: entry.dealId, capPerDeal: entry.capPerDeal });
    }
  }

  if (terms !== null && terms.mode === 'retro') {
    const measureIndex = internal.measureIndex.get(terms.measure)!;
    const value = context.values[measureIndex];
    if (value !== null && value !== undefined && !value.isZero()) {
      let group = run.retroGroups.find((candidate) => candidate.terms === terms);
      if (group === undefined) {
        group = { terms, measureIndex, tierIndex: tierIndexAt(terms.tiers, internal.cumulative[measureIndex]!), entries: [] };
        run.retroGroups.push(group);
      }
      const baseText = context.valueTexts[measureIndex]!;
      pending.push(tierLine(state, terms, terms.tiers[group.tierIndex]!, value, baseText, context, wholeCreditExplanation(context, measureIndex), `commission:${keyOfCredit}`));
      group.entries.push({ creditId: credit.creditId, dealId: credit.dealId, sources: context.sources, base: value, baseText, capPerDeal: terms.capPerDeal });
    }
  }

  if (run.tracksDeals && pending.length > 0) applyDealCaps(state, run, governing, pending, context);
  if (run.tracksPeriodCap) applyPeriodCap(state, run, governing, pending, context);
  settleThreshold(state, run, governing, pending, context);
}

/** Marginal: the credit moves period-to-date attainment from `before` to `after`; each tier slice crossed earns its own rate. */
function marginalLines(
  state: CommissionPeriodState,
  terms: RateTableTerms,
  value: Decimal,
  before: Decimal,
  after: Decimal,
  context: CreditContext,
  measureIndex: number,
  keyOfCredit: string,
  pending: PendingLine[],
): void {
  const negative = value.isNegative();
  const low = negative ? after : before;
  const high = negative ? before : after;
  const tiers = terms.tiers;
  let index = tierIndexAt(tiers, low);
  const nextBound = tiers[index + 1]?.fromAmount;
  if (nextBound === undefined || compareDecimals(high, nextBound) <= 0) {
    pending.push(tierLine(state, terms, tiers[index]!, value, context.valueTexts[measureIndex]!, context, wholeCreditExplanation(context, measureIndex), `commission:${keyOfCredit}:t${tiers[index]!.tierNumber}`));
    return;
  }
  const conversion = conversionText(context, context.rawTexts[measureIndex]!);
  const creditText = conversion === '' ? context.valueTexts[measureIndex]! : `${conversion} = ${context.valueTexts[measureIndex]!}`;
  let sliceLow = low;
  for (;;) {
    const upper = tiers[index + 1]?.fromAmount;
    const sliceHigh = upper === undefined || compareDecimals(high, upper) <= 0 ? high : upper;
    const width = sliceHigh.minus(sliceLow);
    if (!width.isZero()) {
      const slice = negative ? width.negated() : width;
      const tier = tiers[index]!;
      pending.push(tierLine(state, terms, tier, slice, slice.toString(), context, `slice ${sliceLow.toString()} to ${sliceHigh.toString()} of credit ${creditText}: `, `commission:${keyOfCredit}:t${tier.tierNumber}`));
    }
    if (sliceHigh === high) return;
    sliceLow = sliceHigh;
    index++;
  }
}

function capLine(
  state: CommissionPeriodState,
  run: ComponentRun,
  terms: RateTableTerms,
  context: CreditContext,
  adjustment: Decimal,
  dealId: string | null,
  formula: string,
  lineIdSuffix: string,
): PendingLine {
  const text = adjustment.toString();
  const line = makeLine(
    state,
    {
      kind: 'cap_adjustment',
      creditId: context.credit.creditId,
      dealId,
      planVersionId: terms.planVersionId,
      componentKey: run.key,
      tier: null,
      rate: null,
      baseAmount: null,
      formula,
      sources: context.sources,
    },
    lineIdSuffix,
    text,
    adjustment,
    text,
  );
  return { line, rounded: adjustment, dealId, capPerDeal: null };
}

/**
 * Caps work on rounded line amounts, so a capped component pays the cap to the cent. The adjustment is
 * reconciled after each credit: target = min(0, cap − earned); a reversal that takes earnings back under
 * the cap gives the adjustment back.
 */
function applyDealCaps(state: CommissionPeriodState, run: ComponentRun, governing: RateTableTerms, pending: PendingLine[], context: CreditContext): void {
  // Deals in the order first touched, each with the cap of the last line that touched it.
  const touchedDealIds: string[] = [];
  const capByDeal: (Decimal | null)[] = [];
  for (const item of pending) {
    const dealId = item.dealId!;
    let tally = run.deals!.get(dealId);
    if (tally === undefined) {
      tally = { earned: zero, adjustment: zero };
      run.deals!.set(dealId, tally);
    }
    tally.earned = tally.earned.plus(item.rounded);
    const touched = touchedDealIds.indexOf(dealId);
    if (touched === -1) {
      touchedDealIds.push(dealId);
      capByDeal.push(item.capPerDeal);
    } else {
      capByDeal[touched] = item.capPerDeal;
    }
  }
  for (let index = 0; index < touchedDealIds.length; index++) {
    const dealId = touchedDealIds[index]!;
    const cap = capByDeal[index]!;
    const tally = run.deals!.get(dealId)!;
    if (tally.adjustment.isZero() && (cap === null || compareDecimals(tally.earned, cap) <= 0)) continue;
    const target = cap === null ? zero : Decimal.min(zero, cap.minus(tally.earned));
    const adjustment = target.minus(tally.adjustment);
    if (adjustment.isZero()) continue;
    tally.adjustment = target;
    const formula =
      cap === null
        ? `no per-deal cap in force: give back the earlier adjustment on deal ${dealId} = ${adjustment.toString()}`
        : `cap per deal ${cap.toString()}: earned on deal ${dealId} ${tally.earned.toString()}, capped by ${target.negated().toString()}, already adjusted ${tally.adjustment.minus(adjustment).negated().toString()} = ${adjustment.toString()}`;
    pending.push(capLine(state, run, governing, context, adjustment, dealId, formula, `cap_adjustment:${run.key}:deal:${dealId}:by:${context.credit.creditId}`));
  }
}

function applyPeriodCap(state: CommissionPeriodState, run: ComponentRun, governing: RateTableTerms, pending: PendingLine[], context: CreditContext): void {
  for (const item of pending) run.earnedBeforePeriodCap = run.earnedBeforePeriodCap.plus(item.rounded);
  const cap = governing.capPerPeriod;
  if (run.periodCapAdjustment.isZero() && (cap === null || compareDecimals(run.earnedBeforePeriodCap, cap) <= 0)) return;
  const target = cap === null ? zero : Decimal.min(zero, cap.minus(run.earnedBeforePeriodCap));
  const adjustment = target.minus(run.periodCapAdjustment);
  if (adjustment.isZero()) return;
  const previous = run.periodCapAdjustment;
  run.periodCapAdjustment = target;
  const formula =
    cap === null
      ? `no period cap in force: give back the earlier adjustment = ${adjustment.toString()}`
      : `cap per period ${cap.toString()}: earned ${run.earnedBeforePeriodCap.toString()}, capped by ${target.negated().toString()}, already adjusted ${previous.negated().toString()} = ${adjustment.toString()}`;
  pending.push(capLine(state, run, governing, context, adjustment, null, formula, `cap_adjustment:${run.key}:period:by:${context.credit.creditId}`));
}

/**
 * Threshold gate: below the threshold attainment, earned lines are emitted as held lines; the credit that
 * takes attainment to the threshold releases everything held so far. Once open, the gate stays open for
 * the period (a later reversal is handled by clawback, not by holding again).
 */
function settleThreshold(state: CommissionPeriodState, run: ComponentRun, governing: RateTableTerms, pending: PendingLine[], context: CreditContext): void {
  const internal = state.internal;
  let open = run.gateOpen || governing.thresholdAmount === null;
  if (!open && !governing.quotaMissing) {
    open = compareDecimals(internal.cumulative[internal.measureIndex.get(governing.measure)!]!, governing.thresholdAmount!) >= 0;
  }
  if (!open) {
    for (const item of pending) {
      const line = item.line;
      line.earnedAs = line.kind as 'commission' | 'true_up' | 'cap_adjustment';
      line.kind = 'held';
      line.heldReason = 'THRESHOLD_NOT_MET';
      line.formula = `held below threshold ${governing.thresholdText}: ${line.formula}`;
      emit(internal, line, item.rounded);
      run.heldOutstanding = run.heldOutstanding.plus(item.rounded);
      run.heldLineCount++;
      const heldEventIds = (run.heldEventIds ??= new Set());
      const heldSources = (run.heldSources ??= []);
      for (const source of line.sources) {
        if (heldEventIds.has(source.eventId)) continue;
        heldEventIds.add(source.eventId);
        heldSources.push(source);
      }
    }
    return;
  }
  for (const item of pending) emit(internal, item.line, item.rounded);
  if (run.gateOpen) return;
  run.gateOpen = true;
  if (run.heldLineCount === 0) return;
  const released = run.heldOutstanding;
  const text = released.toString();
  const line = makeLine(
    state,
    {
      kind: 'release',
      creditId: context.credit.creditId,
      dealId: context.credit.dealId,
      planVersionId: governing.planVersionId,
      componentKey: run.key,
      tier: null,
      rate: null,
      baseAmount: null,
      formula: `threshold ${governing.thresholdText ?? 'removed'} reached: release ${run.heldLineCount} held lines = ${text}`,
      sources: [...run.heldSources!, ...context.sources.filter((source) => !run.heldEventIds!.has(source.eventId))],
    },
    `release:${run.key}:by:${context.credit.creditId}`,
    text,
    released,
    text,
  );
  emit(internal, line, released);
  run.heldOutstanding = zero;
}

function stepSpif(state: CommissionPeriodState, terms: SpifTerms, context: CreditContext): void {
  const credit = context.credit;
  if (terms.filter.product !== undefined && terms.filter.product !== '' && credit.product !== terms.filter.product) return;
  if (terms.filter.dealType !== undefined && terms.filter.dealType !== '' && credit.dealType !== terms.filter.dealType) return;
  let unrounded: Decimal;
  let unroundedText: string;
  let baseText: string | null;
  let rateText: string | null;
  let formula: string;
  if (terms.flatAmount !== null) {
    // A flat SPIF is per deal: each payee gets it in proportion to their share.
    const shareText = context.share === null ? '1' : context.share.toString();
    unrounded = context.share === null ? terms.flatAmount : terms.flatAmount.times(context.share);
    unroundedText = unrounded.toString();
    baseText = terms.flatText;
    rateText = null;
    formula = `SPIF flat ${terms.flatText} × share ${shareText} = ${unroundedText}`;
  } else {
    let base: Decimal | null;
    let raw: string;
    if (terms.measure === null) {
      base = amountOfCredit(context);
      raw = credit.amount;
    } else {
      const measureIndex = state.internal.measureIndex.get(terms.measure)!;
      base = context.values[measureIndex] ?? null;
      raw = context.rawTexts[measureIndex] ?? '';
    }
    if (base === null) return;
    unrounded = base.times(terms.rateOfCredit!);
    unroundedText = unrounded.toString();
    baseText = base.toString();
    rateText = terms.rateOfCredit!.toString();
    const conversion = conversionText(context, raw);
    formula = `SPIF ${terms.percentText} of credit: ${conversion === '' ? '' : `(${conversion}) = `}${baseText} × ${rateText} = ${unroundedText}`;
  }
  const rounded = roundLine(state.internal, unrounded);
  const line = makeLine(
    state,
    {
      kind: 'spif',
      creditId: credit.creditId,
      dealId: credit.dealId,
      planVersionId: terms.planVersionId,
      componentKey: terms.componentKey,
      tier: null,
      rate: rateText,
      baseAmount: baseText,
      formula,
      sources: context.sources,
    },
    `spif:${terms.componentKey}:${credit.creditId}`,
    unroundedText,
    rounded,
    rounded === unrounded ? unroundedText : undefined,
  );
  emit(state.internal, line, rounded);
}

function stepMilestone(state: CommissionPeriodState, run: ComponentRun, terms: MilestoneTerms, context: CreditContext): void {
  const internal = state.internal;
  run.governing = terms;
  if (terms.quotaMissing) {
    holdCredit(internal, context.credit, 'QUOTA_MISSING', context.sources, terms.componentKey, terms.planVersionId);
    return;
  }
  const measureIndex = internal.measureIndex.get(terms.measure)!;
  const credited = internal.cumulative[measureIndex]!;
  for (const level of terms.levels) {
    const paid = (run.milestonesPaid ??= new Set());
    if (paid.has(level.levelKey) || compareDecimals(credited, level.levelAmount) < 0) continue;
    paid.add(level.levelKey);
    const rounded = roundLine(internal, level.bonus);
    const percent = attainmentPercent(credited, internal.quotas[measureIndex]!);
    const line = makeLine(
      state,
      {
        kind: 'bonus',
        creditId: context.credit.creditId,
        dealId: context.credit.dealId,
        planVersionId: terms.planVersionId,
        componentKey: terms.componentKey,
        tier: null,
        rate: null,
        baseAmount: null,
        formula: `milestone ${level.levelText} of ${terms.measure} reached at ${percent}%: bonus ${level.bonusText}`,
        sources: context.sources,
      },
      `bonus:${terms.componentKey}:${level.levelKey}`,
      level.bonusText,
      rounded,
    );
    emit(internal, line, rounded);
  }
}

/** The statement as it stands: lines so far, totals as sums of rounded lines, attainment, held credits. */
export function statementOf(state: CommissionPeriodState): Statement {
  const internal = state.internal;
  const digits = internal.minorDigits;
  const byKind = {} as Record<LineKind, string>;
  let payable = zero;
  const zeroText = internal.zeroText;
  lineKinds.forEach((kind, index) => {
    const total = internal.totalsByKind[index]!;
    if (total.isZero()) {
      byKind[kind] = zeroText;
      return;
    }
    byKind[kind] = amountText(internal, total);
    if (kind !== 'held') payable = payable.plus(total);
  });
  const held = internal.totalsByKind[kindIndex.get('held')!]!.minus(internal.totalsByKind[kindIndex.get('release')!]!);
  const attainment: AttainmentEntry[] = internal.measures.map((measure, index) => {
    const credited = internal.cumulative[index]!;
    const quota = internal.quotas[index]!;
    return {
      measure,
      credited: amountText(internal, credited.decimalPlaces() <= digits ? credited : credited.toDecimalPlaces(digits, Decimal.ROUND_HALF_EVEN)),
      quota: quota === null ? null : amountText(internal, quota),
      percent: quota !== null && credited.isZero() && !quota.isZero() ? '0.00' : attainmentPercent(credited, quota),
    };
  });
  return {
    payeeId: state.payeeId,
    periodId: state.periodId,
    periodStart: internal.setup.period.start,
    periodEnd: internal.setup.period.end,
    currency: state.currency,
    lines: internal.lines.slice(),
    totals: { currency: state.currency, payable: amountText(internal, payable), held: amountText(internal, held), byKind },
    attainment,
    heldCredits: internal.heldCredits.slice(),
  };
}
