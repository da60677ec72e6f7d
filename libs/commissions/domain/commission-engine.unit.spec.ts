import { DomainError } from '#lib/shared/domain/domain-error.js';
import type { ComponentInput, PlanAssignmentInput, PlanVersionInput, QuotaInput } from './commission-plan.js';
import { applyCredit, computeStatement, lineCountOf, sortsAfterLastApplied, startPeriod, statementOf, statementSummaryOf, compareCredits } from './commission-engine.js';
import type { CreditInput, FxRateInput, Statement, StatementInput } from './statement.js';
import { credit, describeLine, multiplierTier, planVersion, rateTable, statementInput, tier } from './testing/statement-fixtures.js';

/**
 * Engine examples, one row per case: the plan, quotas and credits going in, and every statement line
 * coming out ("kind credit tier amount"), with the payable and held totals. Every row is also replayed
 * through the incremental API to check it ends with the same statement.
 */

interface EngineCase {
  name: string;
  components?: ComponentInput[];
  planVersions?: PlanVersionInput[];
  payeeId?: string;
  assignments?: PlanAssignmentInput[];
  quotas?: QuotaInput[];
  fxRates?: FxRateInput[];
  credits: CreditInput[];
  lines: string[];
  payable: string;
  held?: string;
  heldCredits?: string[];
  /** measure -> attainment percent */
  attainment?: Record<string, string | null>;
  linePlanVersions?: (string | null)[];
  currency?: string;
}

const fivePercentThenTen = [tier('0', '100000', '0.05'), tier('100000', null, '0.10')];
const quotaOf = (amount: string, measure = 'bookings', effectiveFrom = '2025-01-01'): QuotaInput => ({ measure, amount, effectiveFrom });
const on = (creditDate: string): Partial<CreditInput> => ({ creditDate });

