import { Decimal } from 'decimal.js';
import { DomainError, validationError } from '#lib/shared/domain/domain-error.js';
import { isDecimalString, minorUnits, Money } from '#lib/shared/domain/money.js';
import {
  calendarIdOf,
  clawbackWindowAnchors,
  clawbackWindowUnits,
  drawKinds,
  periodFrequencies,
  rateTableModes,
  tierBases,
  type ClawbackTermsInput,
  type ComponentInput,
  type DrawTermsInput,
  type MilestoneBonusComponentInput,
  type PlanAssignmentInput,
  type PlanVersionInput,
  type QuotaInput,
  type RateTableComponentInput,
  type SpifComponentInput,
} from './commission-plan.js';
import { isDateString } from './effective-dating.js';

/**
 * Rules a plan version must meet before it can price anything. Each broken rule is one DomainError with a
 * stable code and the field path it concerns (e.g. `components[0].tiers[1].from`), so an editor can show
 * every problem at once. The input is typed, but arrives as JSON: unknown enum values are checked too.
 */

const currencyPattern = /^[A-Z]{3}$/;
const calendarIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Fifty years: a benefit period or a clawback window longer than that is a typo. */
const MAX_MONTHS = 600;
const MAX_WINDOW_DAYS = 3650;

class Problems {
  readonly errors: DomainError[] = [];
  add(code: string, field: string, message: string): void {
    this.errors.push(validationError(code, `${field} ${message}`, [{ field, message }]));
  }
  /** A decimal string, or a problem; returns the parsed value when it is one. */
  decimal(value: unknown, field: string, options: { allowNegative?: boolean; negativeCode?: string } = {}): Decimal | null {
    if (!isDecimalString(value)) {
      this.add('PLAN.DECIMAL_INVALID', field, 'must be a decimal string such as "0.10"');
      return null;
    }
    const parsed = new Money(value);
    if (!options.allowNegative && parsed.isNegative() && !parsed.isZero()) {
      this.add(options.negativeCode ?? 'PLAN.NEGATIVE', field, 'must not be negative');
      return null;
    }
    return parsed;
  }
}

export function validatePlanVersion(plan: PlanVersionInput): DomainError[] {
  const problems = new Problems();
  if (typeof plan.id !== 'string' || plan.id === '') problems.add('PLAN.ID_REQUIRED', 'id', 'is required');
  if (typeof plan.planId !== 'string' || plan.planId === '') problems.add('PLAN.ID_REQUIRED', 'planId', 'is required');
  if (!Number.isInteger(plan.version) || plan.version < 1) problems.add('PLAN.VERSION_INVALID', 'version', 'must be a positive integer');
  if (!isDateString(plan.effectiveFrom)) problems.add('PLAN.DATE_INVALID', 'effectiveFrom', "must be a date 'YYYY-MM-DD'");
  const currencyValid = typeof plan.currency === 'string' && currencyPattern.test(plan.currency);
  if (!currencyValid) problems.add('PLAN.CURRENCY_INVALID', 'currency', 'must be an ISO 4217 code such as "USD"');
  if (!(periodFrequencies as readonly string[]).includes(plan.periodFrequency)) {
    problems.add('PLAN.FREQUENCY_UNKNOWN', 'periodFrequency', `must be one of ${periodFrequencies.join(', ')}`);
  }
  if (plan.capitalizable === true) {
    if (!Number.isInteger(plan.benefitMonths) || (plan.benefitMonths as number) < 1) {
      problems.add('PLAN.BENEFIT_MONTHS_INVALID', 'benefitMonths', 'must be a positive whole number of months for a capitalizable plan');
    }
  } else if (plan.capitalizable !== false) {
    problems.add('PLAN.CAPITALIZABLE_INVALID', 'capitalizable', 'must be true or false');
  } else if (plan.benefitMonths !== null && plan.benefitMonths !== undefined) {
    problems.add('PLAN.BENEFIT_MONTHS_INVALID', 'benefitMonths', 'must be null when the plan is not capitalizable');
  }
  if (plan.calendarId !== undefined && (typeof plan.calendarId !== 'string' || !calendarIdPattern.test(plan.calendarId))) {
    problems.add('PLAN.CALENDAR_INVALID', 'calendarId', 'must be 1 to 64 letters, digits, ".", "_" or "-"');
  }
  if (plan.clawback !== undefined && plan.clawback !== null) validateClawback(plan.clawback, problems);
  if (plan.draw !== undefined && plan.draw !== null) validateDraw(plan.draw, currencyValid ? plan.currency : null, problems);
  if (!Array.isArray(plan.components) || plan.components.length === 0) {
    problems.add('PLAN.COMPONENTS_EMPTY', 'components', 'must hold at least one component');
    return problems.errors;
  }
  const componentIds = new Set<string>();
  plan.components.forEach((component, index) => {
    const path = `components[${index}]`;
    if (typeof component.id !== 'string' || component.id === '' || component.id.includes('/')) {
      problems.add('PLAN.COMPONENT_ID_INVALID', `${path}.id`, "is required and must not contain '/'");
    } else if (componentIds.has(component.id)) {
      problems.add('PLAN.COMPONENT_ID_DUPLICATE', `${path}.id`, `repeats component id "${component.id}"`);
    }
    componentIds.add(component.id);
    validateComponent(component, path, currencyValid ? plan.currency : null, problems);
    if (component.benefitMonths !== undefined && component.benefitMonths !== null && !isMonthCount(component.benefitMonths)) {
      problems.add('PLAN.BENEFIT_MONTHS_INVALID', `${path}.benefitMonths`, `must be a whole number of months from 1 to ${MAX_MONTHS}, or null`);
    }
  });
  return problems.errors;
}

