import fc from 'fast-check';
import { attainmentPercent, Money } from '#lib/shared/domain/money.js';
import { compareDecimals } from './decimal-compare.js';
import { attainmentPercentText } from './engine-state.js';
import type { ComponentInput, PlanVersionInput, RateTableMode, TierInput } from './commission-plan.js';
import { applyCredit, compareCredits, computeStatement, startPeriod, statementOf, statementSummaryOf } from './commission-engine.js';
import type { CreditInput, Statement, StatementInput } from './statement.js';
import { describeLine, planVersion, quarter, rateTable, statementInput } from './testing/statement-fixtures.js';

/**
 * Properties checked against a reference model that shares no code with the engine: amounts are BigInt
 * cents, rates BigInt basis points, each line rounded half-even from an exact integer ratio. Generators
 * favour tier boundaries (credits that land exactly on one) and half-cent results, where engines go wrong.
 */

const runs = { numRuns: 200 };

// ---------- reference model: integer cents and basis points ----------

interface ReferenceTier {
  fromCents: bigint;
  rateBasisPoints: bigint;
}

interface ReferenceCredit {
  creditId: string;
  cents: bigint;
}

/** n / d rounded half-even to an integer (d > 0). */
function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const absolute = negative ? -numerator : numerator;
  let quotient = absolute / denominator;
  const twiceRemainder = (absolute % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) quotient += 1n;
  return negative ? -quotient : quotient;
}

const centsText = (cents: bigint): string => {
  const negative = cents < 0n;
  const absolute = negative ? -cents : cents;
  return `${negative ? '-' : ''}${absolute / 100n}.${(absolute % 100n).toString().padStart(2, '0')}`;
};

/** Rounded line in cents for `cents × basisPoints / 10000`. */
const lineCents = (cents: bigint, basisPoints: bigint): bigint => roundHalfEven(cents * basisPoints, 10000n);

function tierAt(tiers: ReferenceTier[], cents: bigint): number {
  let index = 0;
  tiers.forEach((tier, candidate) => {
    if (candidate > 0 && cents >= tier.fromCents) index = candidate;
  });
  return index;
}

/** Expected lines "kind credit tier amount", computed slice by slice, credit by credit. */
function referenceLines(mode: RateTableMode, tiers: ReferenceTier[], credits: ReferenceCredit[]): string[] {
  const lines: string[] = [];
  let cumulative = 0n;
  const retroEntries: ReferenceCredit[] = [];
  let retroTier: number | null = null;
  for (const credit of credits) {
    const before = cumulative;
    cumulative += credit.cents;
    if (credit.cents === 0n) continue;
    if (mode === 'per_transaction') {
      const magnitude = credit.cents < 0n ? -credit.cents : credit.cents;
      const index = tierAt(tiers, magnitude);
      lines.push(`commission ${credit.creditId} t${index + 1} ${centsText(lineCents(credit.cents, tiers[index]!.rateBasisPoints))}`);
    } else if (mode === 'marginal') {
      const sign = credit.cents < 0n ? -1n : 1n;
      const low = sign > 0n ? before : cumulative;
      const high = sign > 0n ? cumulative : before;
      tiers.forEach((tier, index) => {
        const from = index === 0 ? low : tier.fromCents; // the first tier also takes anything below zero
        const next = tiers[index + 1];
        const sliceLow = low > from ? low : from;
        const sliceHigh = next === undefined || high < next.fromCents ? high : next.fromCents;
        if (sliceHigh > sliceLow) lines.push(`commission ${credit.creditId} t${index + 1} ${centsText(lineCents(sign * (sliceHigh - sliceLow), tier.rateBasisPoints))}`);
      });
    } else {
      const index = tierAt(tiers, cumulative);
      if (retroTier !== null && index !== retroTier) {
        const delta = tiers[index]!.rateBasisPoints - tiers[retroTier]!.rateBasisPoints;
        if (delta !== 0n) for (const entry of retroEntries) lines.push(`true_up ${entry.creditId} t${index + 1} ${centsText(lineCents(entry.cents, delta))}`);
      }
      retroTier = index;
      lines.push(`commission ${credit.creditId} t${index + 1} ${centsText(lineCents(credit.cents, tiers[index]!.rateBasisPoints))}`);
      retroEntries.push(credit);
    }
  }
  return lines;
}

