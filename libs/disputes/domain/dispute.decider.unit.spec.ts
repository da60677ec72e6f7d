/**
 * Every dispute transition, and every illegal one, as given/when/then: who may do what, in which status, with which
 * amounts, and how the due date moves while information is requested.
 */
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import {
  disputeAdjustmentLineId,
  disputeDecider,
  type DisputeActor,
  type DisputeClockPolicy,
  type DisputeEvent,
  type FileDispute,
  type RecordDisputeRemedy,
  type ResolveDispute,
} from './dispute.decider.js';

const given = DeciderSpecification.for(disputeDecider);

const rep: DisputeActor = { id: 'rep-1', role: 'rep', payeeId: 'P-1' };
const otherRep: DisputeActor = { id: 'rep-2', role: 'rep', payeeId: 'P-2' };
const analyst: DisputeActor = { id: 'analyst-1', role: 'analyst', payeeId: null };
const otherAnalyst: DisputeActor = { id: 'analyst-2', role: 'analyst', payeeId: null };
const admin: DisputeActor = { id: 'admin-1', role: 'admin', payeeId: null };
const finance: DisputeActor = { id: 'finance-1', role: 'finance', payeeId: null };
const manager: DisputeActor = { id: 'manager-1', role: 'manager', payeeId: null };
const system: DisputeActor = { id: 'process:dispute-resolution-effects', role: 'system', payeeId: null };
const record = (actor: DisputeActor) => ({ id: actor.id, role: actor.role });

const policy: DisputeClockPolicy = {
  resolutionBusinessDays: { missing_credit: 10, wrong_split: 10, wrong_rate: 15, clawback: 5, other: 20 },
  informationBusinessDays: 5,
};

const MONDAY = '2026-03-16';

const file = (overrides: Partial<FileDispute> = {}): FileDispute => ({
  type: 'FileDispute',
  disputeId: 'DSP-1',
  payeeId: 'P-1',
  subject: { kind: 'statement_line', periodId: '2026-03', lineId: 'L-1' },
  category: 'wrong_rate',
  amountClaimed: '500.00',
  currency: 'USD',
  description: 'Paid at 8%, the plan says 10% above quota',
  evidenceReferences: ['doc:plan-2026.pdf#p4'],
  actor: rep,
  today: MONDAY,
  policy,
  payee: { exists: true, currency: 'USD' },
  subjectFacts: { exists: true, concernsPayee: true },
  ...overrides,
});

const filed: DisputeEvent = {
  type: 'DisputeFiled',
  data: {
    disputeId: 'DSP-1',
    payeeId: 'P-1',
    filedBy: record(rep),
    subject: { kind: 'statement_line', periodId: '2026-03', lineId: 'L-1' },
    category: 'wrong_rate',
    amountClaimed: '500.00',
    currency: 'USD',
    description: 'Paid at 8%, the plan says 10% above quota',
    evidenceReferences: ['doc:plan-2026.pdf#p4'],
    filedOn: MONDAY,
    dueOn: '2026-04-06', // 15 business days
  },
};
const assigned: DisputeEvent = { type: 'DisputeAssigned', data: { disputeId: 'DSP-1', assigneeId: 'analyst-1', previousAssigneeId: null, assignedBy: record(analyst) } };
const infoRequested: DisputeEvent = {
  type: 'DisputeInformationRequested',
  data: { disputeId: 'DSP-1', question: 'Which deal?', requestedBy: record(analyst), requestedOn: '2026-03-18', responseDueOn: '2026-03-25', resolutionBusinessDaysLeft: 13 },
};
const infoProvided: DisputeEvent = {
  type: 'DisputeInformationProvided',
  data: { disputeId: 'DSP-1', answer: 'D-7', evidenceReferences: [], providedBy: record(rep), providedOn: '2026-03-20', dueOn: '2026-04-08' },
};
const resolvedPartly: DisputeEvent = {
  type: 'DisputeResolved',
  data: {
    disputeId: 'DSP-1',
    payeeId: 'P-1',
    resolutionNumber: 1,
    outcome: 'partially_approved',
    category: 'wrong_rate',
    amountClaimed: '500.00',
    amountApproved: '300.00',
    currency: 'USD',
    reason: 'Only March deals were under the new rate',
    resolvedBy: record(analyst),
    resolvedOn: '2026-03-23',
    reopenableUntil: '2026-04-22',
    remedy: { kind: 'adjustment', amount: '300.00', currency: 'USD' },
  },
};
const rejected: DisputeEvent = {
  type: 'DisputeResolved',
  data: { ...resolvedPartly.data, outcome: 'rejected', amountApproved: '0.00', reason: 'Rate was right', remedy: null },
} as DisputeEvent;
const withdrawn: DisputeEvent = { type: 'DisputeWithdrawn', data: { disputeId: 'DSP-1', reason: 'found it', withdrawnBy: record(rep), withdrawnOn: '2026-03-17' } };

