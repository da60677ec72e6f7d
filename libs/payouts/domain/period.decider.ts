import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, DomainError, validationError } from '#lib/shared/domain/domain-error.js';
import { parseDecimal } from '#lib/shared/domain/money.js';
import { payoutIdFor } from './payout-id.js';
import { parseRoundedAmount, type AdjustmentCause } from './statement-summary.js';

/**
 * The lifecycle of one plan-calendar period: open -> closed -> approved -> paid, with an explicit reopen.
 *
 * Glossary for a finance reader:
 * - Period: one period of a plan calendar (e.g. `2025-06` of calendar `fy25-monthly`); one stream per period,
 *   named by `periodStreamId`.
 * - Posting: a line recorded in an open period besides the commission engine's own lines, e.g. a prior-period
 *   adjustment or a clawback. A closed period accepts no postings (PERIOD.CLOSED).
 * - Close: freezes each payee's statement. The period records the statement digest (a content hash the handler
 *   computes) and the global log position the statement was computed at, so anyone can recompute it and compare.
 * - Preparer: the actor who closed the period. Separation of duties: the preparer may not approve.
 * - Approval: finance accepts a payee's payout (one payee, some, or all at once). The payout id is derived from
 *   (payee, period, digest), so approving again names the same payout and records nothing new.
 * - Paid: payroll confirms a payout went out, quoting its own reference.
 * - Reopen: an explicit, reasoned event. It voids the frozen statements and unpaid approvals; once any payout is
 *   paid the period cannot reopen, and later corrections flow as prior-period adjustments instead.
 */

export const periodStreamId = (calendarId: string, periodId: string): string => `period-${calendarId}-${periodId}`;

export type PeriodStatus = 'not_opened' | 'open' | 'closed' | 'approved' | 'paid';

export interface PostedLine {
  lineId: string;
  kind: string;
  /** Decimal string rounded to the currency's minor unit. */
  amount: string;
  dealId?: string | null;
  cause?: AdjustmentCause;
  /** For a prior-period adjustment: the closed period it corrects. */
  sourcePeriodId?: string;
}

export interface FrozenStatementRecord {
  payeeId: string;
  statementDigest: string;
  /** Global log position the statement was computed at; recomputing "as of" this position reproduces it. */
  logPosition: number;
  currency: string;
  /** What the payee is to be paid for the period, as computed at close (decimal string). */
  netPayable: string;
}

export type PeriodCommand =
  | { type: 'OpenPeriod'; data: { calendarId: string; periodId: string; startsOn: string; endsOn: string; openedBy: string } }
  | { type: 'PostLines'; data: { payeeId: string; currency: string; lines: PostedLine[]; postedBy: string } }
  | { type: 'ClosePeriod'; data: { preparedBy: string; statements: FrozenStatementRecord[] } }
  /** Without payeeIds, approves every payee still unapproved (bulk approval). */
  | { type: 'ApprovePayouts'; data: { approvedBy: string; payeeIds?: string[] } }
  /** Without payeeIds, confirms every approved payee still unpaid. */
  | { type: 'ConfirmPayoutsPaid'; data: { confirmedBy: string; payrollReference: string; payeeIds?: string[] } }
  | { type: 'ReopenPeriod'; data: { reopenedBy: string; reason: string } };

export interface ApprovedPayout {
  payeeId: string;
  payoutId: string;
  statementDigest: string;
  currency: string;
  netPayable: string;
}

export type PeriodEvent =
  | DomainEvent<'PeriodOpened', { calendarId: string; periodId: string; startsOn: string; endsOn: string; openedBy: string }>
  | DomainEvent<'LinesPosted', { payeeId: string; currency: string; lines: PostedLine[]; postedBy: string }>
  | DomainEvent<'PeriodClosed', { preparedBy: string; statements: FrozenStatementRecord[] }>
  | DomainEvent<'PayoutsApproved', { approvedBy: string; payouts: ApprovedPayout[] }>
  /** Recorded when the last payee of the period is approved. */
  | DomainEvent<'PeriodApproved', { approvedBy: string }>
  | DomainEvent<'PayoutsPaid', { confirmedBy: string; payrollReference: string; payouts: { payeeId: string; payoutId: string }[] }>
  /** Recorded when the last payee of the period is paid. */
  | DomainEvent<'PeriodPaid', { confirmedBy: string }>
  | DomainEvent<'PeriodReopened', { reopenedBy: string; reason: string; statusBefore: 'closed' | 'approved' }>;

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

function requireOpen(state: PeriodState): void {
  if (state.status === 'not_opened') throw conflictError('PERIOD.NOT_OPEN', 'The period has not been opened');
}

function decideOpen(command: Extract<PeriodCommand, { type: 'OpenPeriod' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'open') throw conflictError('PERIOD.ALREADY_OPEN', `Period ${state.periodId} is already open`);
  if (state.status !== 'not_opened') throw conflictError('PERIOD.ALREADY_CLOSED', `Period ${state.periodId} is ${state.status}`);
  const { calendarId, periodId, startsOn, endsOn, openedBy } = command.data;
  requireText(calendarId, 'calendarId');
  requireText(periodId, 'periodId');
  requireText(openedBy, 'openedBy');
  for (const [field, value] of [['startsOn', startsOn], ['endsOn', endsOn]] as const) {
    if (!isoDatePattern.test(value)) {
      throw validationError('VALIDATION.DATE', `${field} must be an ISO date`, [{ field, message: 'must be YYYY-MM-DD' }]);
    }
  }
  if (endsOn < startsOn) {
    throw validationError('PERIOD.ENDS_BEFORE_START', 'endsOn is before startsOn', [{ field: 'endsOn', message: 'must not be before startsOn' }]);
  }
  return [{ type: 'PeriodOpened', data: { calendarId, periodId, startsOn, endsOn, openedBy } }];
}

