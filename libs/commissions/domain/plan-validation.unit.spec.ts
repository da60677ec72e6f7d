import { benefitMonthsOf, calendarIdOf, type ClawbackTermsInput, type PlanVersionInput } from './commission-plan.js';
import { validateAssignment, validatePlanHistory, validatePlanVersion, validateQuota } from './plan-validation.js';
import { multiplierTier, planVersion, rateTable, tier } from './testing/statement-fixtures.js';

/** Each row breaks one rule of an otherwise valid plan version and names the exact code and field expected. */

const clawback90: ClawbackTermsInput = { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '100', reducesAttainment: true };

const withTable = (overrides: Parameters<typeof rateTable>[0]): PlanVersionInput => planVersion({ components: [rateTable(overrides)] });

const rejections: { name: string; plan: PlanVersionInput; code: string; field: string }[] = [
  { name: 'overlapping tiers', plan: withTable({ tiers: [tier('0', '100', '0.1'), tier('50', null, '0.2')] }), code: 'PLAN.TIERS_OVERLAP', field: 'components[0].tiers[1].from' },
  { name: 'a tier after an open tier', plan: withTable({ tiers: [tier('0', null, '0.1'), tier('50', null, '0.2')] }), code: 'PLAN.TIERS_OVERLAP', field: 'components[0].tiers[1].from' },
  { name: 'gapped tiers', plan: withTable({ tiers: [tier('0', '100', '0.1'), tier('150', null, '0.2')] }), code: 'PLAN.TIERS_GAP', field: 'components[0].tiers[1].from' },
  { name: 'tiers not starting at 0', plan: withTable({ tiers: [tier('10', null, '0.1')] }), code: 'PLAN.TIERS_NOT_FROM_ZERO', field: 'components[0].tiers[0].from' },
  { name: 'a closed last tier', plan: withTable({ tiers: [tier('0', '100', '0.1')] }), code: 'PLAN.TIERS_NOT_OPEN_ENDED', field: 'components[0].tiers[0].to' },
  {
    name: 'an empty tier range',
    plan: withTable({ tiers: [tier('0', '100', '0.1'), tier('100', '100', '0.2'), tier('100', null, '0.3')] }),
    code: 'PLAN.TIER_RANGE_EMPTY',
    field: 'components[0].tiers[1].to',
  },
  { name: 'no tiers', plan: withTable({ tiers: [] }), code: 'PLAN.TIERS_EMPTY', field: 'components[0].tiers' },
  { name: 'a negative rate', plan: withTable({ tiers: [tier('0', null, '-0.1')] }), code: 'PLAN.RATE_NEGATIVE', field: 'components[0].tiers[0].rate' },
  { name: 'a negative multiplier', plan: withTable({ baseRate: '0.1', tiers: [multiplierTier('0', null, '-1')] }), code: 'PLAN.RATE_NEGATIVE', field: 'components[0].tiers[0].multiplier' },
  { name: 'a rate that is not a decimal string', plan: withTable({ tiers: [tier('0', null, '10%')] }), code: 'PLAN.DECIMAL_INVALID', field: 'components[0].tiers[0].rate' },
  {
    name: 'a tier with both a rate and a multiplier',
    plan: withTable({ baseRate: '0.1', tiers: [{ from: '0', to: null, rate: '0.1', multiplier: '1' }] }),
    code: 'PLAN.TIER_RATE_AMBIGUOUS',
    field: 'components[0].tiers[0].rate',
  },
  { name: 'a tier with neither rate nor multiplier', plan: withTable({ tiers: [{ from: '0', to: null }] }), code: 'PLAN.TIER_RATE_AMBIGUOUS', field: 'components[0].tiers[0].rate' },
  { name: 'multipliers without a base rate', plan: withTable({ tiers: [multiplierTier('0', null, '1')] }), code: 'PLAN.BASE_RATE_MISSING', field: 'components[0].baseRate' },
  {
    name: 'both a base rate and a target incentive',
    plan: withTable({ baseRate: '0.1', targetIncentive: '50000', tiers: [multiplierTier('0', null, '1')] }),
    code: 'PLAN.BASE_RATE_AMBIGUOUS',
    field: 'components[0].baseRate',
  },
  { name: 'a period cap below zero', plan: withTable({ capPerPeriod: '-1' }), code: 'PLAN.CAP_NEGATIVE', field: 'components[0].capPerPeriod' },
  { name: 'a per-deal cap below zero', plan: withTable({ capPerDeal: '-0.01' }), code: 'PLAN.CAP_NEGATIVE', field: 'components[0].capPerDeal' },
  { name: 'a cap finer than the currency minor unit', plan: withTable({ capPerPeriod: '100.001' }), code: 'PLAN.CAP_PRECISION', field: 'components[0].capPerPeriod' },
  { name: 'a negative threshold', plan: withTable({ thresholdPercent: '-5' }), code: 'PLAN.THRESHOLD_NEGATIVE', field: 'components[0].thresholdPercent' },
  { name: 'an unknown mode', plan: withTable({ mode: 'tiered' as never }), code: 'PLAN.MODE_UNKNOWN', field: 'components[0].mode' },
  { name: 'an unknown basis', plan: withTable({ basis: 'units' as never }), code: 'PLAN.BASIS_UNKNOWN', field: 'components[0].basis' },
  { name: 'a rate table without a measure', plan: withTable({ measure: '' }), code: 'PLAN.MEASURE_REQUIRED', field: 'components[0].measure' },
  {
    name: 'an unknown component kind',
    plan: planVersion({ components: [{ kind: 'draw', id: 'draw' } as never] }),
    code: 'PLAN.COMPONENT_KIND_UNKNOWN',
    field: 'components[0].kind',
  },
  { name: 'duplicate component ids', plan: planVersion({ components: [rateTable(), rateTable()] }), code: 'PLAN.COMPONENT_ID_DUPLICATE', field: 'components[1].id' },
  { name: 'no components', plan: planVersion({ components: [] }), code: 'PLAN.COMPONENTS_EMPTY', field: 'components' },
  {
    name: 'a SPIF with no filter',
    plan: planVersion({ components: [{ kind: 'spif', id: 'spif', filter: {}, payout: { type: 'flat', amount: '100' } }] }),
    code: 'PLAN.SPIF_FILTER_EMPTY',
    field: 'components[0].filter',
  },
  {
    name: 'a SPIF with an unknown payout',
    plan: planVersion({ components: [{ kind: 'spif', id: 'spif', filter: { product: 'x' }, payout: { type: 'tiered' } as never }] }),
    code: 'PLAN.SPIF_PAYOUT_UNKNOWN',
    field: 'components[0].payout.type',
  },
  {
    name: 'a milestone level given twice',
    plan: planVersion({
      components: [{ kind: 'milestone_bonus', id: 'club', measure: 'bookings', milestones: [{ attainmentPercent: '100', amount: '1' }, { attainmentPercent: '100.0', amount: '2' }] }],
    }),
    code: 'PLAN.MILESTONE_DUPLICATE',
    field: 'components[0].milestones[1].attainmentPercent',
  },
  { name: 'a lower-case currency', plan: planVersion({ currency: 'usd' }), code: 'PLAN.CURRENCY_INVALID', field: 'currency' },
  { name: 'an unknown period frequency', plan: planVersion({ periodFrequency: 'week' as never }), code: 'PLAN.FREQUENCY_UNKNOWN', field: 'periodFrequency' },
  { name: 'a date that does not exist', plan: planVersion({ effectiveFrom: '2025-02-29' }), code: 'PLAN.DATE_INVALID', field: 'effectiveFrom' },
  { name: 'version 0', plan: planVersion({ version: 0 }), code: 'PLAN.VERSION_INVALID', field: 'version' },
  { name: 'a capitalizable plan without benefit months', plan: planVersion({ capitalizable: true, benefitMonths: null }), code: 'PLAN.BENEFIT_MONTHS_INVALID', field: 'benefitMonths' },
  { name: 'a component benefit period of zero months', plan: withTable({ benefitMonths: 0 }), code: 'PLAN.BENEFIT_MONTHS_INVALID', field: 'components[0].benefitMonths' },
  { name: 'a fractional component benefit period', plan: withTable({ benefitMonths: 2.5 }), code: 'PLAN.BENEFIT_MONTHS_INVALID', field: 'components[0].benefitMonths' },
  { name: 'a calendar id with a space', plan: planVersion({ calendarId: 'sales monthly' }), code: 'PLAN.CALENDAR_INVALID', field: 'calendarId' },
  { name: 'a clawback above 100%', plan: planVersion({ clawback: { ...clawback90, percent: '100.5' } }), code: 'PLAN.CLAWBACK_PERCENT_INVALID', field: 'clawback.percent' },
  { name: 'a negative clawback percentage', plan: planVersion({ clawback: { ...clawback90, percent: '-1' } }), code: 'PLAN.CLAWBACK_PERCENT_INVALID', field: 'clawback.percent' },
  { name: 'a clawback window in weeks', plan: planVersion({ clawback: { ...clawback90, window: { length: 2, unit: 'weeks' as never } } }), code: 'PLAN.CLAWBACK_WINDOW_INVALID', field: 'clawback.window.unit' },
  { name: 'a negative clawback window', plan: planVersion({ clawback: { ...clawback90, window: { length: -1, unit: 'days' } } }), code: 'PLAN.CLAWBACK_WINDOW_INVALID', field: 'clawback.window.length' },
  { name: 'a clawback window from an unknown date', plan: planVersion({ clawback: { ...clawback90, windowStartsFrom: 'paid_date' as never } }), code: 'PLAN.CLAWBACK_ANCHOR_UNKNOWN', field: 'clawback.windowStartsFrom' },
  { name: 'a clawback without an attainment setting', plan: planVersion({ clawback: { ...clawback90, reducesAttainment: 'yes' as never } }), code: 'PLAN.CLAWBACK_ATTAINMENT_INVALID', field: 'clawback.reducesAttainment' },
  { name: 'a draw of an unknown kind', plan: planVersion({ draw: { kind: 'forgivable' as never, amountPerPeriod: '2000.00' } }), code: 'PLAN.DRAW_KIND_UNKNOWN', field: 'draw.kind' },
  { name: 'a negative draw', plan: planVersion({ draw: { kind: 'recoverable', amountPerPeriod: '-2000.00' } }), code: 'PLAN.DRAW_NEGATIVE', field: 'draw.amountPerPeriod' },
  { name: 'a draw finer than the minor unit', plan: planVersion({ draw: { kind: 'recoverable', amountPerPeriod: '2000.005' } }), code: 'PLAN.DRAW_PRECISION', field: 'draw.amountPerPeriod' },
  { name: 'a draw amount as a number', plan: planVersion({ draw: { kind: 'recoverable', amountPerPeriod: 2000 as never } }), code: 'PLAN.DECIMAL_INVALID', field: 'draw.amountPerPeriod' },
];