const cases: EngineCase[] = [
  // Splits and overlays
  {
    name: 'split 70/30: the 70% payee of an $80,000 deal at 10% earns 5,600.00',
    credits: [credit('c1', '80000', { dealId: 'deal-1', share: '0.7' })],
    lines: ['commission c1 t1 5600.00'],
    payable: '5600.00',
  },
  {
    name: 'split 70/30: the 30% payee of the same deal earns 2,400.00',
    payeeId: 'rep-2',
    credits: [credit('c2', '80000', { dealId: 'deal-1', share: '0.3' })],
    lines: ['commission c2 t1 2400.00'],
    payable: '2400.00',
  },
  {
    name: 'overlay: a manager credited the whole deal on top of the split earns on all of it',
    payeeId: 'manager-1',
    credits: [credit('c3', '80000', { dealId: 'deal-1', share: '1', kind: 'overlay' })],
    lines: ['commission c3 t1 8000.00'],
    payable: '8000.00',
  },
  // Marginal
  {
    name: 'marginal: a credit inside one tier earns that tier rate',
    components: [rateTable({ mode: 'marginal', tiers: fivePercentThenTen })],
    credits: [credit('c1', '80000')],
    lines: ['commission c1 t1 4000.00'],
    payable: '4000.00',
  },
  {
    name: 'marginal: a credit crossing a boundary is sliced, each slice at its own tier rate',
    components: [rateTable({ mode: 'marginal', tiers: fivePercentThenTen })],
    credits: [credit('c1', '80000'), credit('c2', '40000')],
    lines: ['commission c1 t1 4000.00', 'commission c2 t1 1000.00', 'commission c2 t2 2000.00'],
    payable: '7000.00',
  },
  {
    name: 'marginal boundary: up to the boundary is the lower tier, from the boundary on the higher',
    components: [rateTable({ mode: 'marginal', tiers: fivePercentThenTen })],
    credits: [credit('c1', '100000'), credit('c2', '10000')],
    lines: ['commission c1 t1 5000.00', 'commission c2 t2 1000.00'],
    payable: '6000.00',
  },
  {
    name: 'marginal reversal: a negative credit gives back the slices it removes, top tier first in value',
    components: [rateTable({ mode: 'marginal', tiers: fivePercentThenTen })],
    credits: [credit('c1', '150000'), credit('c2', '-60000')],
    lines: ['commission c1 t1 5000.00', 'commission c1 t2 5000.00', 'commission c2 t1 -500.00', 'commission c2 t2 -5000.00'],
    payable: '4500.00',
  },
  // Retro
  {
    name: 'retro: reaching a higher tier trues up the earlier credit to the new rate',
    components: [rateTable({ mode: 'retro', tiers: fivePercentThenTen })],
    credits: [credit('c1', '80000'), credit('c2', '40000')],
    lines: ['commission c1 t1 4000.00', 'true_up c1 t2 4000.00', 'commission c2 t2 4000.00'],
    payable: '12000.00',
  },
  {
    name: 'retro boundary: landing exactly on the boundary reaches the higher tier',
    components: [rateTable({ mode: 'retro', tiers: fivePercentThenTen })],
    credits: [credit('c1', '60000'), credit('c2', '40000')],
    lines: ['commission c1 t1 3000.00', 'true_up c1 t2 3000.00', 'commission c2 t2 4000.00'],
    payable: '10000.00',
  },
  {
    name: 'retro reversal: falling back below the boundary trues every line down',
    components: [rateTable({ mode: 'retro', tiers: fivePercentThenTen })],
    credits: [credit('c1', '120000'), credit('c2', '-30000')],
    lines: ['commission c1 t2 12000.00', 'true_up c1 t1 -6000.00', 'commission c2 t1 -1500.00'],
    payable: '4500.00',
  },
  // Per transaction
  {
    name: 'per transaction: each credit is priced by its own amount, the boundary in the higher tier',
    components: [rateTable({ mode: 'per_transaction', tiers: [tier('0', '50000', '0.05'), tier('50000', null, '0.08')] })],
    credits: [credit('c1', '30000'), credit('c2', '60000'), credit('c3', '50000')],
    lines: ['commission c1 t1 1500.00', 'commission c2 t2 4800.00', 'commission c3 t2 4000.00'],
    payable: '10300.00',
  },
  // Accelerators and decelerators from target incentive / quota
  {
    name: 'accelerator: base rate 50,000 / 500,000 = 0.1, doubled above 100% attainment',
    components: [
      rateTable({ basis: 'attainment', targetIncentive: '50000', tiers: [multiplierTier('0', '100', '1'), multiplierTier('100', null, '2')] }),
    ],
    quotas: [quotaOf('500000')],
    credits: [credit('c1', '400000'), credit('c2', '200000')],
    lines: ['commission c1 t1 40000.00', 'commission c2 t1 10000.00', 'commission c2 t2 20000.00'],
    payable: '70000.00',
    attainment: { bookings: '120.00' },
  },
  {
    name: 'decelerator: half the base rate below 50% attainment',
    components: [
      rateTable({ basis: 'attainment', targetIncentive: '50000', tiers: [multiplierTier('0', '50', '0.5'), multiplierTier('50', null, '1')] }),
    ],
    quotas: [quotaOf('500000')],
    credits: [credit('c1', '300000')],
    lines: ['commission c1 t1 12500.00', 'commission c1 t2 5000.00'],
    payable: '17500.00',
    attainment: { bookings: '60.00' },
  },
  {
    name: 'derived base rate that does not terminate (40,000 / 300,000) keeps full precision to the line',
    components: [rateTable({ basis: 'attainment', targetIncentive: '40000', tiers: [multiplierTier('0', null, '1')] })],
    quotas: [quotaOf('300000')],
    credits: [credit('c1', '30000')],
    lines: ['commission c1 t1 4000.00'],
    payable: '4000.00',
  },
  {
    name: 'multiplier on a given base rate: 0.08, and 1.5 × above 100,000',
    components: [rateTable({ baseRate: '0.08', tiers: [multiplierTier('0', '100000', '1'), multiplierTier('100000', null, '1.5')] })],
    credits: [credit('c1', '120000')],
    lines: ['commission c1 t1 8000.00', 'commission c1 t2 2400.00'],
    payable: '10400.00',
  },
  // Threshold gate
  {
    name: 'threshold: below 50% the commission is held; the credit that reaches 50% releases it',
    components: [rateTable({ thresholdPercent: '50' })],
    quotas: [quotaOf('100000')],
    credits: [credit('c1', '30000'), credit('c2', '30000')],
    lines: ['held(commission) c1 t1 3000.00', 'commission c2 t1 3000.00', 'release c2 3000.00'],
    payable: '6000.00',
    held: '0.00',
  },
  {
    name: 'threshold never reached: everything earned stays held, nothing payable',
    components: [rateTable({ thresholdPercent: '50' })],
    quotas: [quotaOf('100000')],
    credits: [credit('c1', '30000'), credit('c2', '19999.99')],
    lines: ['held(commission) c1 t1 3000.00', 'held(commission) c2 t1 2000.00'],
    payable: '0.00',
    held: '5000.00',
  },
  // Caps
  {
    name: 'period cap: earnings above the cap are adjusted away, and given back when a reversal drops below it',
    components: [rateTable({ capPerPeriod: '5000' })],
    credits: [credit('c1', '40000'), credit('c2', '20000'), credit('c3', '-15000')],
    lines: ['commission c1 t1 4000.00', 'commission c2 t1 2000.00', 'cap_adjustment c2 -1000.00', 'commission c3 t1 -1500.00', 'cap_adjustment c3 1000.00'],
    payable: '4500.00',
  },
  {
    name: 'per-deal cap: one deal pays at most the cap, other deals are untouched',
    components: [rateTable({ capPerDeal: '3000' })],
    credits: [credit('c1', '40000'), credit('c2', '20000')],
    lines: ['commission c1 t1 4000.00', 'cap_adjustment c1 -1000.00', 'commission c2 t1 2000.00'],
    payable: '5000.00',
  },
  {
    name: 'per-deal cap across two credits of the same deal',
    components: [rateTable({ capPerDeal: '3000' })],
    credits: [credit('c1', '25000', { dealId: 'deal-1' }), credit('c2', '10000', { dealId: 'deal-1' })],
    lines: ['commission c1 t1 2500.00', 'commission c2 t1 1000.00', 'cap_adjustment c2 -500.00'],
    payable: '3000.00',
  },
  // SPIFs and milestone bonuses
  {
    name: 'SPIF flat per matching product, times the payee share; other products earn none',
    components: [rateTable(), { kind: 'spif', id: 'widget-spif', filter: { product: 'widget' }, payout: { type: 'flat', amount: '500' } }],
    credits: [credit('c1', '10000', { product: 'widget', share: '0.5' }), credit('c2', '10000', { product: 'gadget' })],
    lines: ['commission c1 t1 500.00', 'spif c1 250.00', 'commission c2 t1 1000.00'],
    payable: '1750.00',
  },
  {
    name: 'SPIF percent of credit for a deal type',
    components: [{ kind: 'spif', id: 'new-logo', filter: { dealType: 'new_logo' }, payout: { type: 'percent_of_credit', percent: '2' } }],
    credits: [credit('c1', '50000', { dealType: 'new_logo' }), credit('c2', '10000', { dealType: 'renewal' })],
    lines: ['spif c1 1000.00'],
    payable: '1000.00',
  },
  {
    name: 'milestone bonus: paid once, on the credit that first reaches the level (exactly 100%)',
    components: [{ kind: 'milestone_bonus', id: 'club', measure: 'bookings', milestones: [{ attainmentPercent: '100', amount: '2500' }] }],
    quotas: [quotaOf('100000')],
    credits: [credit('c1', '60000'), credit('c2', '40000'), credit('c3', '-10000'), credit('c4', '20000')],
    lines: ['bonus c2 2500.00'],
    payable: '2500.00',
  },
  {
    name: 'milestone bonus: one credit passing two levels pays both',
    components: [
      {
        kind: 'milestone_bonus',
        id: 'club',
        measure: 'bookings',
        milestones: [{ attainmentPercent: '150', amount: '5000' }, { attainmentPercent: '100', amount: '2500' }],
      },
    ],
    quotas: [quotaOf('100000')],
    credits: [credit('c1', '160000')],
    lines: ['bonus c1 2500.00', 'bonus c1 5000.00'],
    payable: '7500.00',
  },
  // Currencies
  {
    name: 'multi-currency: converted at the rate of the credit date; no rate means held, never guessed',
    fxRates: [{ currency: 'EUR', date: '2025-02-01', rateToPlanCurrency: '1.1' }],
    credits: [credit('c1', '10000', { currency: 'EUR' }), credit('c2', '5000', { currency: 'EUR', creditDate: '2025-02-02' })],
    lines: ['commission c1 t1 1100.00'],
    payable: '1100.00',
    heldCredits: ['c2 FX_RATE_MISSING'],
  },
  {
    name: 'multi-currency: a rate naming the plan currency wins; a rate into another plan currency is not used',
    fxRates: [
      { currency: 'EUR', date: '2025-02-01', rateToPlanCurrency: '1.1' },
      { currency: 'EUR', toCurrency: 'USD', date: '2025-02-01', rateToPlanCurrency: '1.2' },
      { currency: 'GBP', toCurrency: 'CHF', date: '2025-02-01', rateToPlanCurrency: '1.1' },
    ],
    credits: [credit('c1', '10000', { currency: 'EUR' }), credit('c2', '10000', { currency: 'GBP' })],
    lines: ['commission c1 t1 1200.00'],
    payable: '1200.00',
    heldCredits: ['c2 FX_RATE_MISSING'],
  },
  {
    name: 'rounding half-even: 0.125 → 0.12 and 0.135 → 0.14',
    credits: [credit('c1', '1.25'), credit('c2', '1.35')],
    lines: ['commission c1 t1 0.12', 'commission c2 t1 0.14'],
    payable: '0.26',
  },
  {
    name: 'rounding: the total is the sum of rounded lines (0.12 + 0.12), not the rounded sum (0.25)',
    credits: [credit('c1', '1.25'), credit('c2', '1.25')],
    lines: ['commission c1 t1 0.12', 'commission c2 t1 0.12'],
    payable: '0.24',
  },
  {
    name: 'rounding to the minor unit of a currency without decimals (JPY): 12.5 → 12, 13.5 → 14',
    planVersions: [planVersion({ currency: 'JPY', components: [rateTable({ tiers: [tier('0', null, '0.01')] })] })],
    credits: [credit('c1', '1250', { currency: 'JPY' }), credit('c2', '1350', { currency: 'JPY' })],
    lines: ['commission c1 t1 12', 'commission c2 t1 14'],
    payable: '26',
    currency: 'JPY',
  },
  // Effective dating and proration
  {
    name: 'mid-period plan change: each credit is priced by the version in force on its credit date',
    planVersions: [
      planVersion({ id: 'v1', effectiveFrom: '2024-01-01', components: [rateTable({ tiers: [tier('0', null, '0.05')] })] }),
      planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-02-15', components: [rateTable({ tiers: [tier('0', null, '0.08')] })] }),
    ],
    credits: [credit('c1', '100000', on('2025-02-14')), credit('c2', '100000', on('2025-02-15'))],
    lines: ['commission c1 t1 5000.00', 'commission c2 t1 8000.00'],
    linePlanVersions: ['v1', 'v2'],
    payable: '13000.00',
  },
  {
    name: 'mid-period plan change, marginal: the new version continues the climb from period-to-date attainment',
    planVersions: [
      planVersion({ id: 'v1', components: [rateTable({ tiers: fivePercentThenTen })] }),
      planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-03-01', components: [rateTable({ tiers: [tier('0', '100000', '0.06'), tier('100000', null, '0.12')] })] }),
    ],
    credits: [credit('c1', '80000', on('2025-02-01')), credit('c2', '40000', on('2025-03-01'))],
    lines: ['commission c1 t1 4000.00', 'commission c2 t1 1200.00', 'commission c2 t2 2400.00'],
    linePlanVersions: ['v1', 'v2', 'v2'],
    payable: '7600.00',
  },
  {
    name: 'mid-period plan change, retro: an earlier line is trued up at its own version rates',
    planVersions: [
      planVersion({ id: 'v1', components: [rateTable({ mode: 'retro', tiers: fivePercentThenTen })] }),
      planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-03-01', components: [rateTable({ mode: 'retro', tiers: [tier('0', '100000', '0.06'), tier('100000', null, '0.12')] })] }),
    ],
    credits: [credit('c1', '80000', on('2025-02-01')), credit('c2', '40000', on('2025-03-01'))],
    lines: ['commission c1 t1 4000.00', 'true_up c1 t2 4000.00', 'commission c2 t2 4800.00'],
    linePlanVersions: ['v1', 'v1', 'v2'],
    payable: '12800.00',
  },
  {
    name: 'mid-period quota change: time-weighted quota (300,000 × 59 + 360,000 × 31) / 90 = 320,666.67 decides the threshold',
    components: [rateTable({ thresholdPercent: '50' })],
    quotas: [quotaOf('300000'), quotaOf('360000', 'bookings', '2025-03-01')],
    credits: [credit('c1', '160000', on('2025-01-15')), credit('c2', '333.34', on('2025-03-15'))],
    lines: ['held(commission) c1 t1 16000.00', 'commission c2 t1 33.33', 'release c2 16000.00'],
    payable: '16033.33',
    attainment: { bookings: '50.00' },
  },
  {
    name: 'a payee who joins mid-period has a prorated quota (days before the first quota weigh zero)',
    components: [{ kind: 'milestone_bonus', id: 'club', measure: 'bookings', milestones: [{ attainmentPercent: '100', amount: '1000' }] }],
    quotas: [quotaOf('90000', 'bookings', '2025-03-02')],
    credits: [credit('c1', '30000', on('2025-03-20'))],
    lines: ['bonus c1 1000.00'],
    payable: '1000.00',
    attainment: { bookings: '100.00' },
  },
  // Measures and credits that cannot be priced
  {
    name: 'a component counts the measure it names (revenue, not bookings)',
    components: [rateTable({ measure: 'revenue' })],
    credits: [credit('c1', '80000', { measureAmounts: { bookings: '80000', revenue: '60000' } }), credit('c2', '5000', { measureAmounts: { bookings: '5000' } })],
    lines: ['commission c1 t1 6000.00'],
    payable: '6000.00',
  },
  {
    name: 'no plan assigned on the credit date: the credit is held and counts toward nothing',
    assignments: [{ payeeId: 'rep-1', planId: 'plan-ae', effectiveFrom: '2025-01-01', effectiveUntil: '2025-02-01' }],
    quotas: [quotaOf('1000')],
    credits: [credit('c1', '1000', on('2025-01-31')), credit('c2', '1000', on('2025-02-01'))],
    lines: ['commission c1 t1 100.00'],
    payable: '100.00',
    heldCredits: ['c2 NO_PLAN_ASSIGNED'],
    attainment: { bookings: '100.00' },
  },
  {
    name: 'no plan version in force yet on the credit date: the credit is held',
    planVersions: [planVersion({ effectiveFrom: '2025-03-01' })],
    credits: [credit('c1', '1000', on('2025-02-01')), credit('c2', '1000', on('2025-03-01'))],
    lines: ['commission c2 t1 100.00'],
    payable: '100.00',
    heldCredits: ['c1 NO_PLAN_VERSION_IN_FORCE'],
  },
  {
    name: 'a credit dated outside the period is held, not counted',
    credits: [credit('c1', '1000', on('2025-04-01'))],
    lines: [],
    payable: '0.00',
    heldCredits: ['c1 CREDIT_DATE_OUTSIDE_PERIOD'],
  },
  {
    name: 'attainment tiers without a quota: the credit is held for that component',
    components: [rateTable({ basis: 'attainment', tiers: [tier('0', null, '0.1')] })],
    credits: [credit('c1', '1000')],
    lines: [],
    payable: '0.00',
    heldCredits: ['c1 QUOTA_MISSING'],
  },
];

