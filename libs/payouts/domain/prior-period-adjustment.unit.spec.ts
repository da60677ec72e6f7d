import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Money } from '#lib/shared/domain/money.js';
import { computePriorPeriodAdjustment, earliestOpenPeriod, type PeriodStanding, type PriorPeriodAdjustmentInput } from './prior-period-adjustment.js';
import type { AdjustmentCause, StatementLineSummary, StatementSummary } from './statement-summary.js';

const statementOf = (lines: StatementLineSummary[]): StatementSummary => ({
  payeeId: 'ada',
  periodId: '2025-06',
  currency: 'USD',
  lines,
  totalEarned: lines.filter((line) => line.kind !== 'held').reduce((sum, line) => sum.plus(line.amount), new Money(0)).toFixed(2),
});
const periods: PeriodStanding[] = [
  { periodId: '2025-06', startsOn: '2025-06-01', status: 'paid' },
  { periodId: '2025-08', startsOn: '2025-08-01', status: 'open' },
  { periodId: '2025-07', startsOn: '2025-07-01', status: 'open' },
];
const dealAmended: AdjustmentCause = { kind: 'deal_amended', reference: 'd-1' };
const frozen = statementOf([
  { lineId: 'L1', kind: 'commission', amount: '500.00', dealId: 'd-1' },
  { lineId: 'L2', kind: 'commission', amount: '300.00', dealId: 'd-2' },
  { lineId: 'H1', kind: 'held', amount: '90.00', dealId: 'd-3' },
]);
const inputOf = (recomputedLines: StatementLineSummary[], rest: Partial<PriorPeriodAdjustmentInput> = {}): PriorPeriodAdjustmentInput => ({
  frozen,
  recomputed: statementOf(recomputedLines),
  recomputedDigest: 'sha256:r1',
  causeDefault: dealAmended,
  adjustmentsAlreadyPosted: [],
  periods,
  ...rest,
});

