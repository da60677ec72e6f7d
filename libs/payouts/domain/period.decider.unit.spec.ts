import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import { payoutIdFor } from './payout-id.js';
import { emptyCarry, type PayoutFigures } from './payout.js';
import {
  periodDecider,
  periodDeciderOpeningOnDemand,
  periodStreamId,
  type FrozenStatementRecord,
  type PeriodCommand,
  type PeriodEvent,
  type PeriodStatus,
  type PeriodState,
} from './period.decider.js';

const given = DeciderSpecification.for(periodDecider);

const opened: PeriodEvent = {
  type: 'PeriodOpened',
  data: { calendarId: 'fy25-monthly', periodId: '2025-06', startsOn: '2025-06-01', endsOn: '2025-06-30', openedBy: 'admin-1' },
};
const ref = { calendarId: 'fy25-monthly', periodId: '2025-06' };
const figuresOf = (gross: string): PayoutFigures => ({
  grossEarned: gross,
  capitalized: [],
  adjustments: '0.00',
  clawbacks: '0.00',
  earningsDeficitApplied: '0.00',
  drawKind: null,
  drawPaid: '0.00',
  drawRecovered: '0.00',
  carryOpening: emptyCarry(),
  carryClosing: emptyCarry(),
});
const statementAda: FrozenStatementRecord = { payeeId: 'ada', statementDigest: 'sha256:aa', logPosition: 120, currency: 'USD', netPayable: '2750.00', figures: figuresOf('2750.00'), postedLines: [] };
const statementBo: FrozenStatementRecord = { payeeId: 'bo', statementDigest: 'sha256:bb', logPosition: 120, currency: 'USD', netPayable: '2000.00', figures: figuresOf('2000.00'), postedLines: [] };
const closed: PeriodEvent = { type: 'PeriodClosed', data: { ...ref, preparedBy: 'analyst-1', statements: [statementAda, statementBo] } };
const approvedOf = ({ payeeId, statementDigest, currency, netPayable, figures, postedLines }: FrozenStatementRecord) => ({
  payeeId,
  payoutId: payoutIdFor({ payeeId, periodId: '2025-06', statementDigest }),
  statementDigest,
  currency,
  netPayable,
  figures,
  postedLines,
});
const payoutAda = approvedOf(statementAda);
const payoutBo = approvedOf(statementBo);
const paidOf = ({ payeeId, payoutId, currency, netPayable }: typeof payoutAda) => ({ payeeId, payoutId, currency, netPayable });
const adaApproved: PeriodEvent = { type: 'PayoutsApproved', data: { ...ref, approvedBy: 'finance-1', payouts: [payoutAda] } };
const allApproved: PeriodEvent[] = [
  { type: 'PayoutsApproved', data: { ...ref, approvedBy: 'finance-1', payouts: [payoutAda, payoutBo] } },
  { type: 'PeriodApproved', data: { ...ref, approvedBy: 'finance-1' } },
];
const reopen = (reason: string, nextStatus: PeriodStatus = 'open', correctionsPostedForward = 0): PeriodCommand => ({
  type: 'ReopenPeriod',
  data: { reopenedBy: 'admin-1', reason, nextPeriod: { periodId: '2025-07', status: nextStatus }, correctionsPostedForward },
});

const approve = (approvedBy: string, payeeIds?: string[]): PeriodCommand => ({ type: 'ApprovePayouts', data: { approvedBy, ...(payeeIds ? { payeeIds } : {}) } });
const confirmPaid = (payrollReference: string, payeeIds?: string[]): PeriodCommand => ({
  type: 'ConfirmPayoutsPaid',
  data: { confirmedBy: 'payroll-1', payrollReference, paidOn: '2025-07-05', ...(payeeIds ? { payeeIds } : {}) },
});
const close = (statements: FrozenStatementRecord[], preparedBy = 'analyst-1', previousPeriod: { periodId: string; status: PeriodStatus } | null = null): PeriodCommand => ({
  type: 'ClosePeriod',
  data: { preparedBy, statements, previousPeriod },
});
const postClawback: PeriodCommand = {
  type: 'PostLines',
  data: { payeeId: 'ada', currency: 'USD', postedBy: 'system', lines: [{ lineId: 'clawback:d-7', kind: 'clawback', amount: '-500.00', dealId: 'd-7' }] },
};