function inputOf(row: EngineCase): StatementInput {
  const planVersions = row.planVersions ?? [planVersion({ components: row.components ?? [rateTable()] })];
  const base = statementInput({ payeeId: row.payeeId ?? 'rep-1', planVersions, quotas: row.quotas ?? [], fxRates: row.fxRates ?? [], credits: row.credits });
  return row.assignments === undefined ? base : { ...base, assignments: row.assignments };
}

function incrementally(input: StatementInput): Statement {
  const state = startPeriod(input);
  const streamed = [];
  for (const item of [...input.credits].sort(compareCredits)) streamed.push(...applyCredit(state, item).newLines);
  const statement = statementOf(state);
  expect(statement.lines).toEqual(streamed);
  return statement;
}

describe('computeStatement', () => {
  test.each(cases)('$name', (row) => {
    const input = inputOf(row);
    const statement = computeStatement(input);

    expect(statement.lines.map(describeLine)).toEqual(row.lines);
    expect(statement.totals.payable).toBe(row.payable);
    expect(statement.totals.held).toBe(row.held ?? (row.currency === 'JPY' ? '0' : '0.00'));
    expect(statement.heldCredits.map((held) => `${held.creditId} ${held.reason}`)).toEqual(row.heldCredits ?? []);
    expect(statement.currency).toBe(row.currency ?? 'USD');
    if (row.attainment !== undefined) {
      for (const [measure, percent] of Object.entries(row.attainment)) {
        expect(statement.attainment.find((entry) => entry.measure === measure)?.percent).toBe(percent);
      }
    }
    if (row.linePlanVersions !== undefined) expect(statement.lines.map((line) => line.planVersionId)).toEqual(row.linePlanVersions);

    expect(incrementally(input)).toEqual(statement);
    expect(new Set(statement.lines.map((line) => line.lineId)).size).toBe(statement.lines.length);
  });
});

