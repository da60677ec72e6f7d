import { validationError } from '#lib/shared/domain/domain-error.js';

/**
 * Neighbouring periods of a plan calendar by id: a month "2026-03", a quarter "2026-Q1" or a year "2026" (the ids the
 * statements use). Pure string arithmetic, no dates.
 */
const monthPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;
const quarterPattern = /^(\d{4})-Q([1-4])$/;
const yearPattern = /^(\d{4})$/;

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** The id of the period `step` periods after `periodId` (before, when negative), of the same frequency. */
export function shiftPeriodId(periodId: string, step: number): string {
  const month = monthPattern.exec(periodId);
  if (month !== null) {
    const index = Number(month[1]) * 12 + Number(month[2]) - 1 + step;
    return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1, 2)}`;
  }
  const quarter = quarterPattern.exec(periodId);
  if (quarter !== null) {
    const index = Number(quarter[1]) * 4 + Number(quarter[2]) - 1 + step;
    return `${pad(Math.floor(index / 4), 4)}-Q${(index % 4) + 1}`;
  }
  if (yearPattern.test(periodId)) return pad(Number(periodId) + step, 4);
  throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [
    { field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
  ]);
}

export const nextPeriodId = (periodId: string): string => shiftPeriodId(periodId, 1);
export const previousPeriodId = (periodId: string): string => shiftPeriodId(periodId, -1);
