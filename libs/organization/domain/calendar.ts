/**
 * Calendar ids the ledger counts in. Dates are business dates without a time zone, "YYYY-MM-DD".
 * A period id names a calendar month ("2026-03"), quarter ("2026-Q1") or year ("2026"); a credit dated
 * 2026-02-14 counts in "2026-02", "2026-Q1" and "2026" alike, so a quota set on any of them can be measured.
 */

const isoDatePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const monthPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;
const quarterPattern = /^(\d{4})-Q([1-4])$/;
const yearPattern = /^\d{4}$/;

export type PeriodKind = 'month' | 'quarter' | 'year';

export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = isoDatePattern.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The kind of a period id, or null when the text is not one. */
export function periodKindOf(periodId: unknown): PeriodKind | null {
  if (typeof periodId !== 'string') return null;
  if (monthPattern.test(periodId)) return 'month';
  if (quarterPattern.test(periodId)) return 'quarter';
  if (yearPattern.test(periodId)) return 'year';
  return null;
}

/** The month, quarter and year a date counts in, e.g. 2026-02-14 -> { month: '2026-02', quarter: '2026-Q1', year: '2026' }. */
export function periodsOfDate(isoDate: string): { month: string; quarter: string; year: string } {
  const year = isoDate.slice(0, 4);
  const month = Number(isoDate.slice(5, 7));
  return { month: isoDate.slice(0, 7), quarter: `${year}-Q${Math.ceil(month / 3)}`, year };
}
