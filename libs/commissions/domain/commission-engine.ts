import { Decimal } from 'decimal.js';
import { conflictError, validationError } from '#lib/shared/domain/domain-error.js';
import { isDecimalString, minorUnits, parseDecimal } from '#lib/shared/domain/money.js';
import type { PlanVersionInput } from './commission-plan.js';
import { stepMilestone, stepSpif } from './bonus-steps.js';
import { compileVersionTerms, type ComponentTerms, type MilestoneTerms, type RateTableTerms, type SpifTerms, type VersionTerms } from './component-terms.js';
import { isDateString, timeWeightedQuota } from './effective-dating.js';
import {
  amountText,
  attainmentPercentText,
  convertCredited,
  holdCredit,
  kindIndex,
  measureChanged,
  zero,
  zeroTextOf,
  type CommissionPeriodState,
  type ComponentRun,
  type CreditContext,
  type PeriodInternals,
  type Resolution,
} from './engine-state.js';
import {
  assignedPlanIds,
  assignmentsOf,
  capTrackingOf,
  fxIndexOf,
  fxRateFor,
  measureTableOf,
  noVersions,
  statementCurrency,
  versionIndexOf,
  versionInForce,
} from './input-indexes.js';
import { combineErrors, validateQuota } from './plan-validation.js';
import { stepRateTable } from './rate-table-step.js';
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

export type { CommissionPeriodState } from './engine-state.js';

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

export interface PeriodOptions {
  /**
   * Whether the state keeps every line (default true), so that `statementOf` lists them. A caller that stores each
   * credit's lines as `applyCredit` hands them out (a projection writing them to a table) passes false: the state then
   * holds no line once it is handed out, only the count and the totals, and is read with `statementSummaryOf`. A
   * projection keeping thousands of states in memory spares the garbage collector every line it has already stored.
   */
  keepLines?: boolean;
}

/** Begins a payee-period. Throws a validation DomainError on a broken plan, assignment, quota or FX row. */
export function startPeriod(setup: PeriodSetupInput, options: PeriodOptions = {}): CommissionPeriodState {
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
      resolutionSegments: null,
      termsByVersionId: new Map(),
      fxRates: fxIndexOf(setup),
      runs: [],
      runByKey: new Map(),
      applied: new Map(),
      lastApplied: null,
      lines: [],
      keepLines: options.keepLines ?? true,
      linesHandedOut: 0,
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
  if (!admit(internal, credit)) return { state, newLines: [], newHeldCredits: [] };
  const linesBefore = internal.lines.length;
  const heldBefore = internal.heldCredits.length;
  foldCredit(state, credit);
  const newHeldCredits = internal.heldCredits.slice(heldBefore);
  if (internal.keepLines) return { state, newLines: internal.lines.slice(linesBefore), newHeldCredits };
  // Without kept lines the list only ever holds this credit's: hand it over and start a new one.
  const newLines = internal.lines;
  internal.linesHandedOut += newLines.length;
  internal.lines = [];
  return { state, newLines, newHeldCredits };
}

/** How many lines the statement has so far, kept or handed out. */
export const lineCountOf = (state: CommissionPeriodState): number => state.internal.linesHandedOut + state.internal.lines.length;

/** The full recompute: the closed result of a period, independent of the order credits arrived in. */
export function computeStatement(input: StatementInput): Statement {
  const state = startPeriod(input);
  for (const credit of [...input.credits].sort(compareCredits)) {
    if (admit(state.internal, credit)) foldCredit(state, credit);
  }
  return statementOf(state);
}

/** Records a credit as applied; false for a repeat of one already applied from the same event. */
function admit(internal: PeriodInternals, credit: CreditInput): boolean {
  const previous = internal.applied.get(credit.creditId);
  if (previous !== undefined) {
    if (previous.eventId === credit.eventId && previous.position === credit.position) return false;
    throw conflictError('CREDIT.DUPLICATE_ID', `Credit ${credit.creditId} was already applied from event ${previous.eventId}`);
  }
  internal.applied.set(credit.creditId, credit);
  if (internal.lastApplied === null || compareCredits(internal.lastApplied, credit) < 0) internal.lastApplied = credit;
  return true;
}

