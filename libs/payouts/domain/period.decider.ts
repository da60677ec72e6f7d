import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, DomainError, validationError } from '#lib/shared/domain/domain-error.js';
import { parseDecimal } from '#lib/shared/domain/money.js';
import type { PayoutFigures } from './payout.js';
import { payoutIdFor } from './payout-id.js';
import { parseRoundedAmount, type AdjustmentCause } from './statement-summary.js';

/**
 * The lifecycle of one plan-calendar period: open -> closed -> approved -> paid, with an explicit reopen.
 *
 * Glossary for a finance reader:
 * - Period: one period of a plan calendar (e.g. `2025-06` of calendar `monthly`); one stream per period,
 *   named by `periodStreamId`. A period opens on first use (a posting or its close) or explicitly.
 * - Posting: a line recorded in an open period besides the commission engine's own lines, e.g. a prior-period
 *   adjustment or a clawback. A closed period accepts no postings (PERIOD.CLOSED).
 * - Close: freezes each payee's statement. The period records the statement digest (a content hash the handler
 *   computes), the global log position the statement was computed at (so anyone can recompute it and compare), the
 *   lines posted to it, and the payout figures (gross, adjustments, clawbacks, draw, net). Periods of a calendar
 *   close in order: the period before must be closed first, unless the calendar has never closed one.
 * - Preparer: the actor who closed the period. Separation of duties: the preparer may not approve.
 * - Approval: finance accepts a payee's payout (one payee, some, or all at once). The payout id is derived from
 *   (payee, period, digest), so approving again names the same payout and records nothing new.
 * - Paid: payroll confirms a payout went out, quoting its own reference.
 * - Reopen: an explicit, reasoned event. It voids the frozen statements and unpaid approvals. It is refused once any
 *   payout is paid, once the next period is closed, and once a later period carries a correction of this one
 *   (the correction would count twice); later changes then flow as prior-period adjustments instead.
 *
 * Every event after PeriodOpened names its calendar and period, so a reader needs no other event to place it.
 */

export const periodStreamId = (calendarId: string, periodId: string): string => `period-${calendarId}-${periodId}`;
export const PERIOD_STREAM_PREFIX = 'period-';

export type PeriodStatus = 'not_opened' | 'open' | 'closed' | 'approved' | 'paid';

/** Closed, approved or paid: the statements are frozen. */
export const isFrozenStatus = (status: PeriodStatus): boolean => status === 'closed' || status === 'approved' || status === 'paid';

export interface PostedLine {
  lineId: string;
  kind: string;
  /** Decimal string rounded to the currency's minor unit. */
  amount: string;
  dealId?: string | null;
  cause?: AdjustmentCause;
  /** For a prior-period adjustment or a clawback: the closed period it corrects. */
  sourcePeriodId?: string;
  /** How the line was made, in words a payee can read. */
  explanation?: string;
  /** The numbers behind the explanation (JSON-safe): source lines with closed and recomputed amounts, a clawback window. */
  evidence?: Readonly<Record<string, unknown>>;
}

/** A posted line as a frozen statement lists it. */
export interface FrozenPostedLine {
  lineId: string;
  kind: string;
  amount: string;
}

export interface FrozenStatementRecord {
  payeeId: string;
  statementDigest: string;
  /** Global log position the statement was computed at; recomputing "as of" this position reproduces it. */
  logPosition: number;
  currency: string;
  /** What the payee is to be paid for the period, as computed at close (decimal string). */
  netPayable: string;
  /** The payout's other figures: gross, capitalised part, adjustments, clawbacks, draw, carried balances. */
  figures: PayoutFigures;
  /** The lines posted to the period for this payee, exactly those in the period when it closed. */
  postedLines: FrozenPostedLine[];
}

/** Where a period sits in its calendar, as the handler found the neighbouring period streams. */
export interface PeriodNeighbour {
  periodId: string;
  status: PeriodStatus;
}

export interface OpenPeriodData {
  calendarId: string;
  periodId: string;
  startsOn: string;
  endsOn: string;
  openedBy: string;
}