// ---------- generators ----------

const basisPointsText = (basisPoints: number): string => `${Math.floor(basisPoints / 10000)}.${String(basisPoints % 10000).padStart(4, '0')}`;

const tiersArbitrary = fc
  .record({
    boundaries: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 3 }),
    rates: fc.array(fc.oneof(fc.constantFrom(500, 1000, 1500, 2500), fc.integer({ min: 0, max: 2500 })), { minLength: 4, maxLength: 4 }),
  })
  .map(({ boundaries, rates }) => {
    const fromDollars = [0, ...boundaries.sort((left, right) => left - right).map((thousands) => thousands * 1000)];
    return fromDollars.map((from, index) => ({ fromCents: BigInt(from) * 100n, rateBasisPoints: BigInt(rates[index]!) }));
  });

const toTierInputs = (tiers: ReferenceTier[]): TierInput[] =>
  tiers.map((tier, index) => ({
    from: centsText(tier.fromCents),
    to: tiers[index + 1] === undefined ? null : centsText(tiers[index + 1]!.fromCents),
    rate: basisPointsText(Number(tier.rateBasisPoints)),
  }));

/**
 * Cents: often round thousands (landing on boundaries), amounts ending in 5 cents (with 5%, 10%, 15% or 25%
 * rates they give exact half cents, where half-even matters), odd cents, reversals.
 */
const centsArbitrary = fc.oneof(
  fc.integer({ min: 1, max: 30 }).map((thousands) => BigInt(thousands) * 100_000n),
  fc.integer({ min: -50_000, max: 250_000 }).map((tens) => BigInt(tens) * 10n + 5n),
  fc.integer({ min: 1, max: 2_500_000 }).map(BigInt),
  fc.integer({ min: -2_000_000, max: -1 }).map(BigInt),
  fc.constant(0n),
);

const dayArbitrary = fc.constantFrom('2025-01-05', '2025-02-10', '2025-02-10', '2025-03-20');

const referenceCreditsArbitrary = fc.array(centsArbitrary, { minLength: 1, maxLength: 10 }).map((amounts) =>
  amounts.map((cents, index): ReferenceCredit => ({ creditId: `c${String(index + 1).padStart(2, '0')}`, cents })),
);

/** Credits in the fold order of their ids: all on one day, positions following the ids. */
const asCreditInputs = (credits: ReferenceCredit[]): CreditInput[] =>
  credits.map((item, index) => ({
    creditId: item.creditId,
    dealId: `deal-${index % 3}`,
    eventId: `event-${item.creditId}`,
    position: index + 1,
    amount: centsText(item.cents),
    currency: 'USD',
    creditDate: '2025-02-10',
    kind: 'primary',
    share: '1',
  }));

/** A broader plan for properties that do not need the reference: caps, threshold, SPIF, milestone, a mid-period version. */
const componentsArbitrary = fc
  .record({
    mode: fc.constantFrom<RateTableMode>('marginal', 'retro', 'per_transaction'),
    tiers: tiersArbitrary,
    capPerPeriod: fc.option(fc.integer({ min: 0, max: 8000 }).map((dollars) => `${dollars}.00`), { nil: undefined }),
    capPerDeal: fc.option(fc.integer({ min: 0, max: 3000 }).map((dollars) => `${dollars}.50`), { nil: undefined }),
    thresholdPercent: fc.option(fc.constantFrom('25', '50', '100'), { nil: undefined }),
    withSpif: fc.boolean(),
    withMilestone: fc.boolean(),
  })
  .map(({ mode, tiers, capPerPeriod, capPerDeal, thresholdPercent, withSpif, withMilestone }): ComponentInput[] => {
    const components: ComponentInput[] = [rateTable({ mode, tiers: toTierInputs(tiers), capPerPeriod, capPerDeal, thresholdPercent })];
    if (withSpif) components.push({ kind: 'spif', id: 'spif', filter: { product: 'widget' }, payout: { type: 'percent_of_credit', percent: '1.5' } });
    if (withMilestone) components.push({ kind: 'milestone_bonus', id: 'club', measure: 'bookings', milestones: [{ attainmentPercent: '100', amount: '1000.005' }] });
    return components;
  });