const isMonthCount = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_MONTHS;

function validateClawback(clawback: ClawbackTermsInput, problems: Problems): void {
  const window = clawback.window;
  if (window === null || typeof window !== 'object' || !(clawbackWindowUnits as readonly string[]).includes(window.unit)) {
    problems.add('PLAN.CLAWBACK_WINDOW_INVALID', 'clawback.window.unit', `must be one of ${clawbackWindowUnits.join(', ')}`);
  } else {
    const longest = window.unit === 'days' ? MAX_WINDOW_DAYS : MAX_MONTHS;
    if (!Number.isInteger(window.length) || window.length < 0 || window.length > longest) {
      problems.add('PLAN.CLAWBACK_WINDOW_INVALID', 'clawback.window.length', `must be a whole number of ${window.unit} from 0 to ${longest}`);
    }
  }
  if (!(clawbackWindowAnchors as readonly string[]).includes(clawback.windowStartsFrom)) {
    problems.add('PLAN.CLAWBACK_ANCHOR_UNKNOWN', 'clawback.windowStartsFrom', `must be one of ${clawbackWindowAnchors.join(', ')}`);
  }
  const percent = problems.decimal(clawback.percent, 'clawback.percent', { negativeCode: 'PLAN.CLAWBACK_PERCENT_INVALID' });
  if (percent !== null && percent.greaterThan(100)) problems.add('PLAN.CLAWBACK_PERCENT_INVALID', 'clawback.percent', 'must be from 0 to 100');
  if (typeof clawback.reducesAttainment !== 'boolean') {
    problems.add('PLAN.CLAWBACK_ATTAINMENT_INVALID', 'clawback.reducesAttainment', 'must be true or false');
  }
}

function validateDraw(draw: DrawTermsInput, currency: string | null, problems: Problems): void {
  if (!(drawKinds as readonly string[]).includes(draw.kind)) problems.add('PLAN.DRAW_KIND_UNKNOWN', 'draw.kind', `must be one of ${drawKinds.join(', ')}`);
  const amount = problems.decimal(draw.amountPerPeriod, 'draw.amountPerPeriod', { negativeCode: 'PLAN.DRAW_NEGATIVE' });
  if (amount !== null && currency !== null && amount.decimalPlaces() > minorUnits(currency)) {
    problems.add('PLAN.DRAW_PRECISION', 'draw.amountPerPeriod', `must not have more than ${minorUnits(currency)} decimals in ${currency}`);
  }
}