describe('validatePlanVersion', () => {
  test.each(rejections)('rejects $name with $code', ({ plan, code, field }) => {
    const errors = validatePlanVersion(plan);
    expect(errors.map((error) => [error.code, error.fields[0]?.field])).toEqual([[code, field]]);
    expect(errors[0]!.kind).toBe('validation');
  });

  test.each([
    ['a flat-rate plan', planVersion()],
    ['a capitalizable plan with benefit months', planVersion({ capitalizable: true, benefitMonths: 36 })],
    ['one capitalizable component', planVersion({ components: [rateTable({ benefitMonths: 60 })] })],
    [
      'a calendar, clawback terms and a draw',
      planVersion({ calendarId: 'sales-monthly', clawback: { ...clawback90, percent: '50', reducesAttainment: false }, draw: { kind: 'non_recoverable', amountPerPeriod: '2000.00' } }),
    ],
    ['a clawback window of months from the close date', planVersion({ clawback: { ...clawback90, window: { length: 6, unit: 'months' }, windowStartsFrom: 'close_date' } })],
    ['no clawback and no draw, said explicitly', planVersion({ clawback: null, draw: null })],
    [
      'a plan using every component kind',
      planVersion({
        components: [
          rateTable({ basis: 'attainment', mode: 'retro', targetIncentive: '50000', tiers: [multiplierTier('0', '50', '0.5'), multiplierTier('50', '100', '1'), multiplierTier('100', null, '2')], capPerPeriod: '150000.00', capPerDeal: '20000', thresholdPercent: '25' }),
          { kind: 'spif', id: 'spif', filter: { product: 'widget', dealType: 'new_logo' }, payout: { type: 'percent_of_credit', percent: '2.5' } },
          { kind: 'milestone_bonus', id: 'club', measure: 'bookings', milestones: [{ attainmentPercent: '100', amount: '2500' }] },
        ],
      }),
    ],
  ])('accepts %s', (_name, plan) => {
    expect(validatePlanVersion(plan)).toEqual([]);
  });
});