export type PeriodCommand =
  | { type: 'OpenPeriod'; data: OpenPeriodData }
  | { type: 'PostLines'; data: { payeeId: string; currency: string; lines: PostedLine[]; postedBy: string } }
  | {
      type: 'ClosePeriod';
      data: {
        preparedBy: string;
        statements: FrozenStatementRecord[];
        /** The calendar's period before this one; null when the calendar has never closed a period. */
        previousPeriod: PeriodNeighbour | null;
      };
    }
  /** Without payeeIds, approves every payee still unapproved (bulk approval). */
  | { type: 'ApprovePayouts'; data: { approvedBy: string; payeeIds?: string[] } }
  /** Without payeeIds, confirms every approved payee still unpaid. */
  | { type: 'ConfirmPayoutsPaid'; data: { confirmedBy: string; payrollReference: string; paidOn: string; payeeIds?: string[] } }
  | {
      type: 'ReopenPeriod';
      data: {
        reopenedBy: string;
        reason: string;
        /** The calendar's next period, as it stands. */
        nextPeriod: PeriodNeighbour;
        /** How many lines in later periods correct this one (prior-period adjustments, clawbacks). */
        correctionsPostedForward: number;
      };
    }
  /** A deal cancelled after its period closed clawed nothing back: the reason is kept with the period it would have hit. */
  | { type: 'NoteClawbackWaived'; data: ClawbackWaiver & { notedBy: string } };

export interface ClawbackWaiver {
  /** Derived from the cancellation and the payee: the same cancellation is noted once. */
  assessmentId: string;
  payeeId: string;
  dealId: string;
  sourcePeriodId: string;
  outcome: 'outside_window' | 'nothing_to_claw_back' | 'no_clawback_terms';
  explanation: string;
  evidence?: Readonly<Record<string, unknown>>;
}

export interface ApprovedPayout {
  payeeId: string;
  payoutId: string;
  statementDigest: string;
  currency: string;
  netPayable: string;
  figures: PayoutFigures;
  postedLines: FrozenPostedLine[];
}

export interface PaidPayout {
  payeeId: string;
  payoutId: string;
  currency: string;
  netPayable: string;
}

/** Names the period an event belongs to. */
export interface PeriodRef {
  calendarId: string;
  periodId: string;
}

export type PeriodEvent =
  | DomainEvent<'PeriodOpened', OpenPeriodData>
  | DomainEvent<'LinesPosted', PeriodRef & { payeeId: string; currency: string; lines: PostedLine[]; postedBy: string }>
  | DomainEvent<'PeriodClosed', PeriodRef & { preparedBy: string; statements: FrozenStatementRecord[] }>
  | DomainEvent<'PayoutsApproved', PeriodRef & { approvedBy: string; payouts: ApprovedPayout[] }>
  /** Recorded when the last payee of the period is approved. */
  | DomainEvent<'PeriodApproved', PeriodRef & { approvedBy: string }>
  | DomainEvent<'PayoutsPaid', PeriodRef & { confirmedBy: string; payrollReference: string; paidOn: string; payouts: PaidPayout[] }>
  /** Recorded when the last payee of the period is paid. */
  | DomainEvent<'PeriodPaid', PeriodRef & { confirmedBy: string }>
  | DomainEvent<'PeriodReopened', PeriodRef & { reopenedBy: string; reason: string; statusBefore: 'closed' | 'approved' }>
  | DomainEvent<'ClawbackWaived', PeriodRef & ClawbackWaiver & { notedBy: string }>;

export const PERIOD_EVENT_TYPES: readonly PeriodEvent['type'][] = [
  'PeriodOpened',
  'LinesPosted',
  'PeriodClosed',
  'PayoutsApproved',
  'PeriodApproved',
  'PayoutsPaid',
  'PeriodPaid',
  'PeriodReopened',
  'ClawbackWaived',
];

export interface FrozenStatementState extends FrozenStatementRecord {
  payoutId: string;
  approvedBy: string | null;
  payrollReference: string | null;
}

