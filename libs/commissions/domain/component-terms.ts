import { Decimal } from 'decimal.js';
import { Money } from '#lib/shared/domain/money.js';
import type {
  ComponentInput,
  MilestoneBonusComponentInput,
  PlanVersionInput,
  RateTableComponentInput,
  RateTableMode,
  SpifComponentInput,
  SpifFilter,
  TierBasis,
} from './commission-plan.js';
import { compareDecimals } from './decimal-compare.js';
import { combineErrors, validatePlanVersion } from './plan-validation.js';

/**
 * A plan version's components turned into the numbers one period needs: tier bounds in plan-currency
 * amounts (attainment bounds times the period's quota), effective tier rates (multipliers times the base
 * rate), caps and thresholds as amounts, and the text the formulas show. Parsing and validation happen once
 * per plan version object; only the quota-dependent part is redone per payee-period.
 */

export interface PricedTier {
  /** 1-based, as a finance reader counts tiers. */
  tierNumber: number;
  fromAmount: Decimal;
  /** null: open-ended. */
  toAmount: Decimal | null;
  rate: Decimal;
  rateText: string;
  /** e.g. "tier 2 [50%, 100%) rate 0.1 × 1.5 = 0.15: ". */
  formulaPrefix: string;
}

interface TermsBase {
  componentKey: string;
  componentId: string;
  planVersionId: string;
  /** Set when the component needs a quota (attainment tiers, derived base rate, threshold, milestone) and has none. */
  quotaMissing: boolean;
}

export interface RateTableTerms extends TermsBase {
  kind: 'rate_table';
  measure: string;
  mode: RateTableMode;
  basis: TierBasis;
  tiers: PricedTier[];
  capPerPeriod: Decimal | null;
  capPerDeal: Decimal | null;
  thresholdAmount: Decimal | null;
  thresholdText: string | null;
}

export interface SpifTerms extends TermsBase {
  kind: 'spif';
  filter: SpifFilter;
  measure: string | null;
  flatAmount: Decimal | null;
  flatText: string | null;
  /** percent / 100 */
  rateOfCredit: Decimal | null;
  percentText: string | null;
}

export interface MilestoneLevel {
  levelKey: string;
  levelText: string;
  levelAmount: Decimal;
  bonus: Decimal;
  bonusText: string;
}

export interface MilestoneTerms extends TermsBase {
  kind: 'milestone_bonus';
  measure: string;
  levels: MilestoneLevel[];
}

export type ComponentTerms = RateTableTerms | SpifTerms | MilestoneTerms;

export interface VersionTerms {
  version: PlanVersionInput;
  components: ComponentTerms[];
  byKey: Map<string, ComponentTerms>;
}

export const componentKeyOf = (planId: string, componentId: string): string => `${planId}/${componentId}`;

const measuresByVersion = new WeakMap<PlanVersionInput, readonly string[]>();

/** Measures a plan version's components count (rate tables, milestones, measured SPIFs), without repeats. */
export function measuresOf(version: PlanVersionInput): readonly string[] {
  let measures = measuresByVersion.get(version);
  if (measures === undefined) {
    const found = new Set<string>();
    for (const component of version.components) {
      if (component.kind !== 'spif') found.add(component.measure);
      else if (component.measure !== undefined) found.add(component.measure);
    }
    measures = [...found].sort();
    measuresByVersion.set(version, measures);
  }
  return measures;
}

interface ParsedTier {
  from: Decimal;
  to: Decimal | null;
  rate: Decimal | null;
  multiplier: Decimal | null;
  fromText: string;
  toText: string | null;
  rateText: string | null;
  multiplierText: string | null;
}

interface ParsedPlan {
  version: PlanVersionInput;
  tiersByComponentId: Map<string, ParsedTier[]>;
}

const parsedPlans = new WeakMap<PlanVersionInput, ParsedPlan>();

const optionalDecimal = (value: string | null | undefined): Decimal | null =>
  value === undefined || value === null ? null : new Money(value);

