import { Decimal } from 'decimal.js';
import type { MilestoneTerms, SpifTerms } from './component-terms.js';
import { compareDecimals } from './decimal-compare.js';
import {
  amountOfCredit,
  attainmentPercentText,
  conversionText,
  emit,
  holdCredit,
  makeLine,
  roundLine,
  type CommissionPeriodState,
  type ComponentRun,
  type CreditContext,
} from './engine-state.js';

/** SPIF and milestone bonus steps for one credit. Internal to the commission engine. */

export function stepSpif(state: CommissionPeriodState, terms: SpifTerms, context: CreditContext): void {
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

export function stepMilestone(state: CommissionPeriodState, run: ComponentRun, terms: MilestoneTerms, context: CreditContext): void {
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
    const percent = attainmentPercentText(credited, internal.quotas[measureIndex]!);
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