export interface PostedLineState extends PostedLine {
  payeeId: string;
  currency: string;
}

export interface PeriodState {
  status: PeriodStatus;
  calendarId: string | null;
  periodId: string | null;
  startsOn: string | null;
  endsOn: string | null;
  preparedBy: string | null;
  statementsByPayee: Readonly<Record<string, FrozenStatementState>>;
  postedLinesById: Readonly<Record<string, PostedLineState>>;
  clawbacksWaived: ReadonlySet<string>;
  reopenCount: number;
}

const initialState = (): PeriodState => ({
  status: 'not_opened',
  calendarId: null,
  periodId: null,
  startsOn: null,
  endsOn: null,
  preparedBy: null,
  statementsByPayee: {},
  postedLinesById: {},
  clawbacksWaived: new Set(),
  reopenCount: 0,
});

const isoDatePattern = /^\d{4}-\d{2}-\d{2}$/;

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw validationError('VALIDATION.REQUIRED', `${field} is required`, [{ field, message: 'is required' }]);
  }
  return value;
}

function requireCurrency(value: unknown, field: string): void {
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value)) {
    throw validationError('VALIDATION.CURRENCY', `${field} must be an ISO 4217 code`, [{ field, message: 'must be three capital letters' }]);
  }
}

function requireDate(value: unknown, field: string): void {
  if (typeof value !== 'string' || !isoDatePattern.test(value)) {
    throw validationError('VALIDATION.DATE', `${field} must be an ISO date`, [{ field, message: 'must be YYYY-MM-DD' }]);
  }
}

function requireOpened(state: PeriodState): void {
  if (state.status === 'not_opened') throw conflictError('PERIOD.NOT_OPEN', 'The period has not been opened');
}

function refOf(state: PeriodState): PeriodRef {
  if (state.calendarId === null || state.periodId === null) throw new Error('A period event needs an opened period');
  return { calendarId: state.calendarId, periodId: state.periodId };
}

function decideOpen(command: Extract<PeriodCommand, { type: 'OpenPeriod' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'open') throw conflictError('PERIOD.ALREADY_OPEN', `Period ${state.periodId} is already open`);
  if (state.status !== 'not_opened') throw conflictError('PERIOD.ALREADY_CLOSED', `Period ${state.periodId} is ${state.status}`);
  const { calendarId, periodId, startsOn, endsOn, openedBy } = command.data;
  requireText(calendarId, 'calendarId');
  requireText(periodId, 'periodId');
  requireText(openedBy, 'openedBy');
  requireDate(startsOn, 'startsOn');
  requireDate(endsOn, 'endsOn');
  if (endsOn < startsOn) {
    throw validationError('PERIOD.ENDS_BEFORE_START', 'endsOn is before startsOn', [{ field: 'endsOn', message: 'must not be before startsOn' }]);
  }
  return [{ type: 'PeriodOpened', data: { calendarId, periodId, startsOn, endsOn, openedBy } }];
}

function requireOpenForPosting(state: PeriodState): void {
  requireOpened(state);
  if (state.status !== 'open') {
    throw conflictError('PERIOD.CLOSED', `Period ${state.periodId} is ${state.status}: post to the payee's earliest open period`);
  }
}

