import { Decimal } from 'decimal.js';
import { tierIndexAt, type PricedTier, type RateTableTerms } from './component-terms.js';
import { compareDecimals } from './decimal-compare.js';
import {
  amountText,
  conversionText,
  emit,
  holdCredit,
  makeLine,
  measureChanged,
  roundLine,
  wholeCreditExplanation,
  zero,
  type CommissionPeriodState,
  type ComponentRun,
  type CreditContext,
  type PendingLine,
} from './engine-state.js';
import type { StatementLine } from './statement.js';

/**
 * A rate-table component's step for one credit: commission lines by mode (marginal slices, retro with
 * true-ups, per transaction), then per-deal and period caps, then the threshold that decides whether the
 * step's lines are payable or held. Internal to the commission engine.
 */

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

export function stepRateTable(state: CommissionPeriodState, run: ComponentRun, terms: RateTableTerms | null, context: CreditContext): void {
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
        // A reversal (negative credit) is priced at the tier of the amount it reverses.
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

