import { Money } from '#lib/shared/domain/money.js';
import { validationError, type FieldMessage } from '#lib/shared/domain/domain-error.js';
import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import type { CreditInput, PeriodInput, Statement, StatementLine } from '#lib/commissions/domain/statement.js';
import { shareOfPercent } from './statement-inputs.js';

/**
 * What-if questions answered without writing anything: a rep's statement with deals they hope to close
 * (the estimator), and what a draft plan version would pay everyone on the plan (plan modelling).
 */

/** A deal a rep expects to close, as the estimator takes it. */
export interface HypotheticalDeal {
  /** Optional: a name to recognise the deal's lines by. */
  dealId?: string;
  amount: string;
  currency: string;
  closeDate: string;
  product: string;
  dealType: string;
  /** The rep's share of the deal in percent; default 100. */
  sharePercent?: string;
  /** Amount per measure; default { bookings: amount }, as for a real deal. */
  measures?: Record<string, string>;
}

/** Marks every credit the estimator made up, in its ids and in the event its lines cite. */
export const HYPOTHETICAL_EVENT_ID = 'hypothetical';
const hypotheticalPrefix = 'what-if-';

export const isHypotheticalLine = (line: StatementLine): boolean => line.sources.some((source) => source.eventId === HYPOTHETICAL_EVENT_ID);

/**
 * Credits for hypothetical deals, dated on their close date (which must fall in the statement's period). They fold
 * after every real credit of the same date: their positions lie past any log position.
 */
export function hypotheticalCredits(payeeId: string, period: PeriodInput, deals: readonly HypotheticalDeal[]): CreditInput[] {
  const problems: FieldMessage[] = [];
  deals.forEach((deal, index) => {
    if (deal.closeDate < period.start || deal.closeDate > period.end) {
      problems.push({ field: `deals[${index}].closeDate`, message: `must fall in ${period.id} (${period.start} to ${period.end})` });
    }
    if (deal.sharePercent !== undefined) {
      const share = new Money(deal.sharePercent);
      if (share.lte(0) || share.gt(100)) problems.push({ field: `deals[${index}].sharePercent`, message: 'must be more than 0 and at most 100' });
    }
  });
  if (problems.length > 0) {
    throw validationError('ESTIMATE.DEAL_INVALID', `Hypothetical deals must close in ${period.id} with a share from 0 to 100 percent`, problems);
  }
  const firstPosition = Number.MAX_SAFE_INTEGER - deals.length;
  return deals.map((deal, index) => {
    const dealId = deal.dealId ?? `${hypotheticalPrefix}${index + 1}`;
    return {
      creditId: `${hypotheticalPrefix}${index + 1}:${dealId}:${payeeId}:primary`,
      dealId,
      eventId: HYPOTHETICAL_EVENT_ID,
      position: firstPosition + index,
      amount: deal.amount,
      currency: deal.currency,
      creditDate: deal.closeDate,
      measureAmounts: deal.measures ?? { bookings: deal.amount },
      product: deal.product,
      dealType: deal.dealType,
      kind: 'primary',
      share: shareOfPercent(deal.sharePercent ?? '100'),
    };
  });
}

export interface StatementDifference {
  currency: string;
  payableBefore: string;
  payableAfter: string;
  payableDifference: string;
  heldBefore: string;
  heldAfter: string;
  heldDifference: string;
}

/** How much more (or less) a statement pays and holds than another of the same payee and period. */
export function differenceOf(before: Statement, after: Statement): StatementDifference {
  const digits = (text: string) => Math.max(0, text.length - text.indexOf('.') - 1);
  const fixed = (value: InstanceType<typeof Money>, like: string) => value.toFixed(like.includes('.') ? digits(like) : 0);
  const payableDifference = new Money(after.totals.payable).minus(after.currency === before.currency ? before.totals.payable : '0');
  const heldDifference = new Money(after.totals.held).minus(after.currency === before.currency ? before.totals.held : '0');
  return {
    currency: after.currency,
    payableBefore: before.totals.payable,
    payableAfter: after.totals.payable,
    payableDifference: fixed(payableDifference, after.totals.payable),
    heldBefore: before.totals.held,
    heldAfter: after.totals.held,
    heldDifference: fixed(heldDifference, after.totals.held),
  };
}

/**
 * The published versions with a candidate version of one of their plans in force instead: the candidate replaces
 * the version of the same plan and number (or of the same id), or joins the plan's versions from its effective date.
 */
export function versionsWithCandidate(published: readonly PlanVersionInput[], candidate: PlanVersionInput): PlanVersionInput[] {
  const versions = published.filter(
    (version) => version.id !== candidate.id && !(version.planId === candidate.planId && version.version === candidate.version),
  );
  versions.push(candidate);
  return versions;
}
