import type { PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { CreditInput, FxRateInput, StatementInput } from '#lib/commissions/domain/statement.js';

/**
 * A synthetic full-recompute load for the commission engine: by default 1,000,000 credits over 120,000
 * payee-periods (one quarter), a realistic plan mix (marginal accelerators from target incentive / quota with
 * a period cap and a SPIF, retro tiers behind a threshold, per-transaction tiers with a per-deal cap), 10% of
 * credits in EUR, 5% split 70/30, a mid-quarter plan change and a few reversals.
 *
 * Deterministic (a seeded generator, no clock, no randomness): the caller passes the clock to time with, e.g.
 *   npm run build && node --input-type=module -e "import { runStatementLoad, statementLoadChunks } from
 *   './dist/test/bench/statement-load.js'; console.log(runStatementLoad(statementLoadChunks(), () => performance.now()))"
 */

export interface StatementLoadOptions {
  payeePeriods?: number;
  credits?: number;
  seed?: number;
}

export interface StatementLoadResult {
  statements: number;
  credits: number;
  lines: number;
  elapsedMilliseconds: number;
  creditsPerSecond: number;
  statementsPerSecond: number;
}

/** Park–Miller minimal standard generator: reproducible, and not Math.random. */
function seededGenerator(seed: number): () => number {
  let state = seed % 2147483647;
  if (state <= 0) state += 2147483646;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const period = { id: '2025-Q1', start: '2025-01-01', end: '2025-03-31' };

function planVersions(): PlanVersionInput[] {
  const base = { currency: 'USD', periodFrequency: 'quarter' as const, capitalizable: true, benefitMonths: 36 };
  return [
    {
      ...base,
      id: 'ae-v1',
      planId: 'ae',
      version: 1,
      effectiveFrom: '2024-01-01',
      components: [
        {
          kind: 'rate_table',
          id: 'commission',
          measure: 'bookings',
          basis: 'attainment',
          mode: 'marginal',
          targetIncentive: '30000',
          tiers: [
            { from: '0', to: '50', multiplier: '0.5' },
            { from: '50', to: '100', multiplier: '1' },
            { from: '100', to: null, multiplier: '1.8' },
          ],
          capPerPeriod: '90000',
        },
        { kind: 'spif', id: 'new-logo', filter: { dealType: 'new_logo' }, payout: { type: 'flat', amount: '250' } },
      ],
    },
    {
      ...base,
      id: 'ae-v2',
      planId: 'ae',
      version: 2,
      effectiveFrom: '2025-02-15',
      components: [
        {
          kind: 'rate_table',
          id: 'commission',
          measure: 'bookings',
          basis: 'attainment',
          mode: 'marginal',
          targetIncentive: '33000',
          tiers: [
            { from: '0', to: '50', multiplier: '0.5' },
            { from: '50', to: '100', multiplier: '1' },
            { from: '100', to: null, multiplier: '2' },
          ],
          capPerPeriod: '90000',
        },
        { kind: 'spif', id: 'new-logo', filter: { dealType: 'new_logo' }, payout: { type: 'flat', amount: '250' } },
        { kind: 'milestone_bonus', id: 'club', measure: 'bookings', milestones: [{ attainmentPercent: '100', amount: '5000' }] },
      ],
    },
    {
      ...base,
      id: 'am-v1',
      planId: 'am',
      version: 1,
      effectiveFrom: '2024-01-01',
      components: [
        {
          kind: 'rate_table',
          id: 'commission',
          measure: 'revenue',
          basis: 'attainment',
          mode: 'retro',
          thresholdPercent: '25',
          tiers: [
            { from: '0', to: '80', rate: '0.04' },
            { from: '80', to: '120', rate: '0.06' },
            { from: '120', to: null, rate: '0.08' },
          ],
        },
      ],
    },
    {
      ...base,
      id: 'se-v1',
      planId: 'se',
      version: 1,
      effectiveFrom: '2024-01-01',
      components: [
        {
          kind: 'rate_table',
          id: 'commission',
          measure: 'bookings',
          basis: 'amount',
          mode: 'per_transaction',
          tiers: [
            { from: '0', to: '25000', rate: '0.03' },
            { from: '25000', to: null, rate: '0.045' },
          ],
          capPerDeal: '4000',
        },
      ],
    },
  ];
}

/**
 * The load, a chunk of payee-periods at a time (as a rebuild would stream them), so the timed part is the
 * engine rather than the collector walking a million live credits. The shared inputs (plan versions,
 * assignments, FX table) are the same objects in every chunk, as they would be in a rebuild.
 */
export function* statementLoadChunks(options: StatementLoadOptions & { chunkSize?: number } = {}): Generator<StatementInput[]> {
  const payeePeriods = options.payeePeriods ?? 120_000;
  const creditCount = options.credits ?? 1_000_000;
  const chunkSize = options.chunkSize ?? 5_000;
  const random = seededGenerator(options.seed ?? 20250101);
  const versions = planVersions();
  const planIds = ['ae', 'am', 'se'];
  const fxRates: FxRateInput[] = [];
  for (let day = 1; day <= 90; day++) {
    const month = day <= 31 ? 1 : day <= 59 ? 2 : 3;
    const dayOfMonth = day <= 31 ? day : day <= 59 ? day - 31 : day - 59;
    const date = `2025-${String(month).padStart(2, '0')}-${String(dayOfMonth).padStart(2, '0')}`;
    fxRates.push({ currency: 'EUR', date, rateToPlanCurrency: (1.05 + random() / 10).toFixed(4) });
  }
  const creditDates = fxRates.map((rate) => rate.date);
  const assignments: PlanAssignmentInput[] = [];
  for (let index = 0; index < payeePeriods; index++) {
    assignments.push({ payeeId: `payee-${index}`, planId: planIds[index % planIds.length]!, effectiveFrom: '2024-01-01', effectiveUntil: null });
  }
  let position = 0;
  let chunk: StatementInput[] = [];
  for (let index = 0; index < payeePeriods; index++) {
    const quotas: QuotaInput[] = [
      { measure: 'bookings', amount: String(200_000 + Math.floor(random() * 20) * 10_000), effectiveFrom: '2025-01-01' },
      { measure: 'revenue', amount: String(150_000 + Math.floor(random() * 20) * 10_000), effectiveFrom: '2025-01-01' },
    ];
    // Spread the credits evenly: each payee-period gets its share, the remainder going to the first ones.
    const count = Math.floor(creditCount / payeePeriods) + (index < creditCount % payeePeriods ? 1 : 0);
    const credits: CreditInput[] = [];
    for (let creditIndex = 0; creditIndex < count; creditIndex++) {
      position++;
      const roll = random();
      const cents = Math.floor(random() * 6_000_000) + 100_000;
      const amount = `${roll < 0.02 ? '-' : ''}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
      credits.push({
        creditId: `credit-${position}`,
        dealId: `deal-${Math.floor(position / 2)}`,
        eventId: `event-${position}`,
        position,
        amount,
        currency: roll > 0.9 ? 'EUR' : 'USD',
        creditDate: creditDates[Math.floor(random() * creditDates.length)]!,
        measureAmounts: { bookings: amount, revenue: amount },
        product: roll < 0.5 ? 'platform' : 'services',
        dealType: roll < 0.3 ? 'new_logo' : 'expansion',
        kind: 'primary',
        share: roll > 0.95 ? '0.7' : '1',
      });
    }
    chunk.push({ payeeId: `payee-${index}`, period, planVersions: versions, assignments, quotas, fxRates, credits });
    if (chunk.length === chunkSize) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Full recompute of every payee-period, timing only `computeStatement` with the clock the caller passes. */
export function runStatementLoad(chunks: Iterable<readonly StatementInput[]>, now: () => number): StatementLoadResult {
  let statements = 0;
  let credits = 0;
  let lines = 0;
  let elapsedMilliseconds = 0;
  for (const chunk of chunks) {
    const started = now();
    for (const input of chunk) lines += computeStatement(input).lines.length;
    elapsedMilliseconds += now() - started;
    statements += chunk.length;
    for (const input of chunk) credits += input.credits.length;
  }
  return {
    statements,
    credits,
    lines,
    elapsedMilliseconds: Math.round(elapsedMilliseconds),
    creditsPerSecond: Math.round((credits / elapsedMilliseconds) * 1000),
    statementsPerSecond: Math.round((statements / elapsedMilliseconds) * 1000),
  };
}