function decidePostLines(command: Extract<PeriodCommand, { type: 'PostLines' }>, state: PeriodState): PeriodEvent[] {
  requireOpenForPosting(state);
  const { payeeId, currency, lines, postedBy } = command.data;
  requireText(payeeId, 'payeeId');
  requireText(postedBy, 'postedBy');
  requireCurrency(currency, 'currency');
  if (!Array.isArray(lines) || lines.length === 0) {
    throw validationError('LINE.NONE', 'lines must hold at least one line', [{ field: 'lines', message: 'must hold at least one line' }]);
  }
  const linesNew: PostedLine[] = [];
  const idsInCommand = new Set<string>();
  lines.forEach((line, index) => {
    const field = `lines[${index}]`;
    requireText(line.lineId, `${field}.lineId`);
    requireText(line.kind, `${field}.kind`);
    const amount = parseRoundedAmount(line.amount, currency, `${field}.amount`, { allowNegative: true });
    if (idsInCommand.has(line.lineId)) {
      throw validationError('LINE.DUPLICATE', `${field}.lineId ${line.lineId} appears twice`, [{ field: `${field}.lineId`, message: 'must be unique' }]);
    }
    idsInCommand.add(line.lineId);
    const posted = state.postedLinesById[line.lineId];
    if (posted === undefined) {
      linesNew.push(line);
      return;
    }
    // A line id is the caller's idempotency key: the same line again is a no-op, a different one is a conflict.
    const same = posted.payeeId === payeeId && posted.currency === currency && posted.kind === line.kind && parseDecimal(posted.amount, 'amount', { allowNegative: true }).equals(amount);
    if (!same) {
      throw conflictError('LINE.EXISTS_WITH_DIFFERENT_AMOUNT', `Line ${line.lineId} was already posted with different content`);
    }
  });
  if (linesNew.length === 0) return [];
  return [{ type: 'LinesPosted', data: { ...refOf(state), payeeId, currency, lines: linesNew, postedBy } }];
}

const sameLines = (left: readonly FrozenPostedLine[], right: readonly FrozenPostedLine[]): boolean => {
  if (left.length !== right.length) return false;
  const byId = new Map(right.map((line) => [line.lineId, line]));
  return left.every((line) => {
    const other = byId.get(line.lineId);
    return other !== undefined && other.kind === line.kind && other.amount === line.amount;
  });
};

function decideClose(command: Extract<PeriodCommand, { type: 'ClosePeriod' }>, state: PeriodState): PeriodEvent[] {
  requireOpened(state);
  if (state.status !== 'open') throw conflictError('PERIOD.ALREADY_CLOSED', `Period ${state.periodId} is already ${state.status}`);
  const { preparedBy, statements, previousPeriod } = command.data;
  requireText(preparedBy, 'preparedBy');
  if (previousPeriod !== null && !isFrozenStatus(previousPeriod.status)) {
    throw conflictError(
      'PERIOD.PREVIOUS_NOT_CLOSED',
      `Period ${previousPeriod.periodId} of calendar ${state.calendarId} is ${previousPeriod.status.replace('_', ' ')}: periods close in order`,
    );
  }
  const payeesSeen = new Set<string>();
  statements.forEach((statement, index) => {
    const field = `statements[${index}]`;
    requireText(statement.payeeId, `${field}.payeeId`);
    requireText(statement.statementDigest, `${field}.statementDigest`);
    requireCurrency(statement.currency, `${field}.currency`);
    if (!Number.isSafeInteger(statement.logPosition) || statement.logPosition < 0) {
      throw validationError('VALIDATION.LOG_POSITION', `${field}.logPosition must be a non-negative integer`, [
        { field: `${field}.logPosition`, message: 'must be a non-negative integer' },
      ]);
    }
    parseRoundedAmount(statement.netPayable, statement.currency, `${field}.netPayable`);
    if (payeesSeen.has(statement.payeeId)) {
      throw validationError('PERIOD.DUPLICATE_STATEMENT', `${field}: payee ${statement.payeeId} has two statements`, [
        { field: `${field}.payeeId`, message: 'must be unique' },
      ]);
    }
    payeesSeen.add(statement.payeeId);
  });
  // A posted adjustment or clawback must land on some payee's frozen statement, or it would silently vanish.
  const postedByPayee = new Map<string, FrozenPostedLine[]>();
  for (const posted of Object.values(state.postedLinesById)) {
    if (!payeesSeen.has(posted.payeeId)) {
      throw validationError('PERIOD.STATEMENT_MISSING', `Payee ${posted.payeeId} has posted lines but no frozen statement`, [
        { field: 'statements', message: `must include payee ${posted.payeeId}` },
      ]);
    }
    const list = postedByPayee.get(posted.payeeId) ?? [];
    list.push({ lineId: posted.lineId, kind: posted.kind, amount: posted.amount });
    postedByPayee.set(posted.payeeId, list);
  }
  for (const statement of statements) {
    if (!sameLines(statement.postedLines ?? [], postedByPayee.get(statement.payeeId) ?? [])) {
      throw conflictError('PERIOD.POSTED_LINES_CHANGED', `The lines posted for payee ${statement.payeeId} are not those the frozen statement lists: compute it again`);
    }
  }
  return [{ type: 'PeriodClosed', data: { ...refOf(state), preparedBy, statements } }];
}