const generalInputArbitrary = fc
  .record({
    first: componentsArbitrary,
    second: fc.option(componentsArbitrary, { nil: undefined }),
    amounts: fc.array(fc.record({ cents: centsArbitrary, day: dayArbitrary, euro: fc.boolean(), product: fc.constantFrom('widget', 'gadget'), share: fc.constantFrom('1', '0.7', '0.3') }), {
      minLength: 1,
      maxLength: 12,
    }),
  })
  .map(({ first, second, amounts }): StatementInput => {
    const planVersions: PlanVersionInput[] = [planVersion({ id: 'v1', components: first })];
    if (second !== undefined) planVersions.push(planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-02-10', components: second }));
    const credits = amounts.map(
      (item, index): CreditInput => ({
        creditId: `c${index}`,
        dealId: `deal-${index % 4}`,
        eventId: `event-${index}`,
        position: 100 - index, // positions against id order, so the sort has work to do
        amount: centsText(item.cents),
        currency: item.euro ? 'EUR' : 'USD',
        creditDate: item.day,
        product: item.product,
        kind: 'primary',
        share: item.share,
      }),
    );
    return statementInput({
      planVersions,
      quotas: [{ measure: 'bookings', amount: '40000', effectiveFrom: '2025-01-01' }],
      // No EUR rate on 2025-03-20: those credits are held, never guessed.
      fxRates: ['2025-01-05', '2025-02-10'].map((date) => ({ currency: 'EUR', date, rateToPlanCurrency: '1.0837' })),
      credits,
    });
  });

// ---------- properties ----------

const cents = (amount: string): bigint => BigInt(amount.replace('.', ''));

function assertAddsUp(statement: Statement): void {
  let payable = 0n;
  let held = 0n;
  const byKind = new Map<string, bigint>();
  for (const line of statement.lines) {
    expect(line.amount).toMatch(/^-?\d+\.\d{2}$/);
    const amount = cents(line.amount);
    byKind.set(line.kind, (byKind.get(line.kind) ?? 0n) + amount);
    if (line.kind === 'held') held += amount;
    else payable += amount;
    if (line.kind === 'release') held -= amount;
  }
  expect(cents(statement.totals.payable)).toBe(payable);
  expect(cents(statement.totals.held)).toBe(held);
  for (const [kind, total] of Object.entries(statement.totals.byKind)) expect(cents(total)).toBe(byKind.get(kind) ?? 0n);
}

describe('commission engine properties', () => {
  test('every mode matches the integer-cents reference model line by line', () => {
    fc.assert(
      fc.property(fc.constantFrom<RateTableMode>('marginal', 'retro', 'per_transaction'), tiersArbitrary, referenceCreditsArbitrary, (mode, tiers, credits) => {
        const statement = computeStatement(
          statementInput({ planVersions: [planVersion({ components: [rateTable({ mode, tiers: toTierInputs(tiers) })] })], credits: asCreditInputs(credits) }),
        );
        expect(statement.lines.map(describeLine)).toEqual(referenceLines(mode, tiers, credits));
      }),
      runs,
    );
  });

  test('the statement total is the sum of its rounded lines, whatever the plan', () => {
    fc.assert(
      fc.property(generalInputArbitrary, (input) => assertAddsUp(computeStatement(input))),
      runs,
    );
  });

  test('marginal payout never decreases as the credited amount grows', () => {
    fc.assert(
      fc.property(tiersArbitrary, fc.integer({ min: 0, max: 8_000_000 }), fc.integer({ min: 0, max: 500_000 }), (tiers, smallerCents, extraCents) => {
        const payable = (amountCents: number): bigint =>
          cents(
            computeStatement(
              statementInput({
                planVersions: [planVersion({ components: [rateTable({ mode: 'marginal', tiers: toTierInputs(tiers) })] })],
                credits: asCreditInputs([{ creditId: 'c1', cents: BigInt(amountCents) }]),
              }),
            ).totals.payable,
          );
        expect(payable(smallerCents + extraCents)).toBeGreaterThanOrEqual(payable(smallerCents));
      }),
      runs,
    );
  });

  test('a period cap bounds what the component pays', () => {
    fc.assert(
      fc.property(tiersArbitrary, fc.constantFrom<RateTableMode>('marginal', 'retro', 'per_transaction'), fc.integer({ min: 0, max: 5000 }), referenceCreditsArbitrary, (tiers, mode, capDollars, credits) => {
        const statement = computeStatement(
          statementInput({
            planVersions: [planVersion({ components: [rateTable({ mode, tiers: toTierInputs(tiers), capPerPeriod: `${capDollars}` })] })],
            credits: asCreditInputs(credits),
          }),
        );
        expect(cents(statement.totals.payable)).toBeLessThanOrEqual(BigInt(capDollars) * 100n);
      }),
      runs,
    );
  });

  test('the incremental fold in credit order ends with the full recompute, its new lines making up the statement', () => {
    fc.assert(
      fc.property(generalInputArbitrary, (input) => {
        const state = startPeriod(input);
        const streamed = [];
        for (const item of [...input.credits].sort(compareCredits)) streamed.push(...applyCredit(state, item).newLines);
        const statement = statementOf(state);
        expect(statement).toEqual(computeStatement(input));
        expect(statement.lines).toEqual(streamed);
      }),
      runs,
    );
  });

  test('a state that keeps no lines hands out the same lines and sums up to the same statement', () => {
    fc.assert(
      fc.property(generalInputArbitrary, (input) => {
        const state = startPeriod(input, { keepLines: false });
        const streamed = [];
        for (const item of [...input.credits].sort(compareCredits)) streamed.push(...applyCredit(state, item).newLines);
        const { lines, ...full } = computeStatement(input);
        expect(streamed).toEqual(lines);
        expect(statementSummaryOf(state)).toEqual({ ...full, lineCount: lines.length });
        expect(state.internal.lines).toEqual([]);
      }),
      runs,
    );
  });

  test('any arrival order of the same credits gives the same statement', () => {
    fc.assert(
      fc.property(
        generalInputArbitrary.chain((input) =>
          fc.tuple(fc.constant(input), fc.shuffledSubarray([...input.credits], { minLength: input.credits.length, maxLength: input.credits.length })),
        ),
        ([input, shuffled]) => {
          expect(computeStatement({ ...input, credits: shuffled })).toEqual(computeStatement(input));
        },
      ),
      runs,
    );
  });

  test('line ids are unique within a statement', () => {
    fc.assert(
      fc.property(generalInputArbitrary, (input) => {
        const statement = computeStatement(input);
        expect(new Set(statement.lines.map((line) => line.lineId)).size).toBe(statement.lines.length);
        expect(statement.periodId).toBe(quarter.id);
      }),
      runs,
    );
  });
});

describe('compareDecimals', () => {
  const decimalText = fc
    .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 25 }))
    .map(([negative, digits, scale]) => {
      const text = digits.toString().padStart(scale + 1, '0');
      const whole = text.slice(0, text.length - scale);
      const fraction = text.slice(text.length - scale);
      return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
    });

  test('agrees with decimal.js cmp, including zeros, signs and different lengths', () => {
    fc.assert(
      fc.property(decimalText, decimalText, (left, right) => {
        const a = new Money(left);
        const b = new Money(right);
        expect(compareDecimals(a, b)).toBe(a.cmp(b));
        expect(compareDecimals(a, a.plus(0))).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('attainment percent', () => {
  const amountText = fc.tuple(fc.integer({ min: -2_000_000_00, max: 9_000_000_00 }), fc.constantFrom(0, 1, 2, 3)).map(([units, scale]) => {
    const negative = units < 0;
    const digits = String(Math.abs(units)).padStart(scale + 1, '0');
    const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return negative ? `-${text}` : text;
  });
  const quotaText = fc.oneof(fc.constantFrom('1', '3', '7', '8', '400', '320666.67', '0.01'), fc.integer({ min: 1, max: 99_999_999 }).map(String));

  test('matches the shared attainmentPercent helper, ties and negatives included', () => {
    fc.assert(
      fc.property(amountText, quotaText, (credited, quota) => {
        expect(attainmentPercentText(new Money(credited), new Money(quota))).toBe(attainmentPercent(new Money(credited), new Money(quota)));
      }),
      { numRuns: 2000 },
    );
    expect(attainmentPercentText(new Money('1'), new Money('8'))).toBe('12.50');
    expect(attainmentPercentText(new Money('1.00125'), new Money('1'))).toBe('100.12');
    expect(attainmentPercentText(new Money('-0.00001'), new Money('100'))).toBe(attainmentPercent(new Money('-0.00001'), new Money('100')));
    expect(attainmentPercentText(new Money('5'), null)).toBeNull();
  });
});