function decidePostLines(command: Extract<PeriodCommand, { type: 'PostLines' }>, state: PeriodState): PeriodEvent[] {
  requireOpen(state);
  if (state.status !== 'open') {
    throw conflictError('PERIOD.CLOSED', `Period ${state.periodId} is ${state.status}: post to the payee's earliest open period`);
  }
  const { payeeId, currency, lines, postedBy } = command.data;
  requireText(payeeId, 'payeeId');
  requireText(postedBy, 'postedBy');
  requireCurrency(currency, 'currency');
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
  return [{ type: 'LinesPosted', data: { payeeId, currency, lines: linesNew, postedBy } }];
}

function decideClose(command: Extract<PeriodCommand, { type: 'ClosePeriod' }>, state: PeriodState): PeriodEvent[] {
  requireOpen(state);
  if (state.status !== 'open') throw conflictError('PERIOD.ALREADY_CLOSED', `Period ${state.periodId} is already ${state.status}`);
  const { preparedBy, statements } = command.data;
  requireText(preparedBy, 'preparedBy');
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
  for (const posted of Object.values(state.postedLinesById)) {
    if (!payeesSeen.has(posted.payeeId)) {
      throw validationError('PERIOD.STATEMENT_MISSING', `Payee ${posted.payeeId} has posted lines but no frozen statement`, [
        { field: 'statements', message: `must include payee ${posted.payeeId}` },
      ]);
    }
  }
  return [{ type: 'PeriodClosed', data: { preparedBy, statements } }];
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
    throw conflictError('PERIOD.NOT_CLOSED', `Period ${state.periodId ?? ''} is ${state.status}: close it before approving`);
  }
  const { approvedBy, payeeIds } = command.data;
  requireText(approvedBy, 'approvedBy');
  if (approvedBy === state.preparedBy) {
    throw new DomainError('APPROVAL.SAME_PREPARER', 'The actor who prepared the period cannot approve its payouts', 'forbidden');
  }
  const selected = selectPayees(state, payeeIds, (statement) => statement.approvedBy === null);
  const payouts: ApprovedPayout[] = selected
    .filter((statement) => statement.approvedBy === null)
    .map(({ payeeId, payoutId, statementDigest, currency, netPayable }) => ({ payeeId, payoutId, statementDigest, currency, netPayable }));
  const events: PeriodEvent[] = payouts.length > 0 ? [{ type: 'PayoutsApproved', data: { approvedBy, payouts } }] : [];
  const approvedNow = new Set(payouts.map((payout) => payout.payeeId));
  const allApproved = Object.values(state.statementsByPayee).every((statement) => statement.approvedBy !== null || approvedNow.has(statement.payeeId));
  if (allApproved && state.status === 'closed') events.push({ type: 'PeriodApproved', data: { approvedBy } });
  return events;
}

function decideConfirmPaid(command: Extract<PeriodCommand, { type: 'ConfirmPayoutsPaid' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'not_opened' || state.status === 'open') {
    throw conflictError('PAYOUT.NOT_APPROVED', `Period ${state.periodId ?? ''} is ${state.status}: nothing in it is approved`);
  }
  const { confirmedBy, payrollReference, payeeIds } = command.data;
  requireText(confirmedBy, 'confirmedBy');
  requireText(payrollReference, 'payrollReference');
  const selected = selectPayees(state, payeeIds, (statement) => statement.approvedBy !== null && statement.payrollReference === null);
  const payouts: { payeeId: string; payoutId: string }[] = [];
  for (const statement of selected) {
    if (statement.approvedBy === null) throw conflictError('PAYOUT.NOT_APPROVED', `The payout of payee ${statement.payeeId} is not approved`);
    if (statement.payrollReference === payrollReference) continue;
    if (statement.payrollReference !== null) {
      throw conflictError('PAYOUT.ALREADY_PAID', `The payout of payee ${statement.payeeId} was already paid under ${statement.payrollReference}`);
    }
    payouts.push({ payeeId: statement.payeeId, payoutId: statement.payoutId });
  }
  const events: PeriodEvent[] = payouts.length > 0 ? [{ type: 'PayoutsPaid', data: { confirmedBy, payrollReference, payouts } }] : [];
  const paidNow = new Set(payouts.map((payout) => payout.payeeId));
  const allPaid = Object.values(state.statementsByPayee).every((statement) => statement.payrollReference !== null || paidNow.has(statement.payeeId));
  if (allPaid && state.status === 'approved') events.push({ type: 'PeriodPaid', data: { confirmedBy } });
  return events;
}

function decideReopen(command: Extract<PeriodCommand, { type: 'ReopenPeriod' }>, state: PeriodState): PeriodEvent[] {
  if (state.status === 'not_opened' || state.status === 'open') {
    throw conflictError('PERIOD.NOT_CLOSED', `Period ${state.periodId ?? ''} is ${state.status}: only a closed period can reopen`);
  }
  if (state.status === 'paid' || Object.values(state.statementsByPayee).some((statement) => statement.payrollReference !== null)) {
    throw conflictError('PERIOD.PAYOUTS_PAID', 'Payouts of this period were paid: correct it with a prior-period adjustment instead');
  }
  const { reopenedBy, reason } = command.data;
  requireText(reopenedBy, 'reopenedBy');
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw validationError('PERIOD.REOPEN_REASON_REQUIRED', 'A reopen needs a reason', [{ field: 'reason', message: 'is required' }]);
  }
  return [{ type: 'PeriodReopened', data: { reopenedBy, reason, statusBefore: state.status } }];
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
    default:
      return assertNever(event);
  }
}

export const periodDecider: Decider<PeriodCommand, PeriodEvent, PeriodState> = { decide, evolve, initialState };
