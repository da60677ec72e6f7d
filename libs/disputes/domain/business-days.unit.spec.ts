import { addBusinessDays, addCalendarDays, businessDaysBetween, dayNumberOf, isBusinessDay, isoDateOf } from './business-days.js';

describe('business days', () => {
  it('counts days since 1970-01-01 both ways, across leap days and centuries', () => {
    expect(dayNumberOf('1970-01-01')).toBe(0);
    expect(dayNumberOf('2000-03-01')).toBe(11017);
    for (const date of ['1969-12-31', '2000-02-29', '2024-02-29', '2026-03-16', '2100-03-01', '1900-02-28']) {
      expect(isoDateOf(dayNumberOf(date))).toBe(date);
    }
    // Every day of four years round-trips and advances by one.
    for (let day = dayNumberOf('2023-01-01'); day < dayNumberOf('2027-01-01'); day++) expect(dayNumberOf(isoDateOf(day))).toBe(day);
  });

  it('knows weekends: 2026-03-14 is a Saturday, 2026-03-16 a Monday', () => {
    expect(isBusinessDay('2026-03-13')).toBe(true);
    expect(isBusinessDay('2026-03-14')).toBe(false);
    expect(isBusinessDay('2026-03-15')).toBe(false);
    expect(isBusinessDay('2026-03-16')).toBe(true);
  });

  it.each([
    // from, business days, due
    ['2026-03-16', 0, '2026-03-16'], // Monday, nothing to add
    ['2026-03-14', 0, '2026-03-16'], // Saturday rolls to Monday
    ['2026-03-16', 1, '2026-03-17'],
    ['2026-03-13', 1, '2026-03-16'], // Friday + 1 = Monday
    ['2026-03-16', 5, '2026-03-23'], // a week
    ['2026-03-16', 10, '2026-03-30'],
    ['2026-03-12', 3, '2026-03-17'], // Thursday + 3 crosses a weekend
    ['2026-03-15', 1, '2026-03-17'], // Sunday counts from Monday
    ['2026-12-31', 2, '2027-01-04'],
  ])('%s + %i business days = %s', (from, days, due) => {
    expect(addBusinessDays(from, days)).toBe(due);
  });

  it('agrees with a day-by-day count for every start and length over several weeks', () => {
    const naive = (from: string, days: number): string => {
      let day = dayNumberOf(from);
      while (!isBusinessDay(isoDateOf(day))) day++;
      for (let remaining = days; remaining > 0; ) {
        day++;
        if (isBusinessDay(isoDateOf(day))) remaining--;
      }
      return isoDateOf(day);
    };
    for (let start = dayNumberOf('2026-03-01'); start < dayNumberOf('2026-03-15'); start++) {
      for (let days = 0; days <= 23; days++) expect(addBusinessDays(isoDateOf(start), days)).toBe(naive(isoDateOf(start), days));
    }
  });

  it('counts the business days in (from, to], negative backwards', () => {
    expect(businessDaysBetween('2026-03-13', '2026-03-16')).toBe(1);
    expect(businessDaysBetween('2026-03-16', '2026-03-16')).toBe(0);
    expect(businessDaysBetween('2026-03-16', '2026-03-30')).toBe(10);
    expect(businessDaysBetween('2026-03-14', '2026-03-15')).toBe(0);
    expect(businessDaysBetween('2026-03-30', '2026-03-16')).toBe(-10);
    for (let start = dayNumberOf('2026-03-01'); start < dayNumberOf('2026-03-08'); start++) {
      for (let days = 0; days <= 12; days++) {
        const from = isoDateOf(start);
        if (isBusinessDay(from)) expect(businessDaysBetween(from, addBusinessDays(from, days))).toBe(days);
      }
    }
  });

  it('adds calendar days', () => {
    expect(addCalendarDays('2026-03-16', 30)).toBe('2026-04-15');
    expect(addCalendarDays('2024-02-28', 1)).toBe('2024-02-29');
  });
});
