import { Decimal } from 'decimal.js';
import { Money, minorUnits } from '#lib/shared/domain/money.js';
import type { ComponentInput, PlanVersionInput, TierInput } from '#lib/commissions/domain/commission-plan.js';
import type { AttainmentEntry, CreditInput, LineSource, StatementLine } from '#lib/commissions/domain/statement.js';
import type { DealFacts } from './statement-inputs.js';
import type { SourceRef } from './statement-sources.js';

/**
 * How one statement line was made, for a finance reader: the credit and deal behind it, the plan version and
 * component that priced it, the tier and rate, the formula with its numbers, the single rounding step, and every
 * event (id and log position) the line and its inputs came from.
 */
export interface LineExplanation {
  payeeId: string;
  periodId: string;
  lineId: string;
  /** 1-based place of the line in its statement. */
  lineNumber: number;
  kind: StatementLine['kind'];
  amount: string;
  currency: string;
  formula: string;
  rounding: {
    unrounded: string;
    rounded: string;
    rule: 'half-even';
    /** Digits after the decimal point of the currency's minor unit (2 for USD, 0 for JPY). */
    minorUnits: number;
    /** rounded − unrounded. */
    difference: string;
  };
  rate: string | null;
  baseAmount: string | null;
  tier: { number: number; from: string; to: string | null; basis: string; rate: string | null; multiplier: string | null } | null;
  planVersion: { id: string; planId: string; version: number; effectiveFrom: string; currency: string; periodFrequency: string; source: SourceRef | null } | null;
  component: { key: string; id: string; kind: ComponentInput['kind']; name: string | null; measure: string | null; mode: string | null } | null;
  credit: {
    creditId: string;
    kind: CreditInput['kind'];
    share: string;
    creditDate: string;
    currency: string;
    dealAmount: string;
    measureAmounts: Readonly<Record<string, string>> | null;
    source: SourceRef;
  } | null;
  deal: { dealId: string; amount: string; currency: string; measures: Record<string, string>; product: string; dealType: string } | null;
  /** The quota and attainment of the component's measure in the period. */
  attainment: AttainmentEntry | null;
  fxRate: { fromCurrency: string; toCurrency: string; date: string; rate: string; source: SourceRef } | null;
  heldReason: string | null;
  earnedAs: string | null;
  /** The events the line itself was computed from (the credit events; for a true-up, also the credit that moved the tier). */
  sources: LineSource[];
}

export interface LineExplanationParts {
  payeeId: string;
  periodId: string;
  lineNumber: number;
  line: StatementLine;
  planVersion: PlanVersionInput | null;
  planVersionSource: SourceRef | null;
  credit: CreditInput | null;
  deal: DealFacts | null;
  attainment: readonly AttainmentEntry[];
  fxRate: { fromCurrency: string; toCurrency: string; date: string; rate: string; source: SourceRef } | null;
}

function componentOf(planVersion: PlanVersionInput | null, componentKey: string | null): ComponentInput | null {
  if (planVersion === null || componentKey === null) return null;
  const componentId = componentKey.slice(componentKey.indexOf('/') + 1);
  return planVersion.components.find((component) => component.id === componentId) ?? null;
}

const measureOf = (component: ComponentInput | null): string | null =>
  component === null ? null : component.kind === 'spif' ? (component.measure ?? null) : component.measure;

export function explainLine(parts: LineExplanationParts): LineExplanation {
  const { line, planVersion, credit, deal } = parts;
  const component = componentOf(planVersion, line.componentKey);
  const tierInput: TierInput | undefined =
    component !== null && component.kind === 'rate_table' && line.tier !== null ? component.tiers[line.tier - 1] : undefined;
  const measure = measureOf(component);
  const unrounded = new Money(line.amountUnrounded);
  const rounded = new Money(line.amount);
  return {
    payeeId: parts.payeeId,
    periodId: parts.periodId,
    lineId: line.lineId,
    lineNumber: parts.lineNumber,
    kind: line.kind,
    amount: line.amount,
    currency: line.currency,
    formula: line.formula,
    rounding: {
      unrounded: line.amountUnrounded,
      rounded: line.amount,
      rule: 'half-even',
      minorUnits: minorUnits(line.currency),
      difference: rounded.minus(unrounded).toFixed(Math.max(unrounded.decimalPlaces(), minorUnits(line.currency)), Decimal.ROUND_HALF_EVEN),
    },
    rate: line.rate,
    baseAmount: line.baseAmount,
    tier:
      tierInput === undefined || component === null || component.kind !== 'rate_table'
        ? null
        : {
            number: line.tier!,
            from: tierInput.from,
            to: tierInput.to,
            basis: component.basis,
            rate: tierInput.rate ?? null,
            multiplier: tierInput.multiplier ?? null,
          },
    planVersion:
      planVersion === null
        ? null
        : {
            id: planVersion.id,
            planId: planVersion.planId,
            version: planVersion.version,
            effectiveFrom: planVersion.effectiveFrom,
            currency: planVersion.currency,
            periodFrequency: planVersion.periodFrequency,
            source: parts.planVersionSource,
          },
    component:
      component === null
        ? null
        : {
            key: line.componentKey!,
            id: component.id,
            kind: component.kind,
            name: component.name ?? null,
            measure,
            mode: component.kind === 'rate_table' ? component.mode : null,
          },
    credit:
      credit === null
        ? null
        : {
            creditId: credit.creditId,
            kind: credit.kind,
            share: credit.share,
            creditDate: credit.creditDate,
            currency: credit.currency,
            dealAmount: credit.amount,
            measureAmounts: credit.measureAmounts ?? null,
            source: { eventId: credit.eventId, position: credit.position },
          },
    deal: deal === null ? null : { dealId: deal.dealId, amount: deal.amount, currency: deal.currency, measures: deal.measures, product: deal.product, dealType: deal.dealType },
    attainment: measure === null ? null : (parts.attainment.find((entry) => entry.measure === measure) ?? null),
    fxRate: parts.fxRate,
    heldReason: line.heldReason ?? null,
    earnedAs: line.earnedAs ?? null,
    sources: line.sources,
  };
}
