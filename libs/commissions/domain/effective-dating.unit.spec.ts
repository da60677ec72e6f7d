import type { QuotaInput } from './commission-plan.js';
import { dayNumber, daysInPeriod, isDateString, nextDate, periodContaining, planVersionInForce, resolvePlanVersions, timeWeightedQuota } from './effective-dating.js';
import { planVersion, quarter } from './testing/statement-fixtures.js';

describe('calendar dates', () => {
  test.each([
    ['1970-01-01', 0],
    ['2000-03-01', 11017],
    ['2024-02-29', 19782],
    ['2025-02-29', null],
    ['2025-13-01', null],
    ['2025-1-01', null],
    ['20250101', null],
    ['2025-0a-01', null],
    ['2025/01/01', null],
    ['2025-01-00', null],
    ['2100-02-29', null],
    ['2000-02-29', 11016],
  ])('dayNumber(%s) = %s, and isDateString agrees', (date, expected) => {
    expect(dayNumber(date)).toBe(expected);
    expect(isDateString(date)).toBe(expected !== null);
  });

  test('nextDate crosses month, leap day and year ends', () => {
    expect(nextDate('2024-02-28')).toBe('2024-02-29');
    expect(nextDate('2024-02-29')).toBe('2024-03-01');
    expect(nextDate('2025-12-31')).toBe('2026-01-01');
  });

  test.each([
    ['2025-02-14', 'month', { id: '2025-02', start: '2025-02-01', end: '2025-02-28' }],
    ['2024-02-14', 'month', { id: '2024-02', start: '2024-02-01', end: '2024-02-29' }],
    ['2025-05-31', 'quarter', { id: '2025-Q2', start: '2025-04-01', end: '2025-06-30' }],
    ['2025-12-31', 'quarter', { id: '2025-Q4', start: '2025-10-01', end: '2025-12-31' }],
    ['2025-07-04', 'year', { id: '2025', start: '2025-01-01', end: '2025-12-31' }],
  ] as const)('periodContaining(%s, %s)', (date, frequency, expected) => {
    expect(periodContaining(date, frequency)).toEqual(expected);
  });

  test('a quarter has 90 days in 2025', () => {
    expect(daysInPeriod(quarter)).toBe(90);
  });
});

describe('plan version in force', () => {
  const versions = [
    planVersion({ id: 'v1', effectiveFrom: '2025-01-01' }),
    planVersion({ id: 'v3', version: 3, effectiveFrom: '2025-03-01' }),
    planVersion({ id: 'v2', version: 2, effectiveFrom: '2025-02-15' }),
    planVersion({ id: 'other', planId: 'plan-se', effectiveFrom: '2024-01-01' }),
  ];

  test.each([
    ['2024-12-31', null],
    ['2025-01-01', 'v1'],
    ['2025-02-14', 'v1'],
    ['2025-02-15', 'v2'],
    ['2025-12-31', 'v3'],
  ])('on %s the version in force is %s', (date, expected) => {
    expect(planVersionInForce(versions, 'plan-ae', date)?.id ?? null).toBe(expected);
  });

  test('assignments decide which plans apply; an assignment ends the day before effectiveUntil', () => {
    const assignments = [
      { payeeId: 'rep-1', planId: 'plan-ae', effectiveFrom: '2025-01-01', effectiveUntil: '2025-03-01' },
      { payeeId: 'rep-1', planId: 'plan-se', effectiveFrom: '2025-02-01', effectiveUntil: null },
      { payeeId: 'rep-2', planId: 'plan-ae', effectiveFrom: '2020-01-01', effectiveUntil: null },
    ];
    expect(resolvePlanVersions(versions, assignments, 'rep-1', '2025-02-28').versions.map((version) => version.id)).toEqual(['v2', 'other']);
    expect(resolvePlanVersions(versions, assignments, 'rep-1', '2025-03-01').versions.map((version) => version.id)).toEqual(['other']);
    expect(resolvePlanVersions(versions, assignments, 'rep-1', '2025-01-15').planIds).toEqual(['plan-ae']);
  });
});

describe('time-weighted quota (proration policy point 3)', () => {
  const quota = (amount: string, effectiveFrom: string, measure = 'bookings'): QuotaInput => ({ measure, amount, effectiveFrom });

  test.each([
    ['one quota set before the period applies in full', [quota('300000', '2024-06-01')], '300000.00'],
    ['a later quota replaces an earlier one before the period starts', [quota('250000', '2024-01-01'), quota('300000', '2024-12-01')], '300000.00'],
    ['a raise on 1 March weighs 59 days at 300,000 and 31 at 360,000', [quota('300000', '2025-01-01'), quota('360000', '2025-03-01')], '320666.67'],
    ['a quota first set mid-period prorates from that day (31 of 90 days)', [quota('90000', '2025-03-01')], '31000.00'],
    ['a quota that starts after the period is ignored', [quota('300000', '2025-01-01'), quota('999999', '2025-04-01')], '300000.00'],
    ['a quota for another measure does not count', [quota('300000', '2025-01-01', 'revenue')], null],
    ['no quota at all', [], null],
  ])('%s', (_name, quotas, expected) => {
    expect(timeWeightedQuota(quotas, 'bookings', quarter, 'USD')?.toFixed(2) ?? null).toBe(expected);
  });

  test('the weighted quota is rounded to the currency minor unit (JPY: none)', () => {
    expect(timeWeightedQuota([quota('1000', '2025-01-01'), quota('2000', '2025-03-01')], 'bookings', quarter, 'JPY')?.toString()).toBe('1344');
  });
});
