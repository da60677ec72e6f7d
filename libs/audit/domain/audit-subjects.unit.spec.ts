import { auditSubjectsOf, type AuditSubject } from './audit-subjects.js';

const subjects = (...pairs: [AuditSubject['kind'], string][]) => pairs.map(([kind, id]) => ({ kind, id }));

describe('auditSubjectsOf', () => {
  it.each<[string, { streamId: string; data: unknown }, AuditSubject[]]>([
    ['a payee stream names the payee; a quota also names its period', { streamId: 'payee-P-1', data: { payeeId: 'P-1', periodId: '2026-03', measure: 'bookings' } }, subjects(['payee', 'P-1'], ['period', '2026-03'])],
    [
      'a deal names itself and every payee its credits reach, including those whose credit it took back',
      {
        streamId: 'deal-D-1',
        data: { dealId: 'D-1', primarySplits: [{ payeeId: 'P-1' }, { payeeId: 'P-2' }], credits: [{ payeeId: 'P-1' }, { payeeId: 'M-1' }], previousCredits: [{ payeeId: 'P-9' }] },
      },
      subjects(['deal', 'D-1'], ['payee', 'P-1'], ['payee', 'P-2'], ['payee', 'M-1'], ['payee', 'P-9']),
    ],
    ['a closed deal names its owner', { streamId: 'deal-D-2', data: { dealId: 'D-2', ownerPayeeId: 'P-3' } }, subjects(['deal', 'D-2'], ['payee', 'P-3'])],
    ['plan assignments name the payee, not a plan called "assignments-…"', { streamId: 'plan-assignments-P-1', data: { payeeId: 'P-1', planId: 'AE-2026' } }, subjects(['payee', 'P-1'], ['plan', 'AE-2026'])],
    ['a plan names itself', { streamId: 'plan-AE-2026', data: { planId: 'AE-2026', version: 1 } }, subjects(['plan', 'AE-2026'])],
    ['a period close names the period and the payees it paid', { streamId: 'period-monthly-2026-Q1', data: { payouts: [{ payeeId: 'P-1' }], payeeIds: ['P-2'] } }, subjects(['period', '2026-Q1'], ['payee', 'P-1'], ['payee', 'P-2'])],
    ['a dispute names itself and what it is about', { streamId: 'dispute-X-1', data: { disputeId: 'X-1', payeeId: 'P-1', dealId: 'D-1' } }, subjects(['dispute', 'X-1'], ['payee', 'P-1'], ['deal', 'D-1'])],
    ['an FX rate names nothing', { streamId: 'fx-EUR-USD', data: { fromCurrency: 'EUR', toCurrency: 'USD', rate: '1.08' } }, []],
    ['empty and non-string ids are ignored', { streamId: 'other-1', data: { payeeId: '', dealId: 7, planId: null } }, []],
  ])('%s', (_, event, expected) => {
    expect(auditSubjectsOf(event)).toEqual(expected);
  });
});