function selectPayees(state: PeriodState, payeeIds: string[] | undefined, include: (statement: FrozenStatementState) => boolean): FrozenStatementState[] {
  if (payeeIds === undefined) return Object.values(state.statementsByPayee).filter(include);
  if (payeeIds.length === 0) {
    throw validationError('PERIOD.NO_PAYEES_SELECTED', 'payeeIds is empty; omit it to select every payee', [{ field: 'payeeIds', message: 'must not be empty' }]);
  }
  return [...new Set(payeeIds)].map((payeeId) => {
    const statement = state.statementsByPayee[payeeId];
    if (statement === undefined) {
      throw new DomainError('PAYOUT.UNKNOWN_PAYEE', `Payee ${payeeId} has no frozen statement in period ${state.periodId}`, 'not_found');
    }
    return statement;
  });
}

function decideApprove(command: Extract<PeriodCommand, { type: 'ApprovePayouts' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'not_opened' || state.status === 'open') {
    throw conflictError('PERIOD.NOT_CLOSED', `Period ${state.periodId ?? ''} is ${state.status.replace('_', ' ')}: close it before approving`);
  }
  const { approvedBy, payeeIds } = command.data;
  requireText(approvedBy, 'approvedBy');
  if (approvedBy === state.preparedBy) {
    throw new DomainError('APPROVAL.SAME_PREPARER', 'The actor who prepared the period cannot approve its payouts', 'forbidden');
  }
  const selected = selectPayees(state, payeeIds, (statement) => statement.approvedBy === null);
  const payouts: ApprovedPayout[] = selected
    .filter((statement) => statement.approvedBy === null)
    .map(({ payeeId, payoutId, statementDigest, currency, netPayable, figures, postedLines }) => ({ payeeId, payoutId, statementDigest, currency, netPayable, figures, postedLines }));
  const ref = refOf(state);
  const events: PeriodEvent[] = payouts.length > 0 ? [{ type: 'PayoutsApproved', data: { ...ref, approvedBy, payouts } }] : [];
  const approvedNow = new Set(payouts.map((payout) => payout.payeeId));
  const allApproved = Object.values(state.statementsByPayee).every((statement) => statement.approvedBy !== null || approvedNow.has(statement.payeeId));
  if (allApproved && state.status === 'closed') events.push({ type: 'PeriodApproved', data: { ...ref, approvedBy } });
  return events;
}