describe('prior-period adjustments', () => {
  it('posts the difference per cause in the earliest open period, naming the cause', () => {
    const result = computePriorPeriodAdjustment(
      inputOf([
        { lineId: 'L1', kind: 'commission', amount: '650.00', dealId: 'd-1' },
        { lineId: 'L2', kind: 'commission', amount: '250.00', dealId: 'd-2', cause: { kind: 'dispute_approved', reference: 'dispute-9' } },
        { lineId: 'H1', kind: 'held', amount: '0.00', dealId: 'd-3' },
      ]),
    );
    expect(result.targetPeriodId).toBe('2025-07');
    expect(result.totalAdjustment).toBe('100.00');
    expect(result.lines.map(({ amount, cause, dealId, targetPeriodId, kind }) => ({ amount, cause, dealId, targetPeriodId, kind }))).toEqual([
      { amount: '150.00', cause: dealAmended, dealId: 'd-1', targetPeriodId: '2025-07', kind: 'adjustment' },
      { amount: '-50.00', cause: { kind: 'dispute_approved', reference: 'dispute-9' }, dealId: 'd-2', targetPeriodId: '2025-07', kind: 'adjustment' },
    ]);
    expect(result.lines[0].explanation).toBe('Deal amended (d-1): period 2025-06 L1 500.00 -> 650.00; +150.00 USD posted in 2025-07.');
  });

  it.each([
    { name: 'a removed line reverses in full', lines: [{ lineId: 'L2', kind: 'commission', amount: '300.00', dealId: 'd-2' }], total: '-500.00' },
    { name: 'a new line adds in full', lines: [...frozen.lines, { lineId: 'L9', kind: 'spif', amount: '75.00' }], total: '75.00' },
    { name: 'held lines pay nothing and adjust nothing', lines: [frozen.lines[0], frozen.lines[1], { lineId: 'H1', kind: 'held', amount: '9999.00', dealId: 'd-3' }], total: '0.00' },
    { name: 'an unchanged statement adjusts nothing', lines: [...frozen.lines], total: '0.00' },
  ])('$name', ({ lines, total }) => {
    expect(computePriorPeriodAdjustment(inputOf(lines)).totalAdjustment).toBe(total);
  });

  it('nets against adjustments already posted, so a second recomputation posts only the new difference', () => {
    const recomputedLines = [{ lineId: 'L1', kind: 'commission', amount: '700.00', dealId: 'd-1' }, frozen.lines[1]];
    const result = computePriorPeriodAdjustment(inputOf(recomputedLines, { recomputedDigest: 'sha256:r2', adjustmentsAlreadyPosted: [{ sourceLineId: 'L1', amount: '150.00' }] }));
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatchObject({ amount: '50.00', sourceLines: [{ lineId: 'L1', amountFrozen: '500.00', amountRecomputed: '700.00', adjustedBefore: '150.00', amount: '50.00' }] });
  });

  it('does not need an open period when there is nothing to post', () => {
    expect(computePriorPeriodAdjustment(inputOf([...frozen.lines], { periods: [] })).targetPeriodId).toBeNull();
  });

  it('gives the same line ids for the same recomputation', () => {
    const lines = [{ lineId: 'L1', kind: 'commission', amount: '650.00', dealId: 'd-1' }, frozen.lines[1]];
    expect(computePriorPeriodAdjustment(inputOf(lines)).lines[0].lineId).toBe(computePriorPeriodAdjustment(inputOf(lines)).lines[0].lineId);
  });

  it.each([
    { name: 'no open period', change: { periods: [{ periodId: '2025-06', startsOn: '2025-06-01', status: 'closed' as const }] }, code: 'PERIOD.NO_OPEN_PERIOD' },
    { name: 'an open source period', change: { periods: [{ periodId: '2025-06', startsOn: '2025-06-01', status: 'open' as const }] }, code: 'ADJUSTMENT.SOURCE_PERIOD_OPEN' },
    { name: 'another payee', change: { recomputed: { ...statementOf([]), payeeId: 'bo' } }, code: 'ADJUSTMENT.STATEMENT_MISMATCH' },
    { name: 'another currency', change: { recomputed: { ...statementOf([]), currency: 'EUR' } }, code: 'ADJUSTMENT.CURRENCY_MISMATCH' },
    { name: 'an unknown cause', change: { causeDefault: { kind: 'typo_fixed', reference: 'x' } as unknown as AdjustmentCause }, code: 'ADJUSTMENT.CAUSE_INVALID' },
  ])('rejects $name', ({ change, code }) => {
    expect(() => computePriorPeriodAdjustment(inputOf([{ lineId: 'L1', kind: 'commission', amount: '1.00' }], change))).toThrow(expect.objectContaining({ code }));
  });

  it('finds the earliest open period by start date', () => {
    expect(earliestOpenPeriod(periods).periodId).toBe('2025-07');
  });

  /** Whatever changed, the adjustments add up to recomputed - frozen - already posted, and the frozen statement is untouched. */
  it('adjustment total = recomputed total - frozen total - already posted', () => {
    const amount = fc.bigInt({ min: -100_000n, max: 100_000n }).map((cents) => new Money(cents.toString()).div(100).toFixed(2));
    const lineArbitrary = fc.record({ lineId: fc.constantFrom('L1', 'L2', 'L3', 'L4'), kind: fc.constantFrom('commission', 'held', 'spif'), amount, dealId: fc.constantFrom('d-1', 'd-2') });
    const uniqueLines = fc.uniqueArray(lineArbitrary, { selector: (line) => line.lineId, maxLength: 4 });
    fc.assert(
      fc.property(uniqueLines, uniqueLines, fc.array(fc.record({ sourceLineId: fc.constantFrom('L1', 'L2', 'L5'), amount }), { maxLength: 3 }), (frozenLines, recomputedLines, posted) => {
        const frozenStatement = statementOf(frozenLines);
        const snapshot = structuredClone(frozenStatement);
        const result = computePriorPeriodAdjustment({ ...inputOf(recomputedLines, { adjustmentsAlreadyPosted: posted }), frozen: frozenStatement });
        const expected = new Money(statementOf(recomputedLines).totalEarned).minus(frozenStatement.totalEarned).minus(posted.reduce((sum, p) => sum.plus(p.amount), new Money(0)));
        expect(result.totalAdjustment).toBe(expected.toFixed(2));
        expect(result.lines.reduce((sum, line) => sum.plus(line.amount), new Money(0)).toFixed(2)).toBe(result.totalAdjustment);
        expect(frozenStatement).toEqual(snapshot);
      }),
      { numRuns: 200 },
    );
  });
});