function validateComponent(component: ComponentInput, path: string, currency: string | null, problems: Problems): void {
  switch (component.kind) {
    case 'rate_table':
      validateRateTable(component, path, currency, problems);
      return;
    case 'spif':
      validateSpif(component, path, problems);
      return;
    case 'milestone_bonus':
      validateMilestones(component, path, problems);
      return;
    default:
      problems.add('PLAN.COMPONENT_KIND_UNKNOWN', `${path}.kind`, 'must be one of rate_table, spif, milestone_bonus');
  }
}

function requireMeasure(measure: unknown, field: string, problems: Problems): void {
  if (typeof measure !== 'string' || measure === '') problems.add('PLAN.MEASURE_REQUIRED', field, 'must name a measure such as "bookings"');
}

function validateRateTable(component: RateTableComponentInput, path: string, currency: string | null, problems: Problems): void {
  requireMeasure(component.measure, `${path}.measure`, problems);
  if (!(rateTableModes as readonly string[]).includes(component.mode)) {
    problems.add('PLAN.MODE_UNKNOWN', `${path}.mode`, `must be one of ${rateTableModes.join(', ')}`);
  }
  if (!(tierBases as readonly string[]).includes(component.basis)) {
    problems.add('PLAN.BASIS_UNKNOWN', `${path}.basis`, `must be one of ${tierBases.join(', ')}`);
  }
  validateTiers(component, path, problems);

  const hasBaseRate = component.baseRate !== undefined && component.baseRate !== null;
  const hasTargetIncentive = component.targetIncentive !== undefined && component.targetIncentive !== null;
  if (hasBaseRate && hasTargetIncentive) {
    problems.add('PLAN.BASE_RATE_AMBIGUOUS', `${path}.baseRate`, 'give a base rate or a target incentive, not both');
  }
  if (hasBaseRate) problems.decimal(component.baseRate, `${path}.baseRate`, { negativeCode: 'PLAN.RATE_NEGATIVE' });
  if (hasTargetIncentive) problems.decimal(component.targetIncentive, `${path}.targetIncentive`, { negativeCode: 'PLAN.TARGET_INCENTIVE_NEGATIVE' });
  const usesMultiplier = Array.isArray(component.tiers) && component.tiers.some((tier) => tier?.multiplier !== undefined);
  if (usesMultiplier && !hasBaseRate && !hasTargetIncentive) {
    problems.add('PLAN.BASE_RATE_MISSING', `${path}.baseRate`, 'is required (or a target incentive) when a tier gives a multiplier');
  }

  for (const capField of ['capPerPeriod', 'capPerDeal'] as const) {
    const cap = component[capField];
    if (cap === undefined || cap === null) continue;
    const parsed = problems.decimal(cap, `${path}.${capField}`, { negativeCode: 'PLAN.CAP_NEGATIVE' });
    if (parsed !== null && currency !== null && parsed.decimalPlaces() > minorUnits(currency)) {
      problems.add('PLAN.CAP_PRECISION', `${path}.${capField}`, `must not have more than ${minorUnits(currency)} decimals in ${currency}`);
    }
  }
  if (component.thresholdPercent !== undefined && component.thresholdPercent !== null) {
    problems.decimal(component.thresholdPercent, `${path}.thresholdPercent`, { negativeCode: 'PLAN.THRESHOLD_NEGATIVE' });
  }
}