/**
 * Validates a plan version once per object and keeps its parsed tiers. A plan that breaks a rule is refused
 * with one 'PLAN.INVALID' error carrying every field problem; plan editors should have refused it earlier.
 */
function parsePlan(version: PlanVersionInput): ParsedPlan {
  const cached = parsedPlans.get(version);
  if (cached !== undefined) return cached;
  const invalid = combineErrors(validatePlanVersion(version), 'PLAN.INVALID', `Plan version ${version.id} is invalid`);
  if (invalid !== null) throw invalid;
  const tiersByComponentId = new Map<string, ParsedTier[]>();
  for (const component of version.components) {
    if (component.kind !== 'rate_table') continue;
    tiersByComponentId.set(
      component.id,
      component.tiers.map((tier) => ({
        from: new Money(tier.from),
        to: optionalDecimal(tier.to),
        rate: optionalDecimal(tier.rate),
        multiplier: optionalDecimal(tier.multiplier),
        fromText: new Money(tier.from).toString(),
        toText: tier.to === null ? null : new Money(tier.to).toString(),
        rateText: tier.rate === undefined ? null : new Money(tier.rate).toString(),
        multiplierText: tier.multiplier === undefined ? null : new Money(tier.multiplier).toString(),
      })),
    );
  }
  const parsed = { version, tiersByComponentId };
  parsedPlans.set(version, parsed);
  return parsed;
}

const hundred = new Money(100);

/**
 * Compiled terms depend only on the version and the quotas of the measures it counts, and payees on the same
 * plan often share a quota: keep a bounded number of compilations per version. Terms are never mutated.
 */
const compiledByVersion = new WeakMap<PlanVersionInput, Map<string, VersionTerms>>();
const compilationsKeptPerVersion = 4096;

/** Compiles a plan version for one payee-period, given the period's quota per measure. */
export function compileVersionTerms(version: PlanVersionInput, quotaByMeasure: ReadonlyMap<string, Decimal | null>): VersionTerms {
  let compiled = compiledByVersion.get(version);
  if (compiled === undefined) {
    compiled = new Map();
    compiledByVersion.set(version, compiled);
  }
  let quotaKey = '';
  for (const measure of measuresOf(version)) quotaKey += `${measure}=${quotaByMeasure.get(measure)?.toString() ?? ''};`;
  const cached = compiled.get(quotaKey);
  if (cached !== undefined) return cached;
  const parsed = parsePlan(version);
  const components = version.components.map((component) => compileComponent(component, parsed, quotaByMeasure));
  const terms = { version, components, byKey: new Map(components.map((item) => [item.componentKey, item])) };
  if (compiled.size >= compilationsKeptPerVersion) compiled.clear();
  compiled.set(quotaKey, terms);
  return terms;
}

function usableQuota(quotaByMeasure: ReadonlyMap<string, Decimal | null>, measure: string): Decimal | null {
  const quota = quotaByMeasure.get(measure) ?? null;
  return quota === null || quota.isZero() ? null : quota;
}

function compileComponent(component: ComponentInput, parsed: ParsedPlan, quotaByMeasure: ReadonlyMap<string, Decimal | null>): ComponentTerms {
  switch (component.kind) {
    case 'rate_table':
      return compileRateTable(component, parsed, usableQuota(quotaByMeasure, component.measure));
    case 'spif':
      return compileSpif(component, parsed.version);
    case 'milestone_bonus':
      return compileMilestones(component, parsed.version, usableQuota(quotaByMeasure, component.measure));
  }
}