/**
 * What prices a credit dated `date`. Plans and versions only change on a few dates in a period, so the
 * period is cut into segments at those dates once, and a credit takes the segment its date falls in.
 */
function resolve(internal: PeriodInternals, currency: string, date: string): Resolution {
  let segments = internal.resolutionSegments;
  if (segments === null) {
    segments = [];
    for (const from of changeDates(internal)) segments.push({ from, resolution: resolveOn(internal, currency, from) });
    internal.resolutionSegments = segments;
  }
  for (let index = segments.length - 1; index > 0; index--) {
    if (segments[index]!.from <= date) return segments[index]!.resolution;
  }
  return segments[0]!.resolution;
}

/** The period start and every date inside the period on which an assignment or a plan version starts or ends. */
function changeDates(internal: PeriodInternals): string[] {
  const { start, end } = internal.setup.period;
  const dates = [start];
  const add = (date: string | null): void => {
    if (date !== null && date > start && date <= end && !dates.includes(date)) dates.push(date);
  };
  for (const assignment of internal.assignments) {
    add(assignment.effectiveFrom);
    add(assignment.effectiveUntil);
    for (const version of internal.versionsByPlanId.get(assignment.planId) ?? []) add(version.effectiveFrom);
  }
  return dates.sort();
}

function resolveOn(internal: PeriodInternals, currency: string, date: string): Resolution {
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
  return { heldReason, versions, mismatched };
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
    fxRate = fxRateFor(internal.fxRates, credit.currency, state.currency, credit.creditDate);
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


/** A component absent from the credit's version still moves when the credit shifts its measure. */
function runNeedsStep(internal: PeriodInternals, run: ComponentRun, context: CreditContext): boolean {
  for (const group of run.retroGroups) if (measureChanged(context, group.measureIndex)) return true;
  if (run.heldLineCount > 0 && !run.gateOpen && run.governing.kind === 'rate_table') {
    return measureChanged(context, internal.measureIndex.get(run.governing.measure)!);
  }
  return false;
}


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

/** The statement as it stands: lines so far, totals as sums of rounded lines, attainment, held credits. */
export function statementOf(state: CommissionPeriodState): Statement {
  if (!state.internal.keepLines) throw new Error(`The state of ${state.periodId} for ${state.payeeId} keeps no lines: read it with statementSummaryOf`);
  const { totals, attainment, heldCredits } = statementSummaryOf(state);
  const internal = state.internal;
  return {
    payeeId: state.payeeId,
    periodId: state.periodId,
    periodStart: internal.setup.period.start,
    periodEnd: internal.setup.period.end,
    currency: state.currency,
    lines: internal.lines.slice(),
    totals,
    attainment,
    heldCredits,
  };
}

/** A statement as it stands without its lines: what a caller that stores lines as they come (keepLines false) reads. */
export interface StatementSummary extends Omit<Statement, 'lines'> {
  lineCount: number;
}

export function statementSummaryOf(state: CommissionPeriodState): StatementSummary {
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
  const heldTotal = internal.totalsByKind[kindIndex.get('held')!]!;
  const releaseTotal = internal.totalsByKind[kindIndex.get('release')!]!;
  const held = releaseTotal.isZero() ? heldTotal : heldTotal.minus(releaseTotal);
  const attainment: AttainmentEntry[] = internal.measures.map((measure, index) => {
    const credited = internal.cumulative[index]!;
    const quota = internal.quotas[index]!;
    return {
      measure,
      credited: amountText(internal, credited.decimalPlaces() <= digits ? credited : credited.toDecimalPlaces(digits, Decimal.ROUND_HALF_EVEN)),
      quota: quota === null ? null : amountText(internal, quota),
      percent: attainmentPercentText(credited, quota),
    };
  });
  return {
    payeeId: state.payeeId,
    periodId: state.periodId,
    periodStart: internal.setup.period.start,
    periodEnd: internal.setup.period.end,
    currency: state.currency,
    lineCount: lineCountOf(state),
    totals: { currency: state.currency, payable: amountText(internal, payable), held: amountText(internal, held), byKind },
    attainment,
    heldCredits: internal.heldCredits.slice(),
  };
}