function validateTiers(component: RateTableComponentInput, path: string, problems: Problems): void {
  if (!Array.isArray(component.tiers) || component.tiers.length === 0) {
    problems.add('PLAN.TIERS_EMPTY', `${path}.tiers`, 'must hold at least one tier');
    return;
  }
  let previousTo: Decimal | null | undefined; // undefined: no previous tier; null: previous tier is open
  component.tiers.forEach((tier, index) => {
    const tierPath = `${path}.tiers[${index}]`;
    const from = problems.decimal(tier.from, `${tierPath}.from`, { negativeCode: 'PLAN.TIER_BOUND_NEGATIVE' });
    const to = tier.to === null ? null : problems.decimal(tier.to, `${tierPath}.to`, { negativeCode: 'PLAN.TIER_BOUND_NEGATIVE' });
    if (index === 0 && from !== null && !from.isZero()) {
      problems.add('PLAN.TIERS_NOT_FROM_ZERO', `${tierPath}.from`, 'must be 0: the first tier starts at zero');
    }
    if (from !== null && to !== null && to.lte(from)) {
      problems.add('PLAN.TIER_RANGE_EMPTY', `${tierPath}.to`, 'must be above from');
    }
    if (index > 0 && from !== null) {
      if (previousTo === null || (previousTo !== undefined && from.lt(previousTo))) {
        problems.add('PLAN.TIERS_OVERLAP', `${tierPath}.from`, 'overlaps the tier before it');
      } else if (previousTo !== undefined && from.gt(previousTo)) {
        problems.add('PLAN.TIERS_GAP', `${tierPath}.from`, 'leaves a gap after the tier before it');
      }
    }
    if (index === component.tiers.length - 1 && tier.to !== null) {
      problems.add('PLAN.TIERS_NOT_OPEN_ENDED', `${tierPath}.to`, 'must be null: the last tier is open-ended');
    }
    previousTo = tier.to === null ? null : (to ?? undefined);
    const hasRate = tier.rate !== undefined && tier.rate !== null;
    const hasMultiplier = tier.multiplier !== undefined && tier.multiplier !== null;
    if (hasRate === hasMultiplier) {
      problems.add('PLAN.TIER_RATE_AMBIGUOUS', `${tierPath}.rate`, 'give exactly one of rate and multiplier');
    }
    if (hasRate) problems.decimal(tier.rate, `${tierPath}.rate`, { negativeCode: 'PLAN.RATE_NEGATIVE' });
    if (hasMultiplier) problems.decimal(tier.multiplier, `${tierPath}.multiplier`, { negativeCode: 'PLAN.RATE_NEGATIVE' });
  });
}

function validateSpif(component: SpifComponentInput, path: string, problems: Problems): void {
  const filter = component.filter ?? {};
  const hasProduct = typeof filter.product === 'string' && filter.product !== '';
  const hasDealType = typeof filter.dealType === 'string' && filter.dealType !== '';
  if (!hasProduct && !hasDealType) problems.add('PLAN.SPIF_FILTER_EMPTY', `${path}.filter`, 'must name a product, a deal type or both');
  if (component.measure !== undefined) requireMeasure(component.measure, `${path}.measure`, problems);
  const payout = component.payout;
  if (payout?.type === 'flat') {
    problems.decimal(payout.amount, `${path}.payout.amount`, { negativeCode: 'PLAN.SPIF_NEGATIVE' });
  } else if (payout?.type === 'percent_of_credit') {
    problems.decimal(payout.percent, `${path}.payout.percent`, { negativeCode: 'PLAN.SPIF_NEGATIVE' });
  } else {
    problems.add('PLAN.SPIF_PAYOUT_UNKNOWN', `${path}.payout.type`, 'must be flat or percent_of_credit');
  }
}

function validateMilestones(component: MilestoneBonusComponentInput, path: string, problems: Problems): void {
  requireMeasure(component.measure, `${path}.measure`, problems);
  if (!Array.isArray(component.milestones) || component.milestones.length === 0) {
    problems.add('PLAN.MILESTONES_EMPTY', `${path}.milestones`, 'must hold at least one milestone');
    return;
  }
  const levels = new Set<string>();
  component.milestones.forEach((milestone, index) => {
    const milestonePath = `${path}.milestones[${index}]`;
    const level = problems.decimal(milestone.attainmentPercent, `${milestonePath}.attainmentPercent`, { negativeCode: 'PLAN.MILESTONE_NEGATIVE' });
    problems.decimal(milestone.amount, `${milestonePath}.amount`, { negativeCode: 'PLAN.MILESTONE_NEGATIVE' });
    if (level === null) return;
    const key = level.toString();
    if (levels.has(key)) problems.add('PLAN.MILESTONE_DUPLICATE', `${milestonePath}.attainmentPercent`, 'repeats a milestone level');
    levels.add(key);
  });
}

