import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, DomainError, notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { Money, minorUnits, parseDecimal } from '#lib/shared/domain/money.js';
import { isIsoDate, periodKindOf } from '#lib/organization/domain/calendar.js';
import { requireCurrency, requireIdentifier, requireText } from '#lib/organization/domain/field-rules.js';
import { addBusinessDays, addCalendarDays, businessDaysBetween } from './business-days.js';

/**
 * Glossary for a finance reader
 * - Dispute: a rep's claim that they were paid wrongly, on one subject (a deal, one credit, one statement line or a
 *   whole period), for an amount in the payee's currency. One stream per dispute: `dispute-<disputeId>`.
 * - Filer: the actor who filed it (the rep, or an analyst on the rep's behalf). Only the filer, or the rep it is
 *   about, may withdraw it; the filer may never approve it.
 * - Assignee: the analyst reviewing it. Assigning a filed dispute puts it under review.
 * - Status: filed -> under_review <-> info_requested -> resolved (approved | partially_approved | rejected), or
 *   withdrawn by the filer while unresolved. A resolved dispute may be reopened within the reopen window.
 * - Due date: the business date by which whoever holds the dispute must act. Under review it is the analyst's
 *   resolution due date (filing date + the category's business days). While information is requested the
 *   analyst's clock stops and the rep's starts (the rep's response due date); when the rep answers, the analyst's
 *   due date moves by the business days the dispute waited.
 * - Escalation: a dispute past its due date is escalated, once per due date (a new due date can escalate again).
 *   The domain cannot read the clock: the service asks for it with today's date.
 * - Remedy: what an approval changes. An adjustment line naming the dispute in the payee's earliest open period
 *   (the difference from what earlier resolutions of the same dispute posted), or, for a missing or wrong credit,
 *   a re-allocation of the deal's credits. A process carries the remedy out and records it here.
 *
 * Every command names its actor; the rules about who may do what (a rep never resolves, the filer never approves
 * its own dispute) are decided here, so they hold whatever the caller.
 */

export const disputeStreamId = (disputeId: string): string => `dispute-${disputeId}`;
export const DISPUTE_STREAM_PREFIX = 'dispute-';

export const disputeCategories = ['missing_credit', 'wrong_split', 'wrong_rate', 'clawback', 'other'] as const;
export type DisputeCategory = (typeof disputeCategories)[number];

/** Categories whose remedy may be a credit correction rather than an adjustment line. */
export const creditCategories: ReadonlySet<DisputeCategory> = new Set(['missing_credit', 'wrong_split']);

export const disputeStatuses = ['filed', 'under_review', 'info_requested', 'resolved', 'withdrawn'] as const;
export type DisputeStatus = (typeof disputeStatuses)[number];
export const openDisputeStatuses: ReadonlySet<DisputeStatus> = new Set(['filed', 'under_review', 'info_requested']);

export const disputeOutcomes = ['approved', 'partially_approved', 'rejected'] as const;
export type DisputeOutcome = (typeof disputeOutcomes)[number];

/** Who acts. `payeeId` is the payee a rep acts as (null for every other role). */
export interface DisputeActor {
  id: string;
  role: string;
  payeeId: string | null;
}

export type DisputeSubject =
  | { kind: 'deal'; dealId: string }
  | { kind: 'credit'; dealId: string; creditId: string }
  | { kind: 'statement_line'; periodId: string; lineId: string }
  | { kind: 'period'; periodId: string };

/** What the handler found about the subject; the decider cannot read other streams or read models. */
export interface SubjectFacts {
  /** The subject exists (the deal, the credit on the deal, the line on the payee's statement, a period id). */
  exists: boolean;
  /** For a credit: it is the payee's. For a deal: the payee holds credit on it. Null when not applicable. */
  concernsPayee: boolean | null;
}

/** Due dates by category, in business days, and the rep's time to answer a request for information. */
export interface DisputeClockPolicy {
  resolutionBusinessDays: Readonly<Record<DisputeCategory, number>>;
  informationBusinessDays: number;
}

export interface PrimarySplitCorrection {
  payeeId: string;
  sharePercent: string;
}

export interface OverlaySplitCorrection {
  payeeId: string;
  sharePercent: string;
  role: string;
}

/** A re-allocation of a deal's credits that settles a missing or wrong credit (carried out through crediting). */
export interface CreditCorrection {
  dealId: string;
  primarySplits: PrimarySplitCorrection[];
  overlays?: OverlaySplitCorrection[];
  creditDate?: string;
}

export type DisputeRemedy =
  | { kind: 'adjustment'; amount: string; currency: string }
  | { kind: 'credit_correction'; correction: CreditCorrection };

// ---------------------------------------------------------------------------------------------------------------
// Commands

export type FileDispute = {
  type: 'FileDispute';
  disputeId: string;
  payeeId: string;
  subject: DisputeSubject;
  category: string;
  amountClaimed: string;
  currency: string;
  description: string;
  evidenceReferences: string[];
  actor: DisputeActor;
  /** Today's business date, from the service clock. */
  today: string;
  policy: DisputeClockPolicy;
  /** The payee is onboarded, and its currency. */
  payee: { exists: boolean; currency: string | null };
  subjectFacts: SubjectFacts;
};