describe('period lifecycle', () => {
  it('names one stream per calendar period', () => {
    expect(periodStreamId('fy25-monthly', '2025-06')).toBe('period-fy25-monthly-2025-06');
  });

  it('opens, closes with each statement digest and log position, approves, then is paid', () => {
    given([]).when({ type: 'OpenPeriod', data: opened.data as never }).then([opened]);
    given([opened]).when(close([statementAda, statementBo])).then([closed]);
    given([opened, closed]).when(approve('finance-1')).then(allApproved);
    given([opened, closed, ...allApproved]).when(confirmPaid('run-77')).then([
      { type: 'PayoutsPaid', data: { ...ref, confirmedBy: 'payroll-1', payrollReference: 'run-77', paidOn: '2025-07-05', payouts: [paidOf(payoutAda), paidOf(payoutBo)] } },
      { type: 'PeriodPaid', data: { ...ref, confirmedBy: 'payroll-1' } },
    ]);
  });

  it('approves per payee and records the period approval with the last one', () => {
    given([opened, closed]).when(approve('finance-1', ['ada'])).then([adaApproved]);
    given([opened, closed, adaApproved]).when(approve('finance-2', ['bo'])).then([
      { type: 'PayoutsApproved', data: { ...ref, approvedBy: 'finance-2', payouts: [payoutBo] } },
      { type: 'PeriodApproved', data: { ...ref, approvedBy: 'finance-2' } },
    ]);
  });

  it('approving twice names one payout and records nothing the second time', () => {
    given([opened, closed, adaApproved]).when(approve('finance-1', ['ada'])).then([]);
    given([opened, closed, ...allApproved]).when(approve('finance-2')).then([]);
  });

  it('pays one approved payee and keeps the period approved until all are paid', () => {
    given([opened, closed, ...allApproved]).when(confirmPaid('run-77', ['ada'])).then([
      { type: 'PayoutsPaid', data: { ...ref, confirmedBy: 'payroll-1', payrollReference: 'run-77', paidOn: '2025-07-05', payouts: [paidOf(payoutAda)] } },
    ]);
  });

  it('accepts a repeated payroll confirmation with the same reference as a no-op', () => {
    const paid: PeriodEvent = { type: 'PayoutsPaid', data: { ...ref, confirmedBy: 'payroll-1', payrollReference: 'run-77', paidOn: '2025-07-05', payouts: [paidOf(payoutAda)] } };
    given([opened, closed, ...allApproved, paid]).when(confirmPaid('run-77', ['ada'])).then([]);
    given([opened, closed, ...allApproved, paid]).when(confirmPaid('run-78', ['ada'])).thenThrows('PAYOUT.ALREADY_PAID', 'conflict');
  });

  it('reopens only with a reason, voiding the freeze and the approvals', () => {
    const reopened: PeriodEvent = { type: 'PeriodReopened', data: { ...ref, reopenedBy: 'admin-1', reason: 'Deal d-7 booked to the wrong month', statusBefore: 'approved' } };
    given([opened, closed, ...allApproved]).when(reopen('Deal d-7 booked to the wrong month')).then([reopened]);
    given([opened, closed]).when(reopen('  ')).thenThrows('PERIOD.REOPEN_REASON_REQUIRED', 'validation');
    const state = foldEvents(periodDecider, [opened, closed, ...allApproved, reopened]);
    expect(state).toMatchObject({ status: 'open', statementsByPayee: {}, preparedBy: null, reopenCount: 1 });
    // After a reopen the preparer of the new close is whoever closes it again.
    given([opened, closed, reopened]).when(close([statementAda], 'finance-1')).then([{ type: 'PeriodClosed', data: { ...ref, preparedBy: 'finance-1', statements: [statementAda] } }]);
  });

  it('posts lines to an open period, idempotently by line id', () => {
    const posted: PeriodEvent = { type: 'LinesPosted', data: { ...ref, ...postClawback.data } as never };
    given([opened]).when(postClawback).then([posted]);
    given([opened, posted]).when(postClawback).then([]);
    const changed: PeriodCommand = { ...postClawback, data: { ...postClawback.data, lines: [{ lineId: 'clawback:d-7', kind: 'clawback', amount: '-400.00' }] } } as PeriodCommand;
    given([opened, posted]).when(changed).thenThrows('LINE.EXISTS_WITH_DIFFERENT_AMOUNT', 'conflict');
    given([opened, posted]).when(close([statementBo])).thenThrows('PERIOD.STATEMENT_MISSING', 'validation');
  });

  it('freezes the lines posted to the period with the payee\'s statement', () => {
    const posted: PeriodEvent = { type: 'LinesPosted', data: { ...ref, ...postClawback.data } as never };
    const withClawback: FrozenStatementRecord = { ...statementAda, postedLines: [{ lineId: 'clawback:d-7', kind: 'clawback', amount: '-500.00' }] };
    given([opened, posted]).when(close([withClawback, statementBo])).then([{ type: 'PeriodClosed', data: { ...ref, preparedBy: 'analyst-1', statements: [withClawback, statementBo] } }]);
  });

  it('closes after the period before it, or as the calendar\'s first close', () => {
    given([opened]).when(close([statementAda], 'analyst-1', { periodId: '2025-05', status: 'paid' })).then([{ type: 'PeriodClosed', data: { ...ref, preparedBy: 'analyst-1', statements: [statementAda] } }]);
    given([opened]).when(close([statementAda], 'analyst-1', { periodId: '2025-05', status: 'closed' })).then([{ type: 'PeriodClosed', data: { ...ref, preparedBy: 'analyst-1', statements: [statementAda] } }]);
  });

  it('opens a period on first use, in the same append as the posting or the close', () => {
    const onDemand = DeciderSpecification.for(periodDeciderOpeningOnDemand(opened.data as never));
    onDemand([]).when(postClawback).then([opened, { type: 'LinesPosted', data: { ...ref, ...postClawback.data } as never }]);
    onDemand([]).when(close([statementAda])).then([opened, { type: 'PeriodClosed', data: { ...ref, preparedBy: 'analyst-1', statements: [statementAda] } }]);
    onDemand([opened]).when(postClawback).then([{ type: 'LinesPosted', data: { ...ref, ...postClawback.data } as never }]);
    onDemand([]).when(approve('finance-1')).thenThrows('PERIOD.NOT_CLOSED', 'conflict');
  });

  it('notes a clawback waived outside its window once', () => {
    const waiver = {
      assessmentId: 'clawback:ada:d-7:evt-9',
      payeeId: 'ada',
      dealId: 'd-7',
      sourcePeriodId: '2025-03',
      outcome: 'outside_window' as const,
      explanation: 'Deal d-7 was cancelled after the 90-day clawback window ended: nothing is clawed back.',
      notedBy: 'system',
    };
    const noted: PeriodEvent = { type: 'ClawbackWaived', data: { ...ref, ...waiver } };
    given([opened]).when({ type: 'NoteClawbackWaived', data: waiver }).then([noted]);
    given([opened, noted]).when({ type: 'NoteClawbackWaived', data: waiver }).then([]);
    given([opened, closed]).when({ type: 'NoteClawbackWaived', data: waiver }).thenThrows('PERIOD.CLOSED', 'conflict');
  });

  it('closes a period without payees and approves and pays it in bulk', () => {
    const closedEmpty: PeriodEvent = { type: 'PeriodClosed', data: { ...ref, preparedBy: 'analyst-1', statements: [] } };
    const approvedEmpty: PeriodEvent = { type: 'PeriodApproved', data: { ...ref, approvedBy: 'finance-1' } };
    given([opened, closedEmpty]).when(approve('finance-1')).then([approvedEmpty]);
    given([opened, closedEmpty, approvedEmpty]).when(confirmPaid('run-1')).then([{ type: 'PeriodPaid', data: { ...ref, confirmedBy: 'payroll-1' } }]);
  });

  describe('rejections', () => {
    const paidAll: PeriodEvent[] = [
      { type: 'PayoutsPaid', data: { ...ref, confirmedBy: 'payroll-1', payrollReference: 'run-77', paidOn: '2025-07-05', payouts: [paidOf(payoutAda), paidOf(payoutBo)] } },
      { type: 'PeriodPaid', data: { ...ref, confirmedBy: 'payroll-1' } },
    ];
    const table: { name: string; given: PeriodEvent[]; when: PeriodCommand; code: string; kind: DomainError['kind'] }[] = [
      { name: 'close an unopened period', given: [], when: close([statementAda]), code: 'PERIOD.NOT_OPEN', kind: 'conflict' },
      { name: 'close twice', given: [opened, closed], when: close([statementAda]), code: 'PERIOD.ALREADY_CLOSED', kind: 'conflict' },
      { name: 'close an approved period', given: [opened, closed, ...allApproved], when: close([statementAda]), code: 'PERIOD.ALREADY_CLOSED', kind: 'conflict' },
      { name: 'open a closed period', given: [opened, closed], when: { type: 'OpenPeriod', data: opened.data as never }, code: 'PERIOD.ALREADY_CLOSED', kind: 'conflict' },
      { name: 'open twice', given: [opened], when: { type: 'OpenPeriod', data: opened.data as never }, code: 'PERIOD.ALREADY_OPEN', kind: 'conflict' },
      { name: 'approve an open period', given: [opened], when: approve('finance-1'), code: 'PERIOD.NOT_CLOSED', kind: 'conflict' },
      { name: 'approve by the preparer', given: [opened, closed], when: approve('analyst-1', ['ada']), code: 'APPROVAL.SAME_PREPARER', kind: 'forbidden' },
      { name: 'approve a payee without a statement', given: [opened, closed], when: approve('finance-1', ['cy']), code: 'PAYOUT.UNKNOWN_PAYEE', kind: 'not_found' },
      { name: 'approve an empty selection', given: [opened, closed], when: approve('finance-1', []), code: 'PERIOD.NO_PAYEES_SELECTED', kind: 'validation' },
      { name: 'pay an unapproved payee', given: [opened, closed, adaApproved], when: confirmPaid('run-1', ['bo']), code: 'PAYOUT.NOT_APPROVED', kind: 'conflict' },
      { name: 'pay in an open period', given: [opened], when: confirmPaid('run-1'), code: 'PAYOUT.NOT_APPROVED', kind: 'conflict' },
      { name: 'pay in bulk before any approval', given: [opened, closed], when: confirmPaid('run-1'), code: 'PAYOUT.NOT_APPROVED', kind: 'conflict' },
      { name: 'post to a closed period', given: [opened, closed], when: postClawback, code: 'PERIOD.CLOSED', kind: 'conflict' },
      { name: 'post to a paid period', given: [opened, closed, ...allApproved, ...paidAll], when: postClawback, code: 'PERIOD.CLOSED', kind: 'conflict' },
      { name: 'post to an unopened period', given: [], when: postClawback, code: 'PERIOD.NOT_OPEN', kind: 'conflict' },
      { name: 'reopen an open period', given: [opened], when: reopen('r'), code: 'PERIOD.NOT_CLOSED', kind: 'conflict' },
      { name: 'reopen once a payout is paid', given: [opened, closed, ...allApproved, ...paidAll], when: reopen('r'), code: 'PERIOD.PAYOUTS_PAID', kind: 'conflict' },
      { name: 'reopen when the next period is closed', given: [opened, closed], when: reopen('r', 'closed'), code: 'PERIOD.LATER_PERIOD_CLOSED', kind: 'conflict' },
      { name: 'reopen a period a later one already corrects', given: [opened, closed], when: reopen('r', 'open', 2), code: 'PERIOD.CORRECTED_FORWARD', kind: 'conflict' },
      { name: 'close before the period before it', given: [opened], when: close([statementAda], 'analyst-1', { periodId: '2025-05', status: 'open' }), code: 'PERIOD.PREVIOUS_NOT_CLOSED', kind: 'conflict' },
      { name: 'close when the period before was never used', given: [opened], when: close([statementAda], 'analyst-1', { periodId: '2025-05', status: 'not_opened' }), code: 'PERIOD.PREVIOUS_NOT_CLOSED', kind: 'conflict' },
      {
        name: 'close with posted lines other than those recorded',
        given: [opened, { type: 'LinesPosted', data: { ...ref, ...postClawback.data } } as PeriodEvent],
        when: close([{ ...statementAda, postedLines: [{ lineId: 'clawback:d-7', kind: 'clawback', amount: '-400.00' }] }]),
        code: 'PERIOD.POSTED_LINES_CHANGED',
        kind: 'conflict',
      },
      { name: 'pay without a payment date', given: [opened, closed, ...allApproved], when: { type: 'ConfirmPayoutsPaid', data: { confirmedBy: 'p', payrollReference: 'r', paidOn: '5 July' } }, code: 'VALIDATION.DATE', kind: 'validation' },
      { name: 'post no lines', given: [opened], when: { type: 'PostLines', data: { payeeId: 'ada', currency: 'USD', postedBy: 's', lines: [] } }, code: 'LINE.NONE', kind: 'validation' },
      { name: 'close with two statements for a payee', given: [opened], when: close([statementAda, statementAda]), code: 'PERIOD.DUPLICATE_STATEMENT', kind: 'validation' },
      { name: 'close with a negative log position', given: [opened], when: close([{ ...statementAda, logPosition: -1 }]), code: 'VALIDATION.LOG_POSITION', kind: 'validation' },
      { name: 'close with an unrounded amount', given: [opened], when: close([{ ...statementAda, netPayable: '1.005' }]), code: 'VALIDATION.AMOUNT_NOT_ROUNDED', kind: 'validation' },
      { name: 'post a money amount as a number', given: [opened], when: { type: 'PostLines', data: { payeeId: 'ada', currency: 'USD', postedBy: 's', lines: [{ lineId: 'l', kind: 'adjustment', amount: 5 as unknown as string }] } }, code: 'VALIDATION.DECIMAL', kind: 'validation' },
    ];
    it.each(table)('rejects: $name ($code)', ({ given: history, when, code, kind }) => {
      given(history).when(when).thenThrows(code, kind);
    });
  });
});