function decideConfirmPaid(command: Extract<PeriodCommand, { type: 'ConfirmPayoutsPaid' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'not_opened' || state.status === 'open') {
    throw conflictError('PAYOUT.NOT_APPROVED', `Period ${state.periodId ?? ''} is ${state.status.replace('_', ' ')}: nothing in it is approved`);
  }
  const { confirmedBy, payrollReference, paidOn, payeeIds } = command.data;
  requireText(confirmedBy, 'confirmedBy');
  requireText(payrollReference, 'payrollReference');
  requireDate(paidOn, 'paidOn');
  const selected = selectPayees(state, payeeIds, (statement) => statement.approvedBy !== null && statement.payrollReference === null);
  const statements = Object.values(state.statementsByPayee);
  if (
    selected.length === 0 &&
    statements.some((statement) => statement.approvedBy === null) &&
    !statements.some((statement) => statement.payrollReference === payrollReference)
  ) {
    throw conflictError('PAYOUT.NOT_APPROVED', `No payout of period ${state.periodId} is approved and unpaid: approve before confirming payment`);
  }
  const payouts: PaidPayout[] = [];
  for (const statement of selected) {
    if (statement.approvedBy === null) throw conflictError('PAYOUT.NOT_APPROVED', `The payout of payee ${statement.payeeId} is not approved`);
    if (statement.payrollReference === payrollReference) continue;
    if (statement.payrollReference !== null) {
      throw conflictError('PAYOUT.ALREADY_PAID', `The payout of payee ${statement.payeeId} was already paid under ${statement.payrollReference}`);
    }
    payouts.push({ payeeId: statement.payeeId, payoutId: statement.payoutId, currency: statement.currency, netPayable: statement.netPayable });
  }
  const ref = refOf(state);
  const events: PeriodEvent[] = payouts.length > 0 ? [{ type: 'PayoutsPaid', data: { ...ref, confirmedBy, payrollReference, paidOn, payouts } }] : [];
  const paidNow = new Set(payouts.map((payout) => payout.payeeId));
  const allPaid = Object.values(state.statementsByPayee).every((statement) => statement.payrollReference !== null || paidNow.has(statement.payeeId));
  if (allPaid && state.status === 'approved') events.push({ type: 'PeriodPaid', data: { ...ref, confirmedBy } });
  return events;
}

function decideReopen(command: Extract<PeriodCommand, { type: 'ReopenPeriod' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'not_opened' || state.status === 'open') {
    throw conflictError('PERIOD.NOT_CLOSED', `Period ${state.periodId ?? ''} is ${state.status.replace('_', ' ')}: only a closed period can reopen`);
  }
  if (state.status === 'paid' || Object.values(state.statementsByPayee).some((statement) => statement.payrollReference !== null)) {
    throw conflictError('PERIOD.PAYOUTS_PAID', 'Payouts of this period were paid: correct it with a prior-period adjustment instead');
  }
  const { reopenedBy, reason, nextPeriod, correctionsPostedForward } = command.data;
  if (isFrozenStatus(nextPeriod.status)) {
    throw conflictError('PERIOD.LATER_PERIOD_CLOSED', `Period ${nextPeriod.periodId} is ${nextPeriod.status}: only the calendar's latest closed period can reopen`);
  }
  if (correctionsPostedForward > 0) {
    throw conflictError(
      'PERIOD.CORRECTED_FORWARD',
      `${correctionsPostedForward} line(s) in later periods already correct this period: reopening it would count them twice`,
    );
  }
  requireText(reopenedBy, 'reopenedBy');
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw validationError('PERIOD.REOPEN_REASON_REQUIRED', 'A reopen needs a reason', [{ field: 'reason', message: 'is required' }]);
  }
  return [{ type: 'PeriodReopened', data: { ...refOf(state), reopenedBy, reason, statusBefore: state.status } }];
}

function decideNoteWaiver(command: Extract<PeriodCommand, { type: 'NoteClawbackWaived' }>, state: PeriodState): PeriodEvent[] {
  requireOpenForPosting(state);
  const { assessmentId, payeeId, dealId, sourcePeriodId, explanation, notedBy } = command.data;
  for (const [field, value] of [['assessmentId', assessmentId], ['payeeId', payeeId], ['dealId', dealId], ['sourcePeriodId', sourcePeriodId], ['explanation', explanation], ['notedBy', notedBy]] as const) {
    requireText(value, field);
  }
  if (state.clawbacksWaived.has(assessmentId)) return [];
  return [{ type: 'ClawbackWaived', data: { ...refOf(state), ...command.data } }];
}

function decide(command: PeriodCommand, state: PeriodState): PeriodEvent[] {
  switch (command.type) {
    case 'OpenPeriod':
      return decideOpen(command, state);
    case 'PostLines':
      return decidePostLines(command, state);
    case 'ClosePeriod':
      return decideClose(command, state);
    case 'ApprovePayouts':
      return decideApprove(command, state);
    case 'ConfirmPayoutsPaid':
      return decideConfirmPaid(command, state);
    case 'ReopenPeriod':
      return decideReopen(command, state);
    case 'NoteClawbackWaived':
      return decideNoteWaiver(command, state);
    default:
      return assertNever(command);
  }
}