/**
 * Rules across the versions of one plan: unique version numbers and dates, versions dated in version order,
 * and the same currency, period frequency and calendar throughout (a statement is in one currency, per one calendar).
 */
export function validatePlanHistory(versions: readonly PlanVersionInput[]): DomainError[] {
  const problems = new Problems();
  const byVersion = [...versions].sort((left, right) => left.version - right.version);
  const dates = new Set<string>();
  byVersion.forEach((version, index) => {
    const path = `versions[${versions.indexOf(version)}]`;
    const previous = byVersion[index - 1];
    if (previous !== undefined && previous.planId !== version.planId) {
      problems.add('PLAN.HISTORY_MIXED', `${path}.planId`, 'must be the same plan as the other versions');
    }
    if (previous !== undefined && previous.version === version.version) {
      problems.add('PLAN.VERSION_DUPLICATE', `${path}.version`, `repeats version ${version.version}`);
    } else if (previous !== undefined && previous.effectiveFrom >= version.effectiveFrom) {
      problems.add('PLAN.VERSION_ORDER', `${path}.effectiveFrom`, 'must be after the effective date of the version before it');
    }
    if (dates.has(version.effectiveFrom)) problems.add('PLAN.EFFECTIVE_FROM_DUPLICATE', `${path}.effectiveFrom`, 'repeats another version’s date');
    dates.add(version.effectiveFrom);
    if (previous !== undefined && previous.currency !== version.currency) {
      problems.add('PLAN.CURRENCY_CHANGED', `${path}.currency`, `must stay ${previous.currency} across versions`);
    }
    if (previous !== undefined && previous.periodFrequency !== version.periodFrequency) {
      problems.add('PLAN.FREQUENCY_CHANGED', `${path}.periodFrequency`, `must stay ${previous.periodFrequency} across versions`);
    } else if (previous !== undefined && calendarIdOf(previous) !== calendarIdOf(version)) {
      problems.add('PLAN.CALENDAR_CHANGED', `${path}.calendarId`, `must stay ${calendarIdOf(previous)} across versions: its periods are closed in that calendar`);
    }
  });
  return problems.errors;
}

export function validateAssignment(assignment: PlanAssignmentInput): DomainError[] {
  const problems = new Problems();
  if (!isDateString(assignment.effectiveFrom)) problems.add('ASSIGNMENT.DATE_INVALID', 'effectiveFrom', "must be a date 'YYYY-MM-DD'");
  if (assignment.effectiveUntil !== null) {
    if (!isDateString(assignment.effectiveUntil)) problems.add('ASSIGNMENT.DATE_INVALID', 'effectiveUntil', "must be a date 'YYYY-MM-DD' or null");
    else if (assignment.effectiveUntil <= assignment.effectiveFrom) problems.add('ASSIGNMENT.RANGE_EMPTY', 'effectiveUntil', 'must be after effectiveFrom');
  }
  return problems.errors;
}

export function validateQuota(quota: QuotaInput): DomainError[] {
  const problems = new Problems();
  requireMeasure(quota.measure, 'measure', problems);
  problems.decimal(quota.amount, 'amount', { negativeCode: 'QUOTA.NEGATIVE' });
  if (!isDateString(quota.effectiveFrom)) problems.add('QUOTA.DATE_INVALID', 'effectiveFrom', "must be a date 'YYYY-MM-DD'");
  return problems.errors;
}

/** One error carrying every field problem, for a caller that rejects the whole input at once. */
export function combineErrors(errors: readonly DomainError[], code: string, message: string): DomainError | null {
  if (errors.length === 0) return null;
  return validationError(code, `${message}: ${errors.map((error) => error.code).join(', ')}`, errors.flatMap((error) => error.fields));
}