const resolve = (overrides: Partial<ResolveDispute> = {}): ResolveDispute => ({
  type: 'ResolveDispute',
  disputeId: 'DSP-1',
  outcome: 'partially_approved',
  amountApproved: '300.00',
  reason: 'Only March deals were under the new rate',
  actor: analyst,
  today: '2026-03-23',
  reopenWindowDays: 30,
  ...overrides,
});

describe('dispute decider', () => {
  describe('filing', () => {
    it('records a rep\'s dispute on their own statement line with a due date 15 business days out for a wrong rate', () => {
      given([]).when(file()).then([filed]);
    });

    it('lets an analyst file on a rep\'s behalf, and dates the due date by category', () => {
      const events = disputeDecider.decide(file({ actor: analyst, category: 'clawback' }), disputeDecider.initialState());
      expect(events[0]).toMatchObject({ type: 'DisputeFiled', data: { filedBy: record(analyst), category: 'clawback', dueOn: '2026-03-23' } });
    });

    it('counts from the next business day when filed on a weekend', () => {
      const events = disputeDecider.decide(file({ today: '2026-03-14', category: 'clawback' }), disputeDecider.initialState());
      expect(events[0]).toMatchObject({ data: { filedOn: '2026-03-14', dueOn: '2026-03-23' } });
    });

    it('files a missing credit on a deal the payee holds no credit on', () => {
      const events = disputeDecider.decide(
        file({ category: 'missing_credit', subject: { kind: 'deal', dealId: 'D-7' }, subjectFacts: { exists: true, concernsPayee: false } }),
        disputeDecider.initialState(),
      );
      expect(events[0]).toMatchObject({ data: { category: 'missing_credit', subject: { kind: 'deal', dealId: 'D-7' } } });
    });

    it('refuses a dispute id filed already', () => void given([filed]).when(file()).thenThrows('DISPUTE.ALREADY_FILED', 'conflict'));
    it('refuses a rep filing about another payee', () => void given([]).when(file({ actor: otherRep })).thenThrows('DISPUTE.NOT_OWN_PAYEE', 'forbidden'));
    it('refuses a finance user filing', () => void given([]).when(file({ actor: finance })).thenThrows('DISPUTE.ROLE_MAY_NOT_FILE', 'forbidden'));
    it('refuses a manager filing', () => void given([]).when(file({ actor: manager })).thenThrows('DISPUTE.ROLE_MAY_NOT_FILE', 'forbidden'));
    it('refuses an unknown category', () => void given([]).when(file({ category: 'bonus' })).thenThrows('DISPUTE.CATEGORY_INVALID', 'validation'));
    it('refuses an unknown subject kind', () =>
      void given([]).when(file({ subject: { kind: 'plan', planId: 'x' } as never })).thenThrows('DISPUTE.SUBJECT_INVALID', 'validation'));
    it('refuses a malformed period on a line subject', () =>
      void given([]).when(file({ subject: { kind: 'statement_line', periodId: 'March', lineId: 'L-1' } })).thenThrows('PERIOD.INVALID_ID', 'validation'));
    it('refuses a missing credit pointed at a credit id', () =>
      void given([]).when(file({ category: 'missing_credit', subject: { kind: 'credit', dealId: 'D-1', creditId: 'D-1:P-1:primary' } })).thenThrows('DISPUTE.SUBJECT_CATEGORY_MISMATCH'));
    it('refuses a wrong split on a statement line', () => void given([]).when(file({ category: 'wrong_split' })).thenThrows('DISPUTE.SUBJECT_CATEGORY_MISMATCH'));
    it('refuses a zero claim', () => void given([]).when(file({ amountClaimed: '0.00' })).thenThrows('DISPUTE.AMOUNT_NOT_POSITIVE', 'validation'));
    it('refuses a claim as a number', () => void given([]).when(file({ amountClaimed: 500 as never })).thenThrows('VALIDATION.DECIMAL'));
    it('refuses a claim finer than cents', () => void given([]).when(file({ amountClaimed: '10.005' })).thenThrows('VALIDATION.AMOUNT_NOT_ROUNDED'));
    it('refuses a blank description', () => void given([]).when(file({ description: '  ' })).thenThrows('VALIDATION.TEXT'));
    it('refuses more than 20 evidence references', () =>
      void given([]).when(file({ evidenceReferences: Array.from({ length: 21 }, (_, index) => `doc:${index}`) })).thenThrows('DISPUTE.TOO_MUCH_EVIDENCE'));
    it('refuses a payee that is not onboarded', () => void given([]).when(file({ payee: { exists: false, currency: null } })).thenThrows('PAYEE.NOT_FOUND', 'not_found'));
    it('refuses a claim in another currency than the payee\'s', () => void given([]).when(file({ currency: 'EUR' })).thenThrows('DISPUTE.CURRENCY_MISMATCH', 'validation'));
    it('refuses a subject that does not exist', () =>
      void given([]).when(file({ subjectFacts: { exists: false, concernsPayee: null } })).thenThrows('DISPUTE.SUBJECT_NOT_FOUND', 'not_found'));
    it('refuses someone else\'s credit', () =>
      void given([])
        .when(file({ category: 'wrong_split', subject: { kind: 'credit', dealId: 'D-1', creditId: 'D-1:P-2:primary' }, subjectFacts: { exists: true, concernsPayee: false } }))
        .thenThrows('DISPUTE.SUBJECT_NOT_PAYEES'));
  });

  describe('assigning', () => {
    it('puts a filed dispute under review', () => void given([filed]).when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-1', actor: analyst }).then([assigned]));
    it('reassigns, naming the previous assignee', () =>
      void given([filed, assigned])
        .when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-2', actor: admin })
        .then([{ type: 'DisputeAssigned', data: { disputeId: 'DSP-1', assigneeId: 'analyst-2', previousAssigneeId: 'analyst-1', assignedBy: record(admin) } }]));
    it('records nothing when assigned to the same analyst again', () =>
      void given([filed, assigned]).when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-1', actor: analyst }).then([]));
    it('refuses a rep assigning', () =>
      void given([filed]).when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-1', actor: rep }).thenThrows('DISPUTE.ROLE_MAY_NOT_REVIEW', 'forbidden'));
    it('refuses assigning the filer as reviewer', () =>
      void given([{ ...filed, data: { ...filed.data, filedBy: record(analyst) } } as DisputeEvent])
        .when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-1', actor: otherAnalyst })
        .thenThrows('DISPUTE.FILER_MAY_NOT_REVIEW', 'forbidden'));
    it('refuses a dispute never filed', () =>
      void given([]).when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-1', actor: analyst }).thenThrows('DISPUTE.NOT_FOUND', 'not_found'));
    it('refuses a withdrawn dispute', () =>
      void given([filed, withdrawn]).when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-1', actor: analyst }).thenThrows('DISPUTE.WITHDRAWN'));
    it('refuses a resolved dispute', () =>
      void given([filed, assigned, resolvedPartly]).when({ type: 'AssignDispute', disputeId: 'DSP-1', assigneeId: 'analyst-2', actor: analyst }).thenThrows('DISPUTE.ALREADY_RESOLVED'));
  });

  describe('commenting', () => {
    const comment = (actor: DisputeActor, text = 'Any news?') => ({ type: 'CommentOnDispute' as const, disputeId: 'DSP-1', text, actor });
    it('takes the rep\'s comment', () => void given([filed]).when(comment(rep)).then([{ type: 'DisputeCommented', data: { disputeId: 'DSP-1', text: 'Any news?', by: record(rep) } }]));
    it('takes an analyst\'s comment while information is requested', () =>
      void given([filed, assigned, infoRequested]).when(comment(analyst, 'Reminder')).then([{ type: 'DisputeCommented', data: { disputeId: 'DSP-1', text: 'Reminder', by: record(analyst) } }]));
    it('refuses another rep', () => void given([filed]).when(comment(otherRep)).thenThrows('DISPUTE.NOT_A_PARTY', 'forbidden'));
    it('refuses finance', () => void given([filed]).when(comment(finance)).thenThrows('DISPUTE.NOT_A_PARTY', 'forbidden'));
    it('refuses a comment on a resolved dispute', () => void given([filed, assigned, resolvedPartly]).when(comment(rep)).thenThrows('DISPUTE.CLOSED', 'conflict'));
    it('refuses a comment on a withdrawn dispute', () => void given([filed, withdrawn]).when(comment(analyst)).thenThrows('DISPUTE.CLOSED', 'conflict'));
    it('refuses a blank comment', () => void given([filed]).when(comment(rep, '')).thenThrows('VALIDATION.TEXT', 'validation'));
  });

  describe('requesting and providing information', () => {
    const request = (actor: DisputeActor = analyst) => ({ type: 'RequestDisputeInformation' as const, disputeId: 'DSP-1', question: 'Which deal?', actor, today: '2026-03-18', policy });
    const provide = (actor: DisputeActor = rep) => ({ type: 'ProvideDisputeInformation' as const, disputeId: 'DSP-1', answer: 'D-7', evidenceReferences: [], actor, today: '2026-03-20' });

    it('stops the analyst\'s clock and starts the rep\'s: 5 business days to answer, 13 left to resolve', () => void given([filed, assigned]).when(request()).then([infoRequested]));
    it('restarts the analyst\'s clock on the answer with the business days that were left', () => void given([filed, assigned, infoRequested]).when(provide()).then([infoProvided]));
    it('lets the analyst ask again after an answer', () =>
      void given([filed, assigned, infoRequested, infoProvided]).when({ ...request(), today: '2026-03-23' }).then([
        {
          type: 'DisputeInformationRequested',
          data: { disputeId: 'DSP-1', question: 'Which deal?', requestedBy: record(analyst), requestedOn: '2026-03-23', responseDueOn: '2026-03-30', resolutionBusinessDaysLeft: 12 },
        },
      ]));
    it('keeps no negative time when the request comes after the due date', () => {
      const late = disputeDecider.decide({ ...request(), today: '2026-04-10' }, [filed, assigned].reduce(disputeDecider.evolve, disputeDecider.initialState()));
      expect(late[0]).toMatchObject({ data: { resolutionBusinessDaysLeft: 0 } });
    });
    it('refuses a request before the dispute is assigned', () => void given([filed]).when(request()).thenThrows('DISPUTE.NOT_UNDER_REVIEW'));
    it('refuses a second request while one is open', () => void given([filed, assigned, infoRequested]).when(request()).thenThrows('DISPUTE.INFORMATION_ALREADY_REQUESTED'));
    it('refuses a rep requesting information', () => void given([filed, assigned]).when(request(rep)).thenThrows('DISPUTE.ROLE_MAY_NOT_REVIEW', 'forbidden'));
    it('refuses a request on a resolved dispute', () => void given([filed, assigned, resolvedPartly]).when(request()).thenThrows('DISPUTE.ALREADY_RESOLVED'));
    it('refuses an answer when nothing was asked', () => void given([filed, assigned]).when(provide()).thenThrows('DISPUTE.NO_INFORMATION_REQUESTED'));
    it('refuses an answer from the analyst', () => void given([filed, assigned, infoRequested]).when(provide(analyst)).thenThrows('DISPUTE.NOT_FILER', 'forbidden'));
    it('refuses an answer from another rep', () => void given([filed, assigned, infoRequested]).when(provide(otherRep)).thenThrows('DISPUTE.NOT_FILER', 'forbidden'));
    it('refuses an answer on a withdrawn dispute', () => void given([filed, assigned, infoRequested, withdrawn]).when(provide()).thenThrows('DISPUTE.WITHDRAWN'));
  });

  describe('resolving', () => {
    it('approves part with an amount and a reason: the adjustment is the amount approved', () => void given([filed, assigned]).when(resolve()).then([resolvedPartly]));
    it('approves in full: the claimed amount', () =>
      void given([filed, assigned]).when(resolve({ outcome: 'approved', amountApproved: undefined, reason: undefined })).then([
        {
          type: 'DisputeResolved',
          data: { ...resolvedPartly.data, outcome: 'approved', amountApproved: '500.00', reason: null, remedy: { kind: 'adjustment', amount: '500.00', currency: 'USD' } },
        } as DisputeEvent,
      ]));
    it('rejects with a reason: no remedy', () =>
      void given([filed, assigned]).when(resolve({ outcome: 'rejected', amountApproved: undefined, reason: 'Rate was right' })).then([rejected]));
    it('resolves while information is still requested (the rep did not answer)', () =>
      void given([filed, assigned, infoRequested]).when(resolve({ outcome: 'rejected', amountApproved: undefined, reason: 'No answer' })).then([
        { type: 'DisputeResolved', data: { ...rejected.data, reason: 'No answer' } } as DisputeEvent,
      ]));
    it('settles a wrong split by correcting the deal\'s credits', () => {
      const wrongSplit = { ...filed, data: { ...filed.data, category: 'wrong_split', subject: { kind: 'deal', dealId: 'D-7' } } } as DisputeEvent;
      const correction = { dealId: 'D-7', primarySplits: [{ payeeId: 'P-1', sharePercent: '60' }, { payeeId: 'P-2', sharePercent: '40' }], overlays: [] };
      const [event] = disputeDecider.decide(
        resolve({ outcome: 'approved', amountApproved: undefined, reason: undefined, creditCorrection: correction }),
        [wrongSplit, assigned].reduce(disputeDecider.evolve, disputeDecider.initialState()),
      );
      expect(event).toMatchObject({ type: 'DisputeResolved', data: { outcome: 'approved', remedy: { kind: 'credit_correction', correction } } });
    });

    it('refuses a rep resolving, even their own dispute', () => void given([filed, assigned]).when(resolve({ actor: rep })).thenThrows('DISPUTE.REP_MAY_NOT_RESOLVE', 'forbidden'));
    it('refuses finance resolving', () => void given([filed, assigned]).when(resolve({ actor: finance })).thenThrows('DISPUTE.ROLE_MAY_NOT_REVIEW', 'forbidden'));
    it('refuses the filer approving its own dispute', () => {
      const filedByAnalyst = { ...filed, data: { ...filed.data, filedBy: record(analyst) } } as DisputeEvent;
      const byOther: DisputeEvent = { type: 'DisputeAssigned', data: { disputeId: 'DSP-1', assigneeId: 'analyst-2', previousAssigneeId: null, assignedBy: record(otherAnalyst) } };
      given([filedByAnalyst, byOther]).when(resolve({ outcome: 'approved', amountApproved: undefined })).thenThrows('DISPUTE.FILER_MAY_NOT_APPROVE', 'forbidden');
      given([filedByAnalyst, byOther]).when(resolve()).thenThrows('DISPUTE.FILER_MAY_NOT_APPROVE', 'forbidden');
    });
    it('refuses resolving a dispute not yet assigned', () => void given([filed]).when(resolve()).thenThrows('DISPUTE.NOT_UNDER_REVIEW', 'conflict'));
    it('refuses resolving a withdrawn dispute', () => void given([filed, assigned, withdrawn]).when(resolve()).thenThrows('DISPUTE.WITHDRAWN', 'conflict'));
    it('refuses resolving twice', () => void given([filed, assigned, resolvedPartly]).when(resolve()).thenThrows('DISPUTE.ALREADY_RESOLVED', 'conflict'));
    it('refuses an unknown outcome', () => void given([filed, assigned]).when(resolve({ outcome: 'maybe' })).thenThrows('DISPUTE.OUTCOME_INVALID'));
    it('refuses a partial approval without an amount', () => void given([filed, assigned]).when(resolve({ amountApproved: undefined })).thenThrows('DISPUTE.AMOUNT_REQUIRED'));
    it('refuses a partial approval of the whole claim or more', () => void given([filed, assigned]).when(resolve({ amountApproved: '500.00' })).thenThrows('DISPUTE.PARTIAL_NOT_LESS'));
    it('refuses a partial approval of nothing', () => void given([filed, assigned]).when(resolve({ amountApproved: '0.00' })).thenThrows('DISPUTE.AMOUNT_NOT_POSITIVE'));
    it('refuses a partial approval without a reason', () => void given([filed, assigned]).when(resolve({ reason: undefined })).thenThrows('DISPUTE.REASON_REQUIRED'));
    it('refuses a rejection without a reason', () =>
      void given([filed, assigned]).when(resolve({ outcome: 'rejected', amountApproved: undefined, reason: undefined })).thenThrows('DISPUTE.REASON_REQUIRED'));
    it('refuses a rejection with an amount', () => void given([filed, assigned]).when(resolve({ outcome: 'rejected' })).thenThrows('DISPUTE.AMOUNT_ON_REJECTION'));
    it('refuses an approval of another amount than claimed', () =>
      void given([filed, assigned]).when(resolve({ outcome: 'approved', amountApproved: '400.00' })).thenThrows('DISPUTE.APPROVED_AMOUNT_DIFFERS'));
    it('refuses a credit correction on a wrong-rate dispute', () =>
      void given([filed, assigned])
        .when(resolve({ outcome: 'approved', amountApproved: undefined, creditCorrection: { dealId: 'D-7', primarySplits: [{ payeeId: 'P-1', sharePercent: '100' }] } }))
        .thenThrows('DISPUTE.CORRECTION_NOT_APPLICABLE'));
    it('refuses a credit correction of another deal than the one disputed', () => {
      const wrongSplit = { ...filed, data: { ...filed.data, category: 'wrong_split', subject: { kind: 'deal', dealId: 'D-7' } } } as DisputeEvent;
      given([wrongSplit, assigned])
        .when(resolve({ outcome: 'approved', amountApproved: undefined, creditCorrection: { dealId: 'D-8', primarySplits: [{ payeeId: 'P-1', sharePercent: '100' }] } }))
        .thenThrows('DISPUTE.CORRECTION_OTHER_DEAL');
    });
    it('refuses a credit correction on a rejection', () => {
      const wrongSplit = { ...filed, data: { ...filed.data, category: 'wrong_split', subject: { kind: 'deal', dealId: 'D-7' } } } as DisputeEvent;
      given([wrongSplit, assigned])
        .when(resolve({ outcome: 'rejected', amountApproved: undefined, reason: 'no', creditCorrection: { dealId: 'D-7', primarySplits: [{ payeeId: 'P-1', sharePercent: '100' }] } }))
        .thenThrows('DISPUTE.CORRECTION_ON_REJECTION');
    });
  });

  describe('withdrawing', () => {
    const withdraw = (actor: DisputeActor = rep) => ({ type: 'WithdrawDispute' as const, disputeId: 'DSP-1', reason: 'found it', actor, today: '2026-03-17' });
    it('lets the filer withdraw while filed', () => void given([filed]).when(withdraw()).then([withdrawn]));
    it('lets the filer withdraw while information is requested', () => void given([filed, assigned, infoRequested]).when(withdraw()).then([withdrawn]));
    it('lets the rep withdraw a dispute an analyst filed for them', () => {
      const filedByAnalyst = { ...filed, data: { ...filed.data, filedBy: record(analyst) } } as DisputeEvent;
      void given([filedByAnalyst]).when(withdraw(rep)).then([withdrawn]);
    });
    it('refuses anyone but the filer and the rep it is about', () => {
      given([filed]).when(withdraw(analyst)).thenThrows('DISPUTE.NOT_FILER', 'forbidden');
      given([filed]).when(withdraw(otherRep)).thenThrows('DISPUTE.NOT_FILER', 'forbidden');
    });
    it('refuses withdrawing a resolved dispute', () => void given([filed, assigned, resolvedPartly]).when(withdraw()).thenThrows('DISPUTE.ALREADY_RESOLVED'));
    it('refuses withdrawing twice', () => void given([filed, withdrawn]).when(withdraw()).thenThrows('DISPUTE.WITHDRAWN'));
  });

  describe('reopening', () => {
    const reopen = (overrides: { actor?: DisputeActor; today?: string } = {}) => ({
      type: 'ReopenDispute' as const,
      disputeId: 'DSP-1',
      reason: 'April deals were also under the new rate',
      actor: overrides.actor ?? rep,
      today: overrides.today ?? '2026-04-01',
      policy,
    });
    const reopened: DisputeEvent = {
      type: 'DisputeReopened',
      data: { disputeId: 'DSP-1', reason: 'April deals were also under the new rate', reopenedBy: record(rep), reopenedOn: '2026-04-01', dueOn: '2026-04-22' },
    };

    it('reopens within the window, back under review with a new due date', () => void given([filed, assigned, resolvedPartly]).when(reopen()).then([reopened]));
    it('reopens on the last day of the window', () => {
      const events = disputeDecider.decide(reopen({ today: '2026-04-22', actor: analyst }), [filed, assigned, resolvedPartly].reduce(disputeDecider.evolve, disputeDecider.initialState()));
      expect(events[0]).toMatchObject({ type: 'DisputeReopened', data: { reopenedOn: '2026-04-22' } });
    });
    it('refuses after the window', () => void given([filed, assigned, resolvedPartly]).when(reopen({ today: '2026-04-23' })).thenThrows('DISPUTE.REOPEN_WINDOW_CLOSED'));
    it('refuses an unresolved dispute', () => void given([filed, assigned]).when(reopen()).thenThrows('DISPUTE.NOT_RESOLVED'));
    it('refuses a withdrawn dispute', () => void given([filed, withdrawn]).when(reopen()).thenThrows('DISPUTE.WITHDRAWN'));
    it('refuses another rep', () => void given([filed, assigned, resolvedPartly]).when(reopen({ actor: otherRep })).thenThrows('DISPUTE.NOT_A_PARTY', 'forbidden'));
    it('refuses a dispute settled by a credit correction', () => {
      const corrected = { type: 'DisputeResolved', data: { ...resolvedPartly.data, outcome: 'approved', amountApproved: '500.00', reason: null, remedy: { kind: 'credit_correction', correction: { dealId: 'D-7', primarySplits: [] } } } } as DisputeEvent;
      given([filed, assigned, corrected]).when(reopen()).thenThrows('DISPUTE.CREDITS_CORRECTED');
    });
    it('posts only the difference when the reopened dispute is approved in full', () =>
      void given([filed, assigned, resolvedPartly, reopened])
        .when(resolve({ outcome: 'approved', amountApproved: undefined, reason: undefined, today: '2026-04-02' }))
        .then([
          {
            type: 'DisputeResolved',
            data: {
              ...resolvedPartly.data,
              resolutionNumber: 2,
              outcome: 'approved',
              amountApproved: '500.00',
              reason: null,
              resolvedOn: '2026-04-02',
              reopenableUntil: '2026-05-02',
              remedy: { kind: 'adjustment', amount: '200.00', currency: 'USD' },
            },
          } as DisputeEvent,
        ]));
    it('takes back what was posted when the reopened dispute is rejected', () => {
      const [event] = disputeDecider.decide(
        resolve({ outcome: 'rejected', amountApproved: undefined, reason: 'Audit found the rate right', today: '2026-04-02' }),
        [filed, assigned, resolvedPartly, reopened].reduce(disputeDecider.evolve, disputeDecider.initialState()),
      );
      expect(event).toMatchObject({ data: { resolutionNumber: 2, amountApproved: '0.00', remedy: { kind: 'adjustment', amount: '-300.00' } } });
    });
    it('posts nothing when the same amount is approved again', () => {
      const [event] = disputeDecider.decide(resolve({ today: '2026-04-02' }), [filed, assigned, resolvedPartly, reopened].reduce(disputeDecider.evolve, disputeDecider.initialState()));
      expect(event).toMatchObject({ data: { resolutionNumber: 2, amountApproved: '300.00', remedy: null } });
    });
  });

  describe('escalating', () => {
    const escalate = (today: string, actor: DisputeActor = system) => ({ type: 'EscalateDispute' as const, disputeId: 'DSP-1', actor, today });
    const escalated: DisputeEvent = {
      type: 'DisputeEscalated',
      data: { disputeId: 'DSP-1', dueOn: '2026-04-06', reason: 'resolution_overdue', escalatedOn: '2026-04-07', level: 1, escalatedBy: record(system) },
    };
    it('escalates a dispute past its resolution due date', () => void given([filed, assigned]).when(escalate('2026-04-07')).then([escalated]));
    it('escalates once per due date', () => void given([filed, assigned, escalated]).when(escalate('2026-04-08')).then([]));
    it('escalates again when a new due date passes', () =>
      void given([filed, assigned, escalated, infoRequested]).when(escalate('2026-03-26')).then([
        {
          type: 'DisputeEscalated',
          data: { disputeId: 'DSP-1', dueOn: '2026-03-25', reason: 'information_overdue', escalatedOn: '2026-03-26', level: 2, escalatedBy: record(system) },
        },
      ]));
    it('refuses a dispute not yet due (due today is not overdue)', () => void given([filed]).when(escalate('2026-04-06')).thenThrows('DISPUTE.NOT_OVERDUE'));
    it('refuses a resolved dispute', () => void given([filed, assigned, resolvedPartly]).when(escalate('2026-05-01')).thenThrows('DISPUTE.CLOSED'));
    it('refuses a rep escalating', () => void given([filed]).when(escalate('2026-05-01', rep)).thenThrows('DISPUTE.ROLE_MAY_NOT_REVIEW', 'forbidden'));
    it('lets an analyst escalate by hand', () => {
      const [event] = disputeDecider.decide(escalate('2026-04-07', analyst), [filed].reduce(disputeDecider.evolve, disputeDecider.initialState()));
      expect(event).toMatchObject({ type: 'DisputeEscalated', data: { escalatedBy: record(analyst) } });
    });
  });

  describe('recording a remedy', () => {
    const recordRemedy = (outcome: RecordDisputeRemedy['outcome'], actor: DisputeActor = system): RecordDisputeRemedy => ({
      type: 'RecordDisputeRemedy',
      disputeId: 'DSP-1',
      resolutionNumber: 1,
      actor,
      outcome,
    });
    const targeted: DisputeEvent = { type: 'DisputeAdjustmentTargeted', data: { disputeId: 'DSP-1', resolutionNumber: 1, calendarId: 'monthly', periodId: '2026-04', attempt: 1 } };
    const posted: DisputeEvent = {
      type: 'DisputeAdjustmentPosted',
      data: { disputeId: 'DSP-1', resolutionNumber: 1, payeeId: 'P-1', calendarId: 'monthly', periodId: '2026-04', lineId: disputeAdjustmentLineId('DSP-1', 1), amount: '300.00', currency: 'USD' },
    };
    it('records the period the adjustment goes to', () =>
      void given([filed, assigned, resolvedPartly]).when(recordRemedy({ kind: 'adjustment_targeted', calendarId: 'monthly', periodId: '2026-04' })).then([targeted]));
    it('records the same target once', () =>
      void given([filed, assigned, resolvedPartly, targeted]).when(recordRemedy({ kind: 'adjustment_targeted', calendarId: 'monthly', periodId: '2026-04' })).then([]));
    it('records a new target when the first period closed before the line went in', () =>
      void given([filed, assigned, resolvedPartly, targeted]).when(recordRemedy({ kind: 'adjustment_targeted', calendarId: 'monthly', periodId: '2026-05' })).then([
        { type: 'DisputeAdjustmentTargeted', data: { disputeId: 'DSP-1', resolutionNumber: 1, calendarId: 'monthly', periodId: '2026-05', attempt: 2 } },
      ]));
    it('records the posted line with the approved amount', () =>
      void given([filed, assigned, resolvedPartly, targeted])
        .when(recordRemedy({ kind: 'adjustment_posted', calendarId: 'monthly', periodId: '2026-04', lineId: 'dispute:DSP-1:1' }))
        .then([posted]));
    it('records nothing once the remedy is done', () =>
      void given([filed, assigned, resolvedPartly, targeted, posted])
        .when(recordRemedy({ kind: 'adjustment_posted', calendarId: 'monthly', periodId: '2026-04', lineId: 'dispute:DSP-1:1' }))
        .then([]));
    it('records a failure', () =>
      void given([filed, assigned, resolvedPartly]).when(recordRemedy({ kind: 'failed', code: 'DEAL.CANCELLED', message: 'cancelled' })).then([
        { type: 'DisputeRemedyFailed', data: { disputeId: 'DSP-1', resolutionNumber: 1, code: 'DEAL.CANCELLED', message: 'cancelled' } },
      ]));
    it('refuses anyone but the process', () =>
      void given([filed, assigned, resolvedPartly]).when(recordRemedy({ kind: 'failed', code: 'X', message: 'x' }, admin)).thenThrows('DISPUTE.PROCESS_ONLY', 'forbidden'));
  });
});