describe('validatePlanHistory', () => {
  const v1 = planVersion();
  test.each([
    ['a changed currency', [v1, planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-04-01', currency: 'EUR' })], 'PLAN.CURRENCY_CHANGED', 'versions[1].currency'],
    ['a changed frequency', [v1, planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-04-01', periodFrequency: 'month' })], 'PLAN.FREQUENCY_CHANGED', 'versions[1].periodFrequency'],
    ['a repeated version number', [v1, planVersion({ id: 'v2', effectiveFrom: '2025-04-01' })], 'PLAN.VERSION_DUPLICATE', 'versions[1].version'],
    ['a later version dated before an earlier one', [v1, planVersion({ id: 'v2', version: 2, effectiveFrom: '2024-12-01' })], 'PLAN.VERSION_ORDER', 'versions[1].effectiveFrom'],
    ['a changed calendar', [v1, planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-04-01', calendarId: 'field-sales' })], 'PLAN.CALENDAR_CHANGED', 'versions[1].calendarId'],
  ])('rejects %s', (_name, versions, code, field) => {
    expect(validatePlanHistory(versions).map((error) => [error.code, error.fields[0]?.field])).toEqual([[code, field]]);
  });

  test('accepts versions in date order with the same currency and frequency', () => {
    expect(validatePlanHistory([planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-04-01' }), v1])).toEqual([]);
  });
});

describe('payout settings', () => {
  test('a plan closes in the calendar of its frequency unless it names one', () => {
    expect([calendarIdOf(planVersion({ periodFrequency: 'month' })), calendarIdOf(planVersion({ periodFrequency: 'quarter' })), calendarIdOf(planVersion({ periodFrequency: 'year' }))]).toEqual([
      'monthly',
      'quarterly',
      'yearly',
    ]);
    expect(calendarIdOf(planVersion({ calendarId: 'field-sales' }))).toBe('field-sales');
  });

  test('a component is capitalised when it says so, or when the whole plan is', () => {
    expect(benefitMonthsOf({ capitalizable: false, benefitMonths: null }, { benefitMonths: 60 })).toBe(60);
    expect(benefitMonthsOf({ capitalizable: false, benefitMonths: null }, {})).toBeNull();
    expect(benefitMonthsOf({ capitalizable: true, benefitMonths: 36 }, {})).toBe(36);
    expect(benefitMonthsOf({ capitalizable: true, benefitMonths: 36 }, { benefitMonths: 12 })).toBe(12);
  });

  test('keeping the default calendar across versions is no change', () => {
    const v1 = planVersion({ periodFrequency: 'month' });
    expect(validatePlanHistory([v1, planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-04-01', periodFrequency: 'month', calendarId: 'monthly' })])).toEqual([]);
  });
});

describe('assignments and quotas', () => {
  test('an assignment must end after it starts', () => {
    expect(validateAssignment({ payeeId: 'p', planId: 'x', effectiveFrom: '2025-02-01', effectiveUntil: '2025-02-01' }).map((error) => error.code)).toEqual(['ASSIGNMENT.RANGE_EMPTY']);
    expect(validateAssignment({ payeeId: 'p', planId: 'x', effectiveFrom: '2025-02-01', effectiveUntil: null })).toEqual([]);
  });

  test('a quota must be a non-negative decimal with a measure and a date', () => {
    expect(validateQuota({ measure: 'bookings', amount: '-1', effectiveFrom: '2025-01-01' }).map((error) => error.code)).toEqual(['QUOTA.NEGATIVE']);
    expect(validateQuota({ measure: '', amount: '1', effectiveFrom: '2025-13-01' }).map((error) => error.code)).toEqual(['PLAN.MEASURE_REQUIRED', 'QUOTA.DATE_INVALID']);
  });
});