/**
 * Random command sequences against the decider. Goals: a rejected command leaves the state exactly as it was
 * (and decide never mutates its input), and however often finance approves, a payee gets one payout id.
 */
const postedLinesOf = (state: PeriodState, payeeId: string) =>
  Object.values(state.postedLinesById)
    .filter((line) => line.payeeId === payeeId)
    .map(({ lineId, kind, amount }) => ({ lineId, kind, amount }));

describe('period decider properties', () => {
  const actors = ['analyst-1', 'finance-1', 'finance-2'];
  const payees = ['ada', 'bo'];
  const commandArbitrary: fc.Arbitrary<PeriodCommand> = fc.oneof(
    fc.constant<PeriodCommand>({ type: 'OpenPeriod', data: opened.data as never }),
    fc.record({ lineId: fc.constantFrom('l1', 'l2'), amount: fc.constantFrom('-500.00', '12.50', '12.505') }).map(
      ({ lineId, amount }): PeriodCommand => ({ type: 'PostLines', data: { payeeId: 'ada', currency: 'USD', postedBy: 'system', lines: [{ lineId, kind: 'adjustment', amount }] } }),
    ),
    fc.record({ preparedBy: fc.constantFrom(...actors), digest: fc.constantFrom('sha256:aa', 'sha256:a2') }).map(
      ({ preparedBy, digest }): PeriodCommand => close([{ ...statementAda, statementDigest: digest }, statementBo], preparedBy),
    ),
    fc.record({ approvedBy: fc.constantFrom(...actors), payeeIds: fc.option(fc.subarray(payees), { nil: undefined }) }).map(({ approvedBy, payeeIds }) => approve(approvedBy, payeeIds)),
    fc.record({ reference: fc.constantFrom('run-1', 'run-2'), payeeIds: fc.option(fc.subarray(payees), { nil: undefined }) }).map(({ reference, payeeIds }) => confirmPaid(reference, payeeIds)),
    fc.constantFrom<PeriodCommand>(reopen('wrong month'), reopen('')),
  );

  it('every rejection leaves the state unchanged and every accepted command keeps one payout per payee', () => {
    fc.assert(
      fc.property(fc.array(commandArbitrary, { maxLength: 25 }), (commands) => {
        let state: PeriodState = periodDecider.initialState();
        const payoutIdsByPayeeAndDigest = new Map<string, Set<string>>();
        for (const generated of commands) {
          // A close lists the lines posted so far, as the handler does; a stale list is refused (tested above).
          const command: PeriodCommand =
            generated.type === 'ClosePeriod'
              ? { ...generated, data: { ...generated.data, statements: generated.data.statements.map((statement) => ({ ...statement, postedLines: postedLinesOf(state, statement.payeeId) })) } }
              : generated;
          const before = structuredClone(state);
          let events: PeriodEvent[];
          try {
            events = periodDecider.decide(command, state);
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            expect(state).toEqual(before);
            continue;
          }
          expect(state).toEqual(before);
          for (const event of events) {
            if (event.type === 'PayoutsApproved') {
              for (const payout of event.data.payouts) {
                const key = `${payout.payeeId}|${payout.statementDigest}`;
                const ids = payoutIdsByPayeeAndDigest.get(key) ?? new Set<string>();
                ids.add(payout.payoutId);
                payoutIdsByPayeeAndDigest.set(key, ids);
                // Never approved twice within one freeze.
                expect(state.statementsByPayee[payout.payeeId]?.approvedBy).toBeNull();
              }
            }
            state = periodDecider.evolve(state, event);
          }
        }
        for (const ids of payoutIdsByPayeeAndDigest.values()) expect(ids.size).toBe(1);
      }),
      { numRuns: 200 },
    );
  });

  it('derives the same payout id from the same parts, and different ids from different parts', () => {
    const part = fc.string({ maxLength: 6 });
    fc.assert(
      fc.property(fc.tuple(part, part, part), fc.tuple(part, part, part), ([p1, q1, d1], [p2, q2, d2]) => {
        const first = payoutIdFor({ payeeId: p1, periodId: q1, statementDigest: d1 });
        expect(payoutIdFor({ payeeId: p1, periodId: q1, statementDigest: d1 })).toBe(first);
        const same = p1 === p2 && q1 === q2 && d1 === d2;
        expect(payoutIdFor({ payeeId: p2, periodId: q2, statementDigest: d2 }) === first).toBe(same);
      }),
      { numRuns: 300 },
    );
  });
});