function compileRateTable(component: RateTableComponentInput, parsed: ParsedPlan, quota: Decimal | null): RateTableTerms {
  const version = parsed.version;
  const tiers = parsed.tiersByComponentId.get(component.id)!;
  const threshold = optionalDecimal(component.thresholdPercent);
  const targetIncentive = optionalDecimal(component.targetIncentive);
  const needsQuota = component.basis === 'attainment' || targetIncentive !== null || threshold !== null;
  const quotaMissing = needsQuota && quota === null;
  // With no quota the terms still compile (against a quota of one) so the shape is uniform; the engine holds
  // every credit of a quotaMissing component instead of pricing it.
  const quotaUsed = quota ?? new Money(1);
  let baseRate: Decimal | null = optionalDecimal(component.baseRate);
  let baseRateText = baseRate === null ? '' : baseRate.toString();
  if (targetIncentive !== null) {
    baseRate = targetIncentive.div(quotaUsed);
    baseRateText = `${targetIncentive.toString()} / ${quotaUsed.toString()}`;
  }
  const isAttainment = component.basis === 'attainment';
  const boundText = (text: string | null): string => (text === null ? '∞' : isAttainment ? `${text}%` : text);
  const pricedTiers = tiers.map((tier, index): PricedTier => {
    const rate = tier.rate ?? baseRate!.times(tier.multiplier!);
    const rateText = rate.toString();
    const rateExplained = tier.rate !== null ? rateText : `${baseRateText} × ${tier.multiplierText} = ${rateText}`;
    return {
      tierNumber: index + 1,
      fromAmount: isAttainment ? tier.from.times(quotaUsed).div(hundred) : tier.from,
      toAmount: tier.to === null ? null : isAttainment ? tier.to.times(quotaUsed).div(hundred) : tier.to,
      rate,
      rateText,
      formulaPrefix: `tier ${index + 1} [${boundText(tier.fromText)}, ${boundText(tier.toText)}) rate ${rateExplained}: `,
    };
  });
  return {
    kind: 'rate_table',
    componentKey: componentKeyOf(version.planId, component.id),
    componentId: component.id,
    planVersionId: version.id,
    quotaMissing,
    measure: component.measure,
    mode: component.mode,
    basis: component.basis,
    tiers: pricedTiers,
    capPerPeriod: optionalDecimal(component.capPerPeriod),
    capPerDeal: optionalDecimal(component.capPerDeal),
    thresholdAmount: threshold === null ? null : threshold.times(quotaUsed).div(hundred),
    thresholdText: threshold === null ? null : `${threshold.toString()}%`,
  };
}

function compileSpif(component: SpifComponentInput, version: PlanVersionInput): SpifTerms {
  const payout = component.payout;
  const percent = payout.type === 'percent_of_credit' ? new Money(payout.percent) : null;
  const flat = payout.type === 'flat' ? new Money(payout.amount) : null;
  return {
    kind: 'spif',
    componentKey: componentKeyOf(version.planId, component.id),
    componentId: component.id,
    planVersionId: version.id,
    quotaMissing: false,
    filter: component.filter,
    measure: component.measure ?? null,
    flatAmount: flat,
    flatText: flat === null ? null : flat.toString(),
    rateOfCredit: percent === null ? null : percent.div(hundred),
    percentText: percent === null ? null : `${percent.toString()}%`,
  };
}

function compileMilestones(component: MilestoneBonusComponentInput, version: PlanVersionInput, quota: Decimal | null): MilestoneTerms {
  const quotaUsed = quota ?? new Money(1);
  const levels = component.milestones
    .map((milestone): MilestoneLevel => {
      const level = new Money(milestone.attainmentPercent);
      const bonus = new Money(milestone.amount);
      return {
        levelKey: level.toString(),
        levelText: `${level.toString()}%`,
        levelAmount: level.times(quotaUsed).div(hundred),
        bonus,
        bonusText: bonus.toString(),
      };
    })
    .sort((left, right) => compareDecimals(left.levelAmount, right.levelAmount));
  return {
    kind: 'milestone_bonus',
    componentKey: componentKeyOf(version.planId, component.id),
    componentId: component.id,
    planVersionId: version.id,
    quotaMissing: quota === null,
    measure: component.measure,
    levels,
  };
}

/** Index of the tier holding `position`: the last tier whose lower bound is at or below it (boundary → higher tier). */
export function tierIndexAt(tiers: readonly PricedTier[], position: Decimal): number {
  for (let index = tiers.length - 1; index > 0; index--) {
    if (compareDecimals(position, tiers[index]!.fromAmount) >= 0) return index;
  }
  return 0;
}
