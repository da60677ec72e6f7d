import { dayNumber, formatIsoDate, fromDayNumber } from '#lib/shared/domain/calendar-date.js';

/**
 * Date arithmetic for dispute clocks, on business dates without a time zone ("YYYY-MM-DD").
 *
 * A business day is Monday to Friday. Public holidays are not modelled: a due date that falls after a holiday is
 * one day early, which errs on the side of the rep (docs/decisions/0041-dispute-clocks-and-escalation.md).
 *
 * Dates are counted as days since 1970-01-01 (libs/shared/domain/calendar-date.ts), so nothing here reads the
 * clock or depends on the host's time zone.
 */

const isoDatePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function dayNumberOf(isoDate: string): number {
  const match = isoDatePattern.exec(isoDate);
  if (!match) throw new Error(`Not an ISO date: ${isoDate}`);
  return dayNumber({ year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) });
}

/** The ISO date of a day number. */
export function isoDateOf(dayNumberValue: number): string {
  return formatIsoDate(fromDayNumber(dayNumberValue));
}

/** 0 = Monday ... 6 = Sunday. 1970-01-01 was a Thursday. */
const weekdayOf = (dayNumber: number): number => (((dayNumber + 3) % 7) + 7) % 7;

export const isBusinessDay = (isoDate: string): boolean => weekdayOf(dayNumberOf(isoDate)) < 5;

export const addCalendarDays = (isoDate: string, days: number): string => isoDateOf(dayNumberOf(isoDate) + days);

/**
 * The date `days` business days after `isoDate` (a start on a weekend counts from the Monday after it).
 * With 0 days: the date itself if it is a business day, else the next one.
 */
export function addBusinessDays(isoDate: string, days: number): string {
  if (!Number.isInteger(days) || days < 0) throw new Error(`Business days must be a non-negative integer, got ${days}`);
  let dayNumber = dayNumberOf(isoDate);
  while (weekdayOf(dayNumber) >= 5) dayNumber++;
  // Whole weeks first, so a long window costs no more than a short one.
  dayNumber += Math.floor(days / 5) * 7;
  for (let remaining = days % 5; remaining > 0; ) {
    dayNumber++;
    if (weekdayOf(dayNumber) < 5) remaining--;
  }
  return isoDateOf(dayNumber);
}

/**
 * Business days from `from` to `to`: the business days in (from, to], negative when `to` is before `from`.
 * Filed on a Friday and resolved the Monday after: 1 business day.
 */
export function businessDaysBetween(from: string, to: string): number {
  const start = dayNumberOf(from);
  const end = dayNumberOf(to);
  if (end < start) return -businessDaysBetween(to, from);
  const countThrough = (dayNumber: number): number => {
    // Business days in [0, dayNumber] relative to a Monday-aligned origin.
    const sinceMonday = dayNumber + 3; // day 0 (Thursday) is 3 days after Monday
    const weeks = Math.floor(sinceMonday / 7);
    const rest = sinceMonday - weeks * 7;
    return weeks * 5 + Math.min(rest + 1, 5);
  };
  return countThrough(end) - countThrough(start);
}