function updateStatements(
  state: PeriodState,
  payeeIds: readonly string[],
  update: (statement: FrozenStatementState) => FrozenStatementState,
): Record<string, FrozenStatementState> {
  const statementsByPayee = { ...state.statementsByPayee };
  for (const payeeId of payeeIds) {
    const statement = statementsByPayee[payeeId];
    if (statement === undefined) throw new Error(`Event names payee ${payeeId}, who has no frozen statement`);
    statementsByPayee[payeeId] = update(statement);
  }
  return statementsByPayee;
}

function evolve(state: PeriodState, event: PeriodEvent): PeriodState {
  switch (event.type) {
    case 'PeriodOpened': {
      const { calendarId, periodId, startsOn, endsOn } = event.data;
      return { ...state, status: 'open', calendarId, periodId, startsOn, endsOn };
    }
    case 'LinesPosted': {
      const postedLinesById = { ...state.postedLinesById };
      for (const line of event.data.lines) {
        postedLinesById[line.lineId] = { ...line, payeeId: event.data.payeeId, currency: event.data.currency };
      }
      return { ...state, postedLinesById };
    }
    case 'PeriodClosed': {
      const statementsByPayee: Record<string, FrozenStatementState> = {};
      for (const statement of event.data.statements) {
        statementsByPayee[statement.payeeId] = {
          ...statement,
          payoutId: payoutIdFor({ payeeId: statement.payeeId, periodId: state.periodId ?? '', statementDigest: statement.statementDigest }),
          approvedBy: null,
          payrollReference: null,
        };
      }
      return { ...state, status: 'closed', preparedBy: event.data.preparedBy, statementsByPayee };
    }
    case 'PayoutsApproved': {
      const { approvedBy, payouts } = event.data;
      const statementsByPayee = updateStatements(state, payouts.map((payout) => payout.payeeId), (statement) => ({ ...statement, approvedBy }));
      return { ...state, statementsByPayee };
    }
    case 'PeriodApproved':
      return { ...state, status: 'approved' };
    case 'PayoutsPaid': {
      const { payrollReference, payouts } = event.data;
      const statementsByPayee = updateStatements(state, payouts.map((payout) => payout.payeeId), (statement) => ({ ...statement, payrollReference }));
      return { ...state, statementsByPayee };
    }
    case 'PeriodPaid':
      return { ...state, status: 'paid' };
    case 'PeriodReopened':
      // Postings made while the period was open still stand; only the freeze and the approvals are voided.
      return { ...state, status: 'open', preparedBy: null, statementsByPayee: {}, reopenCount: state.reopenCount + 1 };
    case 'ClawbackWaived':
      return { ...state, clawbacksWaived: new Set([...state.clawbacksWaived, event.data.assessmentId]) };
    default:
      return assertNever(event);
  }
}

export const periodDecider: Decider<PeriodCommand, PeriodEvent, PeriodState> = { decide, evolve, initialState };

/** Commands that open a never-opened period on their way, in the same append. */
const opensOnDemand = new Set<PeriodCommand['type']>(['PostLines', 'ClosePeriod', 'NoteClawbackWaived']);

/**
 * The period decider for a handler that knows the period's dates: a posting, a close or a waiver note on a period
 * never opened opens it first (PeriodOpened, then the command's events, appended together). Periods of a calendar
 * are therefore open until closed, without anyone having to open each one.
 */
export function periodDeciderOpeningOnDemand(opening: OpenPeriodData): Decider<PeriodCommand, PeriodEvent, PeriodState> {
  return {
    initialState,
    evolve,
    decide(command, state) {
      if (state.status !== 'not_opened' || !opensOnDemand.has(command.type)) return decide(command, state);
      const opened = decideOpen({ type: 'OpenPeriod', data: opening }, state);
      const openState = opened.reduce(evolve, state);
      const events = decide(command, openState);
      return events.length === 0 ? [] : [...opened, ...events];
    },
  };
}