export type AssignDispute = { type: 'AssignDispute'; disputeId: string; assigneeId: string; actor: DisputeActor };
export type CommentOnDispute = { type: 'CommentOnDispute'; disputeId: string; text: string; actor: DisputeActor };
export type RequestDisputeInformation = {
  type: 'RequestDisputeInformation';
  disputeId: string;
  question: string;
  actor: DisputeActor;
  today: string;
  policy: DisputeClockPolicy;
};
export type ProvideDisputeInformation = {
  type: 'ProvideDisputeInformation';
  disputeId: string;
  answer: string;
  evidenceReferences: string[];
  actor: DisputeActor;
  today: string;
};
export type ResolveDispute = {
  type: 'ResolveDispute';
  disputeId: string;
  outcome: string;
  /** Required for partially_approved; for approved, the claimed amount unless given equal to it. */
  amountApproved?: string;
  /** Required for rejected and partially_approved. */
  reason?: string;
  /** Only for missing_credit and wrong_split, and only when approving: re-allocate the deal instead of an adjustment. */
  creditCorrection?: CreditCorrection;
  actor: DisputeActor;
  today: string;
  /** Calendar days after the resolution during which it may be reopened. */
  reopenWindowDays: number;
};
export type WithdrawDispute = { type: 'WithdrawDispute'; disputeId: string; reason?: string; actor: DisputeActor; today: string };
export type ReopenDispute = { type: 'ReopenDispute'; disputeId: string; reason: string; actor: DisputeActor; today: string; policy: DisputeClockPolicy };
/** Sent by the escalation process (an analyst may send it too, from a tool). */
export type EscalateDispute = { type: 'EscalateDispute'; disputeId: string; actor: DisputeActor; today: string };
/** Recorded by the resolution-effects process: the remedy of a resolution is carried out (or cannot be). */
export type RecordDisputeRemedy = {
  type: 'RecordDisputeRemedy';
  disputeId: string;
  resolutionNumber: number;
  actor: DisputeActor;
  outcome:
    | { kind: 'adjustment_targeted'; calendarId: string; periodId: string }
    | { kind: 'adjustment_posted'; calendarId: string; periodId: string; lineId: string }
    | { kind: 'credits_corrected'; dealId: string; dealRevision: number }
    | { kind: 'failed'; code: string; message: string };
};

export type DisputeCommand =
  | FileDispute
  | AssignDispute
  | CommentOnDispute
  | RequestDisputeInformation
  | ProvideDisputeInformation
  | ResolveDispute
  | WithdrawDispute
  | ReopenDispute
  | EscalateDispute
  | RecordDisputeRemedy;

// ---------------------------------------------------------------------------------------------------------------
// Events

export interface ActorRecord {
  id: string;
  role: string;
}

export type DisputeFiled = DomainEvent<
  'DisputeFiled',
  {
    disputeId: string;
    payeeId: string;
    filedBy: ActorRecord;
    subject: DisputeSubject;
    category: DisputeCategory;
    amountClaimed: string;
    currency: string;
    description: string;
    evidenceReferences: string[];
    filedOn: string;
    dueOn: string;
  }
>;
export type DisputeAssigned = DomainEvent<'DisputeAssigned', { disputeId: string; assigneeId: string; previousAssigneeId: string | null; assignedBy: ActorRecord }>;
export type DisputeCommented = DomainEvent<'DisputeCommented', { disputeId: string; text: string; by: ActorRecord }>;
export type DisputeInformationRequested = DomainEvent<
  'DisputeInformationRequested',
  {
    disputeId: string;
    question: string;
    requestedBy: ActorRecord;
    requestedOn: string;
    /** The rep's response due date. */
    responseDueOn: string;
    /** Business days the analyst had left on the resolution clock when it stopped (never negative). */
    resolutionBusinessDaysLeft: number;
  }
>;
export type DisputeInformationProvided = DomainEvent<
  'DisputeInformationProvided',
  { disputeId: string; answer: string; evidenceReferences: string[]; providedBy: ActorRecord; providedOn: string; dueOn: string }
>;
export type DisputeResolved = DomainEvent<
  'DisputeResolved',
  {
    disputeId: string;
    payeeId: string;
    /** 1 for the first resolution, 2 after one reopen, ... */
    resolutionNumber: number;
    outcome: DisputeOutcome;
    category: DisputeCategory;
    amountClaimed: string;
    /** "0.00" when rejected. */
    amountApproved: string;
    currency: string;
    reason: string | null;
    resolvedBy: ActorRecord;
    resolvedOn: string;
    reopenableUntil: string;
    /** Null when nothing is to change (a rejection of a dispute nothing was ever paid on, or the same amount again). */
    remedy: DisputeRemedy | null;
  }
>;
export type DisputeWithdrawn = DomainEvent<'DisputeWithdrawn', { disputeId: string; reason: string | null; withdrawnBy: ActorRecord; withdrawnOn: string }>;
export type DisputeReopened = DomainEvent<'DisputeReopened', { disputeId: string; reason: string; reopenedBy: ActorRecord; reopenedOn: string; dueOn: string }>;
export type DisputeEscalated = DomainEvent<
  'DisputeEscalated',
  {
    disputeId: string;
    /** The due date that passed. */
    dueOn: string;
    reason: 'resolution_overdue' | 'information_overdue';
    escalatedOn: string;
    /** 1 for the first escalation of the dispute, 2 for the next, ... */
    level: number;
    escalatedBy: ActorRecord;
  }
>;
export type DisputeAdjustmentTargeted = DomainEvent<
  'DisputeAdjustmentTargeted',
  { disputeId: string; resolutionNumber: number; calendarId: string; periodId: string; attempt: number }
>;
export type DisputeAdjustmentPosted = DomainEvent<
  'DisputeAdjustmentPosted',
  { disputeId: string; resolutionNumber: number; payeeId: string; calendarId: string; periodId: string; lineId: string; amount: string; currency: string }