describe('statement lines explain themselves', () => {
  test('a split, converted credit shows the conversion, tier, rate and rounding in its formula', () => {
    const statement = computeStatement(
      statementInput({
        fxRates: [{ currency: 'EUR', date: '2025-02-01', rateToPlanCurrency: '1.0845' }],
        credits: [credit('c1', '12345.67', { currency: 'EUR', share: '0.7' })],
      }),
    );
    expect(statement.lines).toEqual([
      {
        lineId: '2025-Q1:rep-1:commission:plan-ae/commission:c1:t1',
        kind: 'commission',
        creditId: 'c1',
        dealId: 'deal-c1',
        planVersionId: 'plan-ae-v1',
        componentKey: 'plan-ae/commission',
        tier: 1,
        rate: '0.1',
        baseAmount: '9372.2153805',
        formula: 'tier 1 [0, ∞) rate 0.1: (12345.67 EUR × fx 1.0845 × share 0.7) = 9372.2153805 × 0.1 = 937.22153805',
        amountUnrounded: '937.22153805',
        amount: '937.22',
        currency: 'USD',
        sources: [{ eventId: 'event-c1', position: 1 }],
      },
    ]);
  });

  test('a true-up names both the credit it corrects and the credit that moved the tier', () => {
    const statement = computeStatement(
      statementInput({ planVersions: [planVersion({ components: [rateTable({ mode: 'retro', tiers: fivePercentThenTen })] })], credits: [credit('c1', '80000'), credit('c2', '40000')] }),
    );
    const trueUp = statement.lines.find((line) => line.kind === 'true_up')!;
    expect(trueUp.formula).toBe('true-up from tier 1 to tier 2 [100000, ∞) rate 0.1: 80000 × (0.1 − 0.05) = 4000');
    expect(trueUp.sources).toEqual([
      { eventId: 'event-c1', position: 1 },
      { eventId: 'event-c2', position: 2 },
    ]);
  });

  test('a release line lists the events behind every line it releases', () => {
    const statement = computeStatement(
      statementInput({
        planVersions: [planVersion({ components: [rateTable({ thresholdPercent: '50' })] })],
        quotas: [quotaOf('100000')],
        credits: [credit('c1', '20000'), credit('c2', '20000'), credit('c3', '20000')],
      }),
    );
    const release = statement.lines.find((line) => line.kind === 'release')!;
    expect(release.amount).toBe('4000.00');
    expect(release.sources.map((source) => source.eventId)).toEqual(['event-c1', 'event-c2', 'event-c3']);
  });

  test('attainment shows credited, the time-weighted quota and a two-decimal percent', () => {
    const statement = computeStatement(
      statementInput({ quotas: [quotaOf('300000'), quotaOf('360000', 'bookings', '2025-03-01')], credits: [credit('c1', '160000')] }),
    );
    expect(statement.attainment).toEqual([{ measure: 'bookings', credited: '160000.00', quota: '320666.67', percent: '49.90' }]);
  });
});

