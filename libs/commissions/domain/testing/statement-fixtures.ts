import type { PlanVersionInput, RateTableComponentInput, TierInput } from '../commission-plan.js';
import type { CreditInput, StatementInput, StatementLine } from '../statement.js';

/**
 * Small builders for engine examples: a one-payee, one-quarter setup where only what a case is about
 * needs to be written. Defaults: payee 'rep-1', period 2025-Q1, plan 'plan-ae' v1 in USD from 2025-01-01.
 */

export const quarter = { id: '2025-Q1', start: '2025-01-01', end: '2025-03-31' };

export const tier = (from: string, to: string | null, rate: string): TierInput => ({ from, to, rate });
export const multiplierTier = (from: string, to: string | null, multiplier: string): TierInput => ({ from, to, multiplier });

export function rateTable(overrides: Partial<RateTableComponentInput> = {}): RateTableComponentInput {
  return {
    kind: 'rate_table',
    id: 'commission',
    measure: 'bookings',
    basis: 'amount',
    mode: 'marginal',
    tiers: [tier('0', null, '0.10')],
    ...overrides,
  };
}

export function planVersion(overrides: Partial<PlanVersionInput> = {}): PlanVersionInput {
  return {
    id: 'plan-ae-v1',
    planId: 'plan-ae',
    version: 1,
    effectiveFrom: '2025-01-01',
    currency: 'USD',
    periodFrequency: 'quarter',
    components: [rateTable()],
    capitalizable: false,
    benefitMonths: null,
    ...overrides,
  };
}

/** A credit of `amount` USD on the deal `deal-<creditId>`, dated in the quarter; position follows the id's digits. */
export function credit(creditId: string, amount: string, overrides: Partial<CreditInput> = {}): CreditInput {
  const digits = creditId.replace(/\D/g, '');
  return {
    creditId,
    dealId: `deal-${creditId}`,
    eventId: `event-${creditId}`,
    position: digits === '' ? 1 : Number(digits),
    amount,
    currency: 'USD',
    creditDate: '2025-02-01',
    kind: 'primary',
    share: '1',
    ...overrides,
  };
}

export function statementInput(overrides: Partial<StatementInput> & { planVersions?: PlanVersionInput[] } = {}): StatementInput {
  const planVersions = overrides.planVersions ?? [planVersion()];
  return {
    payeeId: 'rep-1',
    period: quarter,
    planVersions,
    assignments: [{ payeeId: overrides.payeeId ?? 'rep-1', planId: planVersions[0]!.planId, effectiveFrom: '2024-01-01', effectiveUntil: null }],
    quotas: [],
    fxRates: [],
    credits: [],
    ...overrides,
  };
}

/** A line in one readable string, e.g. "commission c2 t2 2000.00" or "true_up c1 t2 4000.00". */
export function describeLine(line: StatementLine): string {
  const parts: string[] = [line.kind === 'held' ? `held(${line.earnedAs})` : line.kind];
  if (line.creditId !== null) parts.push(line.creditId);
  if (line.tier !== null) parts.push(`t${line.tier}`);
  parts.push(line.amount);
  return parts.join(' ');
}
