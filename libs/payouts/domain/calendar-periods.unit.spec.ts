import { describe, expect, it } from '@jest/globals';
import { nextPeriodId, previousPeriodId, shiftPeriodId } from './calendar-periods.js';

describe('calendar periods', () => {
  it.each([
    ['2026-03', '2026-02', '2026-04'],
    ['2026-01', '2025-12', '2026-02'],
    ['2026-12', '2026-11', '2027-01'],
    ['2026-Q1', '2025-Q4', '2026-Q2'],
    ['2026-Q4', '2026-Q3', '2027-Q1'],
    ['2026', '2025', '2027'],
  ])('%s comes after %s and before %s', (periodId, previous, next) => {
    expect([previousPeriodId(periodId), nextPeriodId(periodId)]).toEqual([previous, next]);
  });

  it('shifts by several periods and back', () => {
    expect(shiftPeriodId('2026-03', 14)).toBe('2027-05');
    expect(shiftPeriodId(shiftPeriodId('2026-Q2', -9), 9)).toBe('2026-Q2');
  });

  it('refuses what is not a period id', () => {
    expect(() => nextPeriodId('2026-13')).toThrow(expect.objectContaining({ code: 'PERIOD.INVALID_ID' }));
  });
});