describe('incremental API', () => {
  const input = statementInput({ credits: [] });

  test('applying the same credit twice from the same event changes nothing (at-least-once delivery)', () => {
    const state = startPeriod(input);
    expect(applyCredit(state, credit('c1', '1000')).newLines).toHaveLength(1);
    expect(applyCredit(state, credit('c1', '1000')).newLines).toEqual([]);
    expect(statementOf(state).totals.payable).toBe('100.00');
  });

  test('a state that keeps no lines hands each credit its lines, counts them, and is read without them', () => {
    const state = startPeriod(input, { keepLines: false });
    const first = applyCredit(state, credit('c1', '1000')).newLines;
    expect(first).toHaveLength(1);
    expect(applyCredit(state, credit('c1', '1000')).newLines).toEqual([]);
    expect(applyCredit(state, credit('c2', '500')).newLines).toHaveLength(1);
    expect(lineCountOf(state)).toBe(2);
    expect(statementSummaryOf(state)).toEqual(expect.objectContaining({ lineCount: 2, totals: expect.objectContaining({ payable: '150.00' }) }));
    expect(() => statementOf(state)).toThrow('keeps no lines');
  });

  test('the same credit id from another event is a conflict', () => {
    const state = startPeriod(input);
    applyCredit(state, credit('c1', '1000'));
    expect(() => applyCredit(state, credit('c1', '2000', { eventId: 'other' }))).toThrow(
      expect.objectContaining({ code: 'CREDIT.DUPLICATE_ID', kind: 'conflict' }),
    );
  });

  test('tells a projection when a back-dated credit calls for a full recompute', () => {
    const state = startPeriod(input);
    applyCredit(state, credit('c5', '1000', on('2025-02-10')));
    expect(sortsAfterLastApplied(state, credit('c6', '1000', on('2025-02-10')))).toBe(true);
    expect(sortsAfterLastApplied(state, credit('c2', '1000', on('2025-02-09')))).toBe(false);
  });

  test('an invalid plan version is refused with every problem in one error', () => {
    const broken = planVersion({ components: [rateTable({ tiers: [tier('10', '5', '-0.1')] })] });
    try {
      computeStatement(statementInput({ planVersions: [broken], credits: [credit('c1', '1')] }));
      throw new Error('expected a DomainError');
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('PLAN.INVALID');
      expect((error as DomainError).fields.map((field) => field.field)).toEqual([
        'components[0].tiers[0].from',
        'components[0].tiers[0].to',
        'components[0].tiers[0].to',
        'components[0].tiers[0].rate',
      ]);
    }
  });

  test('a credit amount that is not a decimal string is refused', () => {
    expect(() => computeStatement(statementInput({ credits: [credit('c1', '1e5')] }))).toThrow(expect.objectContaining({ code: 'VALIDATION.DECIMAL' }));
  });
});