>;
export type DisputeCreditsCorrected = DomainEvent<
  'DisputeCreditsCorrected',
  { disputeId: string; resolutionNumber: number; dealId: string; dealRevision: number }
>;
export type DisputeRemedyFailed = DomainEvent<'DisputeRemedyFailed', { disputeId: string; resolutionNumber: number; code: string; message: string }>;

export type DisputeEvent =
  | DisputeFiled
  | DisputeAssigned
  | DisputeCommented
  | DisputeInformationRequested
  | DisputeInformationProvided
  | DisputeResolved
  | DisputeWithdrawn
  | DisputeReopened
  | DisputeEscalated
  | DisputeAdjustmentTargeted
  | DisputeAdjustmentPosted
  | DisputeCreditsCorrected
  | DisputeRemedyFailed;

export const DISPUTE_EVENT_TYPES: readonly DisputeEvent['type'][] = [
  'DisputeFiled',
  'DisputeAssigned',
  'DisputeCommented',
  'DisputeInformationRequested',
  'DisputeInformationProvided',
  'DisputeResolved',
  'DisputeWithdrawn',
  'DisputeReopened',
  'DisputeEscalated',
  'DisputeAdjustmentTargeted',
  'DisputeAdjustmentPosted',
  'DisputeCreditsCorrected',
  'DisputeRemedyFailed',
];

// ---------------------------------------------------------------------------------------------------------------
// State

export interface ResolutionState {
  resolutionNumber: number;
  outcome: DisputeOutcome;
  amountApproved: string;
  resolvedOn: string;
  reopenableUntil: string;
  remedy: DisputeRemedy | null;
  /** Where the adjustment is to go, once the process has chosen (one entry per attempt). */
  targets: { calendarId: string; periodId: string }[];
  remedyStatus: 'none' | 'pending' | 'done' | 'failed';
}

export interface OpenDispute {
  status: DisputeStatus;
  disputeId: string;
  payeeId: string;
  filedBy: ActorRecord;
  category: DisputeCategory;
  subject: DisputeSubject;
  amountClaimed: string;
  currency: string;
  assigneeId: string | null;
  filedOn: string;
  /** The due date in force: the analyst's, or while information is requested, the rep's. */
  dueOn: string;
  /** Business days left on the analyst's clock while it is stopped (information requested). */
  resolutionBusinessDaysLeft: number | null;
  escalatedForDueOn: string | null;
  escalationCount: number;
  resolutions: ResolutionState[];
  /** Sum of the adjustments of every resolution so far: what an approval has already asked to pay. */
  amountAdjusted: string;
}

export type DisputeState = { status: 'none' } | OpenDispute;

// ---------------------------------------------------------------------------------------------------------------
// Rules

const roleMayReview = (actor: DisputeActor): boolean => actor.role === 'analyst' || actor.role === 'admin';
const PROCESS_ROLE = 'system';

const forbidden = (code: string, message: string): DomainError => new DomainError(code, message, 'forbidden');

const actorRecord = (actor: DisputeActor): ActorRecord => ({ id: actor.id, role: actor.role });

function requireExisting(state: DisputeState, disputeId: string): OpenDispute {
  if (state.status === 'none') throw notFoundError('DISPUTE.NOT_FOUND', `Dispute ${disputeId} has not been filed`);
  return state;
}

/** The dispute is neither resolved nor withdrawn. */
function requireUnresolved(dispute: OpenDispute): void {
  if (dispute.status === 'withdrawn') throw conflictError('DISPUTE.WITHDRAWN', `Dispute ${dispute.disputeId} was withdrawn`);
  if (dispute.status === 'resolved') throw conflictError('DISPUTE.ALREADY_RESOLVED', `Dispute ${dispute.disputeId} is resolved; reopen it first`);
}

function requireReviewer(actor: DisputeActor, what: string): void {
  if (!roleMayReview(actor)) throw forbidden('DISPUTE.ROLE_MAY_NOT_REVIEW', `A ${actor.role} may not ${what}; an analyst does`);
}

/** The rep the dispute is about, or its filer. */
const isPayeeSide = (dispute: OpenDispute, actor: DisputeActor): boolean =>
  actor.id === dispute.filedBy.id || (actor.role === 'rep' && actor.payeeId === dispute.payeeId);

function requireIsoDate(value: unknown, field: string): string {
  if (!isIsoDate(value)) throw validationError('VALIDATION.DATE', `${field} must be a date YYYY-MM-DD`, [{ field, message: 'must be a date YYYY-MM-DD' }]);
  return value;
}

function requireCategory(value: unknown): DisputeCategory {
  if (typeof value !== 'string' || !(disputeCategories as readonly string[]).includes(value)) {
    throw validationError('DISPUTE.CATEGORY_INVALID', `category must be one of ${disputeCategories.join(', ')}`, [
      { field: 'category', message: `must be one of ${disputeCategories.join(', ')}` },
    ]);
  }
  return value as DisputeCategory;
}

/** A positive amount rounded to the currency's minor unit. */
function requirePositiveAmount(value: unknown, currency: string, field: string): string {
  const amount = parseDecimal(value, field);
  if (amount.lte(0)) throw validationError('DISPUTE.AMOUNT_NOT_POSITIVE', `${field} must be more than 0`, [{ field, message: 'must be more than 0' }]);
  if (amount.decimalPlaces() > minorUnits(currency)) {
    throw validationError('VALIDATION.AMOUNT_NOT_ROUNDED', `${field} must have at most ${minorUnits(currency)} decimals for ${currency}`, [
      { field, message: `must have at most ${minorUnits(currency)} decimals` },
    ]);
  }
  return amount.toFixed(minorUnits(currency));
}

