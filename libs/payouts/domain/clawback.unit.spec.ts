import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Money } from '#lib/shared/domain/money.js';
import { addDays, addMonths, dayNumber, formatIsoDate, fromDayNumber, parseIsoDate } from '#lib/shared/domain/calendar-date.js';
import { computeClawback, type ClawbackPolicy, type DealCancellation } from './clawback.js';

const ninetyDays: ClawbackPolicy = { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', reducesAttainment: true };
const june500: DealCancellation = {
  payeeId: 'ada',
  dealId: 'd-7',
  cancellationId: 'evt-91',
  cancelledOn: '2025-08-20',
  creditDate: '2025-06-12',
  commissionPaid: '500.00',
  currency: 'USD',
  targetPeriodId: '2025-08',
};

describe('clawbacks', () => {
  it('published: 500 paid in June on a deal cancelled in August claws back -500 in August', () => {
    const result = computeClawback(june500, ninetyDays);
    expect(result).toMatchObject({
      outcome: 'clawed_back',
      line: { kind: 'clawback', amount: '-500.00', currency: 'USD', dealId: 'd-7', payeeId: 'ada', targetPeriodId: '2025-08' },
      reducesAttainment: true,
      windowEndsOn: '2025-09-10',
    });
    expect(result.explanation).toContain('69 days after its credit date 2025-06-12');
  });

  it('published: a 50% clawback of 10,000 earned is -5,000', () => {
    const result = computeClawback({ ...june500, commissionPaid: '10000.00' }, { ...ninetyDays, percent: '50', reducesAttainment: false });
    expect(result.line?.amount).toBe('-5000.00');
    expect(result.reducesAttainment).toBe(false);
  });

  it.each([
    { name: 'last day of a day window is inside', policy: ninetyDays, cancelledOn: '2025-09-10', outcome: 'clawed_back', amount: '-500.00' },
    { name: 'the day after a day window is outside', policy: ninetyDays, cancelledOn: '2025-09-11', outcome: 'outside_window', amount: null },
    { name: 'same day as credit is inside', policy: ninetyDays, cancelledOn: '2025-06-12', outcome: 'clawed_back', amount: '-500.00' },
    { name: 'a month window runs to the same day of the month', policy: { ...ninetyDays, window: { length: 3, unit: 'months' } } as ClawbackPolicy, cancelledOn: '2025-09-12', outcome: 'clawed_back', amount: '-500.00' },
    { name: 'a month window ends that day', policy: { ...ninetyDays, window: { length: 3, unit: 'months' } } as ClawbackPolicy, cancelledOn: '2025-09-13', outcome: 'outside_window', amount: null },
    { name: 'applies a fractional percentage', policy: { ...ninetyDays, percent: '33.3' }, cancelledOn: '2025-07-01', outcome: 'clawed_back', amount: '-166.50' },
    { name: 'rounds once, half-even, down to the even cent', policy: { ...ninetyDays, percent: '50' }, commissionPaid: '0.25', cancelledOn: '2025-07-01', outcome: 'clawed_back', amount: '-0.12' },
    { name: 'rounds once, half-even, up to the even cent', policy: { ...ninetyDays, percent: '50' }, commissionPaid: '0.07', cancelledOn: '2025-07-01', outcome: 'clawed_back', amount: '-0.04' },
    { name: 'a zero percent claws back nothing', policy: { ...ninetyDays, percent: '0' }, cancelledOn: '2025-07-01', outcome: 'nothing_to_claw_back', amount: null },
  ])('$name', ({ policy, cancelledOn, outcome, amount, ...rest }) => {
    const commissionPaid = ('commissionPaid' in rest ? rest.commissionPaid : undefined) ?? june500.commissionPaid;
    const result = computeClawback({ ...june500, cancelledOn, commissionPaid }, policy);
    expect(result.outcome).toBe(outcome);
    expect(result.line?.amount ?? null).toBe(amount);
  });

  it('says why nothing is clawed back outside the window', () => {
    const result = computeClawback({ ...june500, cancelledOn: '2025-10-01' }, ninetyDays);
    expect(result.line).toBeNull();
    expect(result.explanation).toBe(
      'Deal d-7 was cancelled on 2025-10-01, 111 days after its credit date 2025-06-12, after the 90-day clawback window ended on 2025-09-10: nothing is clawed back.',
    );
  });

  it('measures from the close date when the plan says so, clamping month ends', () => {
    const policy: ClawbackPolicy = { window: { length: 1, unit: 'months' }, windowStartsFrom: 'close_date', reducesAttainment: false };
    const result = computeClawback({ ...june500, closeDate: '2024-01-31', creditDate: '2024-03-01', cancelledOn: '2024-02-29' }, policy);
    expect(result).toMatchObject({ outcome: 'clawed_back', windowEndsOn: '2024-02-29' });
  });

  it('the same cancellation always gives the same line id', () => {
    expect(computeClawback(june500, ninetyDays).line?.lineId).toBe(computeClawback({ ...june500 }, ninetyDays).line?.lineId);
    expect(computeClawback({ ...june500, cancellationId: 'evt-92' }, ninetyDays).line?.lineId).not.toBe(computeClawback(june500, ninetyDays).line?.lineId);
  });

  it.each([
    { name: 'a cancellation before the credit date', change: { cancelledOn: '2025-06-11' }, policy: ninetyDays, code: 'CLAWBACK.CANCELLED_BEFORE_START' },
    { name: 'an impossible date', change: { cancelledOn: '2025-02-30' }, policy: ninetyDays, code: 'VALIDATION.DATE' },
    { name: 'a percentage above 100', change: {}, policy: { ...ninetyDays, percent: '100.01' }, code: 'CLAWBACK.PERCENT_OUT_OF_RANGE' },
    { name: 'a negative window', change: {}, policy: { ...ninetyDays, window: { length: -1, unit: 'days' } } as ClawbackPolicy, code: 'CLAWBACK.WINDOW_INVALID' },
    { name: 'a negative commission paid', change: { commissionPaid: '-5.00' }, policy: ninetyDays, code: 'VALIDATION.NEGATIVE' },
    { name: 'a close-date window without a close date', change: {}, policy: { ...ninetyDays, windowStartsFrom: 'close_date' } as ClawbackPolicy, code: 'VALIDATION.DATE' },
  ])('rejects $name', ({ change, policy, code }) => {
    expect(() => computeClawback({ ...june500, ...change }, policy)).toThrow(expect.objectContaining({ code }));
  });

  it('never claws back more than was paid, and only inside the window', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10_000_000n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        (paidCents, percentBasisPoints, windowDays, elapsedDays) => {
          const commissionPaid = new Money(paidCents.toString()).div(100).toFixed(2);
          const percent = (percentBasisPoints / 100).toFixed(2);
          const cancelledOn = formatIsoDate(addDays(parseIsoDate('2025-06-12', 'd'), elapsedDays));
          const result = computeClawback({ ...june500, commissionPaid, cancelledOn }, { ...ninetyDays, percent, window: { length: windowDays, unit: 'days' } });
          if (elapsedDays > windowDays) expect(result.outcome).toBe('outside_window');
          if (result.line !== null) {
            expect(elapsedDays).toBeLessThanOrEqual(windowDays);
            expect(new Money(result.line.amount).isNegative()).toBe(true);
            expect(new Money(result.line.amount).negated().lessThanOrEqualTo(commissionPaid)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('calendar dates', () => {
  it('round-trips day numbers across leap years and centuries', () => {
    for (const date of ['1970-01-01', '2000-02-29', '1900-03-01', '2024-12-31', '2100-02-28']) {
      expect(formatIsoDate(fromDayNumber(dayNumber(parseIsoDate(date, 'd'))))).toBe(date);
    }
    expect(dayNumber(parseIsoDate('1970-01-02', 'd'))).toBe(1);
    expect(formatIsoDate(addMonths(parseIsoDate('2025-01-31', 'd'), 1))).toBe('2025-02-28');
    expect(formatIsoDate(addMonths(parseIsoDate('2025-11-15', 'd'), 3))).toBe('2026-02-15');
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (days) => {
        expect(dayNumber(fromDayNumber(days))).toBe(days);
        expect(dayNumber(addDays(fromDayNumber(days), 1))).toBe(days + 1);
      }),
      { numRuns: 300 },
    );
  });
});
