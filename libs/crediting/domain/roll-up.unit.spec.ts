import { describe, expect, it } from '@jest/globals';
import { MAX_REPORTING_DEPTH, managersAbove, rollUpOverlays, type ReportingLines } from './roll-up.js';

const since = (value: string | null, effectiveDate = '2026-01-01') => ({ value, effectiveDate });

describe('managersAbove', () => {
  const lines: ReportingLines = {
    ada: [since('grace'), since(null, '2026-06-01'), since('sam', '2026-09-01')],
    grace: [since('linus')],
    sam: [since('grace', '2026-01-01'), since('linus', '2026-09-15')],
    linus: [since(null)],
  };

  it('walks up the chain in force on the date, nearest manager first', () => {
    expect(managersAbove(lines, 'ada', '2026-03-01')).toEqual(['grace', 'linus']);
    expect(managersAbove(lines, 'ada', '2026-09-01')).toEqual(['sam', 'grace', 'linus']);
    expect(managersAbove(lines, 'ada', '2026-09-15')).toEqual(['sam', 'linus']);
  });

  it('is empty while the payee reports to no one, and at the top', () => {
    expect(managersAbove(lines, 'ada', '2026-07-01')).toEqual([]);
    expect(managersAbove(lines, 'linus', '2026-03-01')).toEqual([]);
  });

  it('uses the first recorded manager for a date before any history', () => {
    expect(managersAbove(lines, 'ada', '2025-01-01')).toEqual(['grace', 'linus']);
  });

  it('stops where no reporting line was found, naming that manager', () => {
    expect(managersAbove({ ada: [since('grace')] }, 'ada', '2026-03-01')).toEqual(['grace']);
    expect(managersAbove({}, 'ada', '2026-03-01')).toEqual([]);
  });

  it('stops at a cycle the dated history let through, and at the depth limit', () => {
    expect(managersAbove({ ada: [since('grace')], grace: [since('sam')], sam: [since('grace')] }, 'ada', '2026-03-01')).toEqual(['grace', 'sam']);
    expect(managersAbove({ ada: [since('grace')], grace: [since('ada')] }, 'ada', '2026-03-01')).toEqual(['grace']);
    const long: Record<string, ReturnType<typeof since>[]> = {};
    for (let index = 0; index < 100; index++) long[`p${index}`] = [since(`p${index + 1}`)];
    expect(managersAbove(long, 'p0', '2026-03-01')).toHaveLength(MAX_REPORTING_DEPTH);
  });
});

describe('rollUpOverlays', () => {
  const lines: ReportingLines = { ada: [since('grace')], bob: [since('sam')], grace: [since('linus')], sam: [since('linus')] };

  it('gives each manager above the primary payees one 100% manager overlay, primary payees none', () => {
    expect(rollUpOverlays(['ada', 'bob'], '2026-03-01', lines)).toEqual([
      { payeeId: 'grace', sharePercent: '100', role: 'manager' },
      { payeeId: 'linus', sharePercent: '100', role: 'manager' },
      { payeeId: 'sam', sharePercent: '100', role: 'manager' },
    ]);
    expect(rollUpOverlays(['ada', 'linus'], '2026-03-01', lines).map((overlay) => overlay.payeeId)).toEqual(['grace']);
    expect(rollUpOverlays(['linus'], '2026-03-01', lines)).toEqual([]);
  });
});