function requirePeriodId(value: unknown, field: string): string {
  if (periodKindOf(value) === null) {
    throw validationError('PERIOD.INVALID_ID', `${field} must be a period id`, [{ field, message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' }]);
  }
  return value as string;
}

function requireSubject(value: unknown): DisputeSubject {
  const subject = (value ?? {}) as Partial<Record<string, unknown>>;
  switch (subject.kind) {
    case 'deal':
      return { kind: 'deal', dealId: requireIdentifier(subject.dealId, 'subject.dealId') };
    case 'credit': {
      const dealId = requireIdentifier(subject.dealId, 'subject.dealId');
      const creditId = requireText(subject.creditId, 'subject.creditId', 300);
      return { kind: 'credit', dealId, creditId };
    }
    case 'statement_line':
      return { kind: 'statement_line', periodId: requirePeriodId(subject.periodId, 'subject.periodId'), lineId: requireText(subject.lineId, 'subject.lineId', 300) };
    case 'period':
      return { kind: 'period', periodId: requirePeriodId(subject.periodId, 'subject.periodId') };
    default:
      throw validationError('DISPUTE.SUBJECT_INVALID', 'subject.kind must be deal, credit, statement_line or period', [
        { field: 'subject.kind', message: 'must be deal, credit, statement_line or period' },
      ]);
  }
}

/** A missing credit has no credit id to point at; a wrong split is about a deal's credits, not a line or a period. */
function requireSubjectFitsCategory(subject: DisputeSubject, category: DisputeCategory): void {
  const fits =
    category === 'missing_credit' ? subject.kind === 'deal' : category === 'wrong_split' ? subject.kind === 'deal' || subject.kind === 'credit' : true;
  if (!fits) {
    throw validationError('DISPUTE.SUBJECT_CATEGORY_MISMATCH', `A ${category} dispute cannot be about a ${subject.kind.replace('_', ' ')}`, [
      { field: 'subject.kind', message: category === 'missing_credit' ? 'must be deal' : 'must be deal or credit' },
    ]);
  }
}

const MAX_EVIDENCE_REFERENCES = 20;

function requireEvidence(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw validationError('VALIDATION.LIST', `${field} must be a list`, [{ field, message: 'must be a list' }]);
  if (value.length > MAX_EVIDENCE_REFERENCES) {
    throw validationError('DISPUTE.TOO_MUCH_EVIDENCE', `${field} has ${value.length} references; at most ${MAX_EVIDENCE_REFERENCES}`, [
      { field, message: `must have at most ${MAX_EVIDENCE_REFERENCES} entries` },
    ]);
  }
  return value.map((reference, index) => requireText(reference, `${field}[${index}]`, 500));
}

function requireDays(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${what} must be a non-negative integer, got ${value}`);
  return value;
}

const resolutionDueOn = (from: string, category: DisputeCategory, policy: DisputeClockPolicy): string =>
  addBusinessDays(from, requireDays(policy.resolutionBusinessDays[category], `resolution business days for ${category}`));

function requireCorrection(value: CreditCorrection, dispute: OpenDispute): CreditCorrection {
  const dealId = requireIdentifier(value.dealId, 'creditCorrection.dealId');
  if (dispute.subject.kind === 'deal' || dispute.subject.kind === 'credit') {
    if (dispute.subject.dealId !== dealId) {
      throw validationError('DISPUTE.CORRECTION_OTHER_DEAL', `The dispute is about deal ${dispute.subject.dealId}, not ${dealId}`, [
        { field: 'creditCorrection.dealId', message: `must be ${dispute.subject.dealId}` },
      ]);
    }
  }
  if (!Array.isArray(value.primarySplits) || value.primarySplits.length === 0) {
    throw validationError('DISPUTE.CORRECTION_NO_SPLITS', 'creditCorrection.primarySplits must name at least one payee', [
      { field: 'creditCorrection.primarySplits', message: 'must name at least one payee' },
    ]);
  }
  // Shares, payees and the roll-up are judged by the deal decider when the correction is carried out; the handler
  // checks it against the deal before the resolution is recorded.
  return {
    dealId,
    primarySplits: value.primarySplits.map(({ payeeId, sharePercent }) => ({ payeeId, sharePercent })),
    ...(value.overlays !== undefined ? { overlays: value.overlays.map(({ payeeId, sharePercent, role }) => ({ payeeId, sharePercent, role })) } : {}),
    ...(value.creditDate !== undefined ? { creditDate: requireIsoDate(value.creditDate, 'creditCorrection.creditDate') } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Decide

function decideFile(command: FileDispute, state: DisputeState): DisputeEvent[] {
  const disputeId = requireIdentifier(command.disputeId, 'disputeId');
  if (state.status !== 'none') throw conflictError('DISPUTE.ALREADY_FILED', `Dispute ${disputeId} is already filed`);
  const { actor } = command;
  const payeeId = requireIdentifier(command.payeeId, 'payeeId');
  if (actor.role === 'rep') {
    if (actor.payeeId !== payeeId) throw forbidden('DISPUTE.NOT_OWN_PAYEE', 'A rep files disputes about their own pay only');
  } else if (!roleMayReview(actor)) {
    throw forbidden('DISPUTE.ROLE_MAY_NOT_FILE', `A ${actor.role} may not file a dispute; the rep does, or an analyst on the rep's behalf`);
  }
  const today = requireIsoDate(command.today, 'today');
  const category = requireCategory(command.category);
  const subject = requireSubject(command.subject);
  requireSubjectFitsCategory(subject, category);
  if (!command.payee.exists) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
  const currency = requireCurrency(command.currency, 'currency');
  const amountClaimed = requirePositiveAmount(command.amountClaimed, currency, 'amountClaimed');
  const description = requireText(command.description, 'description', 4000);
  const evidenceReferences = requireEvidence(command.evidenceReferences, 'evidenceReferences');
  if (command.payee.currency !== currency) {
    throw validationError('DISPUTE.CURRENCY_MISMATCH', `The payee is paid in ${command.payee.currency}, not ${currency}`, [
      { field: 'currency', message: `must be the payee's currency ${command.payee.currency}` },
    ]);
  }
  if (!command.subjectFacts.exists) {
    throw notFoundError('DISPUTE.SUBJECT_NOT_FOUND', `The ${subject.kind.replace('_', ' ')} the dispute is about does not exist for payee ${payeeId}`);
  }
  // A payee disputes their own credits; a deal is theirs unless they claim credit is missing from it.
  if (command.subjectFacts.concernsPayee === false && !(subject.kind === 'deal' && (category === 'missing_credit' || category === 'wrong_split'))) {
    throw validationError('DISPUTE.SUBJECT_NOT_PAYEES', `The ${subject.kind} is not payee ${payeeId}'s`, [{ field: 'subject', message: `must be payee ${payeeId}'s` }]);
  }
  return [
    {
      type: 'DisputeFiled',
      data: {
        disputeId,
        payeeId,
        filedBy: actorRecord(actor),
        subject,
        category,
        amountClaimed,
        currency,
        description,
        evidenceReferences,
        filedOn: today,
        dueOn: resolutionDueOn(today, category, command.policy),
      },
    },
  ];
}

function decideAssign(command: AssignDispute, dispute: OpenDispute): DisputeEvent[] {
  requireReviewer(command.actor, 'assign a dispute');
  requireUnresolved(dispute);
  const assigneeId = requireIdentifier(command.assigneeId, 'assigneeId');
  if (assigneeId === dispute.filedBy.id) {
    throw forbidden('DISPUTE.FILER_MAY_NOT_REVIEW', 'The filer of a dispute may not review it');
  }
  if (assigneeId === dispute.assigneeId) return [];
  return [{ type: 'DisputeAssigned', data: { disputeId: dispute.disputeId, assigneeId, previousAssigneeId: dispute.assigneeId, assignedBy: actorRecord(command.actor) } }];
}

function decideComment(command: CommentOnDispute, dispute: OpenDispute): DisputeEvent[] {
  const { actor } = command;
  if (!roleMayReview(actor) && !isPayeeSide(dispute, actor)) {
    throw forbidden('DISPUTE.NOT_A_PARTY', 'Only the rep the dispute is about, its filer and analysts may comment on it');
  }
  if (!openDisputeStatuses.has(dispute.status)) {
    throw conflictError('DISPUTE.CLOSED', `Dispute ${dispute.disputeId} is ${dispute.status}: it takes no more comments`);
  }
  const text = requireText(command.text, 'text', 4000);
  return [{ type: 'DisputeCommented', data: { disputeId: dispute.disputeId, text, by: actorRecord(actor) } }];
}

function decideRequestInformation(command: RequestDisputeInformation, dispute: OpenDispute): DisputeEvent[] {
  requireReviewer(command.actor, 'request information on a dispute');
  requireUnresolved(dispute);
  if (dispute.status === 'info_requested') throw conflictError('DISPUTE.INFORMATION_ALREADY_REQUESTED', 'Information is already requested; wait for the answer');
  if (dispute.status !== 'under_review') throw conflictError('DISPUTE.NOT_UNDER_REVIEW', `Dispute ${dispute.disputeId} is ${dispute.status}: assign it first`);
  const today = requireIsoDate(command.today, 'today');
  const question = requireText(command.question, 'question', 4000);
  return [
    {
      type: 'DisputeInformationRequested',
      data: {
        disputeId: dispute.disputeId,
        question,
        requestedBy: actorRecord(command.actor),
        requestedOn: today,
        responseDueOn: addBusinessDays(today, requireDays(command.policy.informationBusinessDays, 'information business days')),
        resolutionBusinessDaysLeft: Math.max(0, businessDaysBetween(today, dispute.dueOn)),
      },
    },
  ];
}

function decideProvideInformation(command: ProvideDisputeInformation, dispute: OpenDispute): DisputeEvent[] {
  if (!isPayeeSide(dispute, command.actor)) throw forbidden('DISPUTE.NOT_FILER', 'Only the rep the dispute is about, or its filer, answers a request for information');
  requireUnresolved(dispute);
  if (dispute.status !== 'info_requested') throw conflictError('DISPUTE.NO_INFORMATION_REQUESTED', 'No information is requested on this dispute');
  const today = requireIsoDate(command.today, 'today');
  const answer = requireText(command.answer, 'answer', 4000);
  const evidenceReferences = requireEvidence(command.evidenceReferences, 'evidenceReferences');
  return [
    {
      type: 'DisputeInformationProvided',
      data: {
        disputeId: dispute.disputeId,
        answer,
        evidenceReferences,
        providedBy: actorRecord(command.actor),
        providedOn: today,
        dueOn: addBusinessDays(today, dispute.resolutionBusinessDaysLeft ?? 0),
      },
    },
  ];
}

function requireOutcome(value: unknown): DisputeOutcome {
  if (typeof value !== 'string' || !(disputeOutcomes as readonly string[]).includes(value)) {
    throw validationError('DISPUTE.OUTCOME_INVALID', `outcome must be one of ${disputeOutcomes.join(', ')}`, [
      { field: 'outcome', message: `must be one of ${disputeOutcomes.join(', ')}` },
    ]);
  }
  return value as DisputeOutcome;
}

function decideResolve(command: ResolveDispute, dispute: OpenDispute): DisputeEvent[] {
  const { actor } = command;
  if (actor.role === 'rep') throw forbidden('DISPUTE.REP_MAY_NOT_RESOLVE', 'A rep may not resolve a dispute');
  requireReviewer(actor, 'resolve a dispute');
  requireUnresolved(dispute);
  if (dispute.status === 'filed') throw conflictError('DISPUTE.NOT_UNDER_REVIEW', `Dispute ${dispute.disputeId} is not under review yet: assign it first`);
  const outcome = requireOutcome(command.outcome);
  if (outcome !== 'rejected' && actor.id === dispute.filedBy.id) {
    throw forbidden('DISPUTE.FILER_MAY_NOT_APPROVE', 'The filer of a dispute may not approve it');
  }
  const today = requireIsoDate(command.today, 'today');
  const { currency } = dispute;
  const claimed = new Money(dispute.amountClaimed);
  const reason = command.reason === undefined ? null : requireText(command.reason, 'reason', 4000);

  let approved: Money;
  switch (outcome) {
    case 'approved':
      if (command.amountApproved !== undefined && !parseDecimal(command.amountApproved, 'amountApproved').equals(claimed)) {
        throw validationError('DISPUTE.APPROVED_AMOUNT_DIFFERS', 'An approval grants the claimed amount; approve part of it with partially_approved', [
          { field: 'amountApproved', message: `must be ${dispute.amountClaimed} or left out` },
        ]);
      }
      approved = claimed;
      break;
    case 'partially_approved': {
      if (command.amountApproved === undefined) {
        throw validationError('DISPUTE.AMOUNT_REQUIRED', 'A partial approval states the amount approved', [{ field: 'amountApproved', message: 'is required' }]);
      }
      approved = new Money(requirePositiveAmount(command.amountApproved, currency, 'amountApproved'));
      if (approved.gte(claimed)) {
        throw validationError('DISPUTE.PARTIAL_NOT_LESS', `A partial approval is less than the ${dispute.amountClaimed} claimed`, [
          { field: 'amountApproved', message: `must be less than ${dispute.amountClaimed}` },
        ]);
      }
      if (reason === null) throw validationError('DISPUTE.REASON_REQUIRED', 'Say why part of the claim is refused', [{ field: 'reason', message: 'is required' }]);
      break;
    }
    case 'rejected':
      if (command.amountApproved !== undefined) {
        throw validationError('DISPUTE.AMOUNT_ON_REJECTION', 'A rejection approves no amount', [{ field: 'amountApproved', message: 'must be left out' }]);
      }
      if (reason === null) throw validationError('DISPUTE.REASON_REQUIRED', 'A rejection says why', [{ field: 'reason', message: 'is required' }]);
      approved = new Money(0);
      break;
    default:
      return assertNever(outcome);
  }

  let remedy: DisputeRemedy | null;
  if (command.creditCorrection !== undefined) {
    if (outcome === 'rejected') {
      throw validationError('DISPUTE.CORRECTION_ON_REJECTION', 'A rejection corrects no credit', [{ field: 'creditCorrection', message: 'must be left out' }]);
    }
    if (!creditCategories.has(dispute.category)) {
      throw validationError('DISPUTE.CORRECTION_NOT_APPLICABLE', `A ${dispute.category} dispute is settled by an adjustment, not a credit correction`, [
        { field: 'creditCorrection', message: 'only for missing_credit and wrong_split disputes' },
      ]);
    }
    if (!new Money(dispute.amountAdjusted).isZero()) {
      throw conflictError('DISPUTE.ALREADY_ADJUSTED', 'An earlier resolution of this dispute posted an adjustment; settle it with an adjustment again');
    }
    remedy = { kind: 'credit_correction', correction: requireCorrection(command.creditCorrection, dispute) };
  } else {
    // Later resolutions of a reopened dispute post only the difference from what earlier ones asked to pay.
    const difference = approved.minus(dispute.amountAdjusted);
    remedy = difference.isZero() ? null : { kind: 'adjustment', amount: difference.toFixed(minorUnits(currency)), currency };
  }

  return [
    {
      type: 'DisputeResolved',
      data: {
        disputeId: dispute.disputeId,
        payeeId: dispute.payeeId,
        resolutionNumber: dispute.resolutions.length + 1,
        outcome,
        category: dispute.category,
        amountClaimed: dispute.amountClaimed,
        amountApproved: approved.toFixed(minorUnits(currency)),
        currency,
        reason,
        resolvedBy: actorRecord(actor),
        resolvedOn: today,
        reopenableUntil: addCalendarDays(today, requireDays(command.reopenWindowDays, 'reopen window days')),
        remedy,
      },
    },
  ];
}

function decideWithdraw(command: WithdrawDispute, dispute: OpenDispute): DisputeEvent[] {
  // The claim is the rep's: they may withdraw one an analyst filed for them.
  if (!isPayeeSide(dispute, command.actor)) throw forbidden('DISPUTE.NOT_FILER', 'Only the filer, or the rep the dispute is about, may withdraw it');
  requireUnresolved(dispute);
  const today = requireIsoDate(command.today, 'today');
  const reason = command.reason === undefined ? null : requireText(command.reason, 'reason', 4000);
  return [{ type: 'DisputeWithdrawn', data: { disputeId: dispute.disputeId, reason, withdrawnBy: actorRecord(command.actor), withdrawnOn: today } }];
}

function decideReopen(command: ReopenDispute, dispute: OpenDispute): DisputeEvent[] {
  const { actor } = command;
  if (!roleMayReview(actor) && !isPayeeSide(dispute, actor)) {
    throw forbidden('DISPUTE.NOT_A_PARTY', 'Only the rep the dispute is about, its filer and analysts may reopen it');
  }
  if (dispute.status === 'withdrawn') throw conflictError('DISPUTE.WITHDRAWN', `Dispute ${dispute.disputeId} was withdrawn: file a new one`);
  if (dispute.status !== 'resolved') throw conflictError('DISPUTE.NOT_RESOLVED', `Dispute ${dispute.disputeId} is ${dispute.status}, not resolved`);
  const today = requireIsoDate(command.today, 'today');
  const reason = requireText(command.reason, 'reason', 4000);
  const last = dispute.resolutions[dispute.resolutions.length - 1];
  if (today > last.reopenableUntil) {
    throw conflictError('DISPUTE.REOPEN_WINDOW_CLOSED', `Dispute ${dispute.disputeId} could be reopened until ${last.reopenableUntil}; file a new one`);
  }
  if (last.remedy?.kind === 'credit_correction') {
    throw conflictError('DISPUTE.CREDITS_CORRECTED', "This dispute was settled by correcting the deal's credits: dispute the corrected credits with a new dispute");
  }
  return [
    {
      type: 'DisputeReopened',
      data: { disputeId: dispute.disputeId, reason, reopenedBy: actorRecord(actor), reopenedOn: today, dueOn: resolutionDueOn(today, dispute.category, command.policy) },
    },
  ];
}

function decideEscalate(command: EscalateDispute, dispute: OpenDispute): DisputeEvent[] {
  if (command.actor.role !== PROCESS_ROLE && !roleMayReview(command.actor)) {
    throw forbidden('DISPUTE.ROLE_MAY_NOT_REVIEW', `A ${command.actor.role} may not escalate a dispute`);
  }
  if (!openDisputeStatuses.has(dispute.status)) throw conflictError('DISPUTE.CLOSED', `Dispute ${dispute.disputeId} is ${dispute.status}: nothing to escalate`);
  const today = requireIsoDate(command.today, 'today');
  if (today <= dispute.dueOn) throw conflictError('DISPUTE.NOT_OVERDUE', `Dispute ${dispute.disputeId} is due on ${dispute.dueOn}`);
  // Once per due date: the sweep that finds it overdue again, or a retry, changes nothing.
  if (dispute.escalatedForDueOn === dispute.dueOn) return [];
  return [
    {
      type: 'DisputeEscalated',
      data: {
        disputeId: dispute.disputeId,
        dueOn: dispute.dueOn,
        reason: dispute.status === 'info_requested' ? 'information_overdue' : 'resolution_overdue',
        escalatedOn: today,
        level: dispute.escalationCount + 1,
        escalatedBy: actorRecord(command.actor),
      },
    },
  ];
}

function decideRecordRemedy(command: RecordDisputeRemedy, dispute: OpenDispute): DisputeEvent[] {
  if (command.actor.role !== PROCESS_ROLE) throw forbidden('DISPUTE.PROCESS_ONLY', 'Only the resolution-effects process records a remedy');
  const resolution = dispute.resolutions.find((candidate) => candidate.resolutionNumber === command.resolutionNumber);
  if (resolution === undefined || resolution.remedy === null) {
    throw new Error(`Dispute ${dispute.disputeId} has no resolution ${command.resolutionNumber} with a remedy`);
  }
  // A remedy carried out (or failed) is final: a replay of the process records nothing more.
  if (resolution.remedyStatus === 'done' || resolution.remedyStatus === 'failed') return [];
  const { disputeId } = dispute;
  const { resolutionNumber, outcome } = command;
  switch (outcome.kind) {
    case 'adjustment_targeted': {
      const current = resolution.targets[resolution.targets.length - 1];
      if (current !== undefined && current.calendarId === outcome.calendarId && current.periodId === outcome.periodId) return [];
      return [
        {
          type: 'DisputeAdjustmentTargeted',
          data: { disputeId, resolutionNumber, calendarId: outcome.calendarId, periodId: outcome.periodId, attempt: resolution.targets.length + 1 },
        },
      ];
    }
    case 'adjustment_posted': {
      if (resolution.remedy.kind !== 'adjustment') throw new Error(`Resolution ${resolutionNumber} of dispute ${disputeId} is not an adjustment`);
      return [
        {
          type: 'DisputeAdjustmentPosted',
          data: {
            disputeId,
            resolutionNumber,
            payeeId: dispute.payeeId,
            calendarId: outcome.calendarId,
            periodId: outcome.periodId,
            lineId: outcome.lineId,
            amount: resolution.remedy.amount,
            currency: resolution.remedy.currency,
          },
        },
      ];
    }
    case 'credits_corrected':
      return [{ type: 'DisputeCreditsCorrected', data: { disputeId, resolutionNumber, dealId: outcome.dealId, dealRevision: outcome.dealRevision } }];
    case 'failed':
      return [{ type: 'DisputeRemedyFailed', data: { disputeId, resolutionNumber, code: outcome.code, message: outcome.message } }];
    default:
      return assertNever(outcome);
  }
}

function decide(command: DisputeCommand, state: DisputeState): DisputeEvent[] {
  if (command.type === 'FileDispute') return decideFile(command, state);
  const dispute = requireExisting(state, command.disputeId);
  switch (command.type) {
    case 'AssignDispute':
      return decideAssign(command, dispute);
    case 'CommentOnDispute':
      return decideComment(command, dispute);
    case 'RequestDisputeInformation':
      return decideRequestInformation(command, dispute);
    case 'ProvideDisputeInformation':
      return decideProvideInformation(command, dispute);
    case 'ResolveDispute':
      return decideResolve(command, dispute);
    case 'WithdrawDispute':
      return decideWithdraw(command, dispute);
    case 'ReopenDispute':
      return decideReopen(command, dispute);
    case 'EscalateDispute':
      return decideEscalate(command, dispute);
    case 'RecordDisputeRemedy':
      return decideRecordRemedy(command, dispute);
    default:
      return assertNever(command);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Evolve

function updateResolution(dispute: OpenDispute, resolutionNumber: number, update: (resolution: ResolutionState) => ResolutionState): OpenDispute {
  let found = false;
  const resolutions = dispute.resolutions.map((resolution) => {
    if (resolution.resolutionNumber !== resolutionNumber) return resolution;
    found = true;
    return update(resolution);
  });
  if (!found) throw new Error(`Dispute ${dispute.disputeId} has no resolution ${resolutionNumber}`);
  return { ...dispute, resolutions };
}

function evolve(state: DisputeState, event: DisputeEvent): DisputeState {
  if (event.type === 'DisputeFiled') {
    const data = event.data;
    return {
      status: 'filed',
      disputeId: data.disputeId,
      payeeId: data.payeeId,
      filedBy: data.filedBy,
      category: data.category,
      subject: data.subject,
      amountClaimed: data.amountClaimed,
      currency: data.currency,
      assigneeId: null,
      filedOn: data.filedOn,
      dueOn: data.dueOn,
      resolutionBusinessDaysLeft: null,
      escalatedForDueOn: null,
      escalationCount: 0,
      resolutions: [],
      amountAdjusted: '0',
    };
  }
  if (state.status === 'none') throw new Error(`${event.type} recorded for dispute ${event.data.disputeId}, which was never filed`);
  const dispute = state;
  switch (event.type) {
    case 'DisputeAssigned':
      return { ...dispute, assigneeId: event.data.assigneeId, status: dispute.status === 'filed' ? 'under_review' : dispute.status };
    case 'DisputeCommented':
      return dispute;
    case 'DisputeInformationRequested':
      return { ...dispute, status: 'info_requested', dueOn: event.data.responseDueOn, resolutionBusinessDaysLeft: event.data.resolutionBusinessDaysLeft };
    case 'DisputeInformationProvided':
      return { ...dispute, status: 'under_review', dueOn: event.data.dueOn, resolutionBusinessDaysLeft: null };
    case 'DisputeResolved': {
      const { resolutionNumber, outcome, amountApproved, resolvedOn, reopenableUntil, remedy } = event.data;
      const amountAdjusted = remedy?.kind === 'adjustment' ? new Money(dispute.amountAdjusted).plus(remedy.amount).toFixed() : dispute.amountAdjusted;
      return {
        ...dispute,
        status: 'resolved',
        resolutionBusinessDaysLeft: null,
        amountAdjusted,
        resolutions: [
          ...dispute.resolutions,
          { resolutionNumber, outcome, amountApproved, resolvedOn, reopenableUntil, remedy, targets: [], remedyStatus: remedy === null ? 'none' : 'pending' },
        ],
      };
    }
    case 'DisputeWithdrawn':
      return { ...dispute, status: 'withdrawn' };
    case 'DisputeReopened':
      return { ...dispute, status: dispute.assigneeId === null ? 'filed' : 'under_review', dueOn: event.data.dueOn };
    case 'DisputeEscalated':
      return { ...dispute, escalatedForDueOn: event.data.dueOn, escalationCount: event.data.level };
    case 'DisputeAdjustmentTargeted':
      return updateResolution(dispute, event.data.resolutionNumber, (resolution) => ({
        ...resolution,
        targets: [...resolution.targets, { calendarId: event.data.calendarId, periodId: event.data.periodId }],
      }));
    case 'DisputeAdjustmentPosted':
    case 'DisputeCreditsCorrected':
      return updateResolution(dispute, event.data.resolutionNumber, (resolution) => ({ ...resolution, remedyStatus: 'done' }));
    case 'DisputeRemedyFailed': {
      // An adjustment that could not be posted was never paid: later resolutions measure from what was.
      const failed = dispute.resolutions.find((resolution) => resolution.resolutionNumber === event.data.resolutionNumber)?.remedy;
      const amountAdjusted = failed?.kind === 'adjustment' ? new Money(dispute.amountAdjusted).minus(failed.amount).toFixed() : dispute.amountAdjusted;
      return { ...updateResolution(dispute, event.data.resolutionNumber, (resolution) => ({ ...resolution, remedyStatus: 'failed' })), amountAdjusted };
    }
    default:
      return assertNever(event);
  }
}

export const disputeDecider: Decider<DisputeCommand, DisputeEvent, DisputeState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};

/** The id of the adjustment line a resolution posts: the same on every retry, so the period posts it once. */
export const disputeAdjustmentLineId = (disputeId: string, resolutionNumber: number): string => `dispute:${disputeId}:${resolutionNumber}`;
