import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { foldEvents, type Decider } from '#lib/shared/domain/decider.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { nextPeriodId, previousPeriodId } from '../domain/calendar-periods.js';
import {
  periodDecider,
  periodDeciderOpeningOnDemand,
  periodStreamId,
  type FrozenStatementRecord,
  type OpenPeriodData,
  type PeriodCommand,
  type PeriodEvent,
  type PeriodNeighbour,
  type PeriodState,
  type PeriodStatus,
  type PostedLine,
} from '../domain/period.decider.js';
import { adjustmentCauseKinds, type AdjustmentCause } from '../domain/statement-summary.js';
import { readCalendarPlans, requireCalendarPeriod } from './calendar-plans.js';
import { frozenStatementsOf, readCloseSnapshot, type CloseSnapshot } from './period-close.js';

/**
 * The period use cases: close (freeze every payee's statement and price its payout), approve, confirm paid,
 * reopen, and post manual adjustment lines. Approve and confirm read only the period's own stream; close, reopen and
 * posting also read the read models (statements, plans, the calendar's other periods), after waiting for them to hold
 * everything recorded before the command.
 */
export interface PayoutDependencies {
  store: EventStore;
  db: ReadModelDb;
  /** Resolves once every read model holds the log up to `position`. */
  readModelsAt(position: number): Promise<void>;
}

export interface CalendarPeriodInput {
  calendarId: string;
  periodId: string;
}

export async function loadPeriod(store: EventStore, calendarId: string, periodId: string): Promise<PeriodState> {
  const events = await store.readStream(periodStreamId(calendarId, periodId));
  return foldEvents(periodDecider, events as unknown as PeriodEvent[]);
}

const openingOf = (period: { id: string; start: string; end: string }, calendarId: string, context: CommandContext): OpenPeriodData => ({
  calendarId,
  periodId: period.id,
  startsOn: period.start,
  endsOn: period.end,
  openedBy: context.actor.id,
});

/** Status of a period of the calendar in the read model ('not_opened' when it has no stream). */
async function periodStatusOf(db: ReadModelDb, calendarId: string, periodId: string): Promise<PeriodStatus> {
  const row = await db.read((reader) => reader.get<{ status: PeriodStatus }>('SELECT status FROM payout_periods WHERE calendar_id = ? AND period_id = ?', [calendarId, periodId]));
  return row?.status ?? 'not_opened';
}

async function calendarHasFrozenPeriod(db: ReadModelDb, calendarId: string): Promise<boolean> {
  const row = await db.read((reader) => reader.get("SELECT 1 AS found FROM payout_periods WHERE calendar_id = ? AND status IN ('closed', 'approved', 'paid') LIMIT 1", [calendarId]));
  return row !== undefined;
}

export interface CloseOutcome extends CommandOutcome<PeriodState> {
  payeesFrozen: number;
  logPosition: number;
  /** Net payable per currency over the frozen statements. */
  totals: { currency: string; netPayable: string }[];
}

/**
 * Closes a calendar period: every payee whose statement period it is gets their statement frozen (digest and log
 * position), the lines posted to it, and their payout priced. The read models are first brought up to the log's
 * head, so the freeze holds every deal recorded before the close.
 */
export async function closePeriod(deps: PayoutDependencies, input: CalendarPeriodInput, context: CommandContext): Promise<CloseOutcome> {
  await deps.readModelsAt(await deps.store.headPosition());
  const snapshot = await deps.db.read((reader) => readCloseSnapshot(reader, input.calendarId, input.periodId));
  const previousPeriod: PeriodNeighbour | null = (await calendarHasFrozenPeriod(deps.db, input.calendarId))
    ? { periodId: previousPeriodId(input.periodId), status: await periodStatusOf(deps.db, input.calendarId, previousPeriodId(input.periodId)) }
    : null;
  const opening = openingOf(snapshot.period, input.calendarId, context);
  let frozen: FrozenStatementRecord[] = [];
  const outcome = await handleCommand(
    deps.store,
    periodStreamId(input.calendarId, snapshot.period.id),
    closingDecider(opening, snapshot, (statements) => (frozen = statements)),
    { type: 'ClosePeriod', data: { preparedBy: context.actor.id, statements: [], previousPeriod } },
    context,
  );
  const statements = outcome.replayed ? Object.values(outcome.state.statementsByPayee) : frozen;
  return { ...outcome, payeesFrozen: statements.length, logPosition: snapshot.logPosition, totals: totalsOf(statements) };
}

/** The period decider with the close's statements filled in from the snapshot and the period stream's posted lines. */
function closingDecider(opening: OpenPeriodData, snapshot: CloseSnapshot, decided: (statements: FrozenStatementRecord[]) => void): Decider<PeriodCommand, PeriodEvent, PeriodState> {
  const inner = periodDeciderOpeningOnDemand(opening);
  return {
    ...inner,
    decide(command, state) {
      // A period never opened has nothing posted: it is opened and closed in one append.
      if (command.type !== 'ClosePeriod' || (state.status !== 'open' && state.status !== 'not_opened')) return inner.decide(command, state);
      const statements = frozenStatementsOf(snapshot, state);
      decided(statements);
      return inner.decide({ ...command, data: { ...command.data, statements } }, state);
    },
  };
}

function totalsOf(statements: readonly Pick<FrozenStatementRecord, 'currency' | 'netPayable'>[]): { currency: string; netPayable: string }[] {
  const sums = new Map<string, Money>();
  for (const statement of statements) sums.set(statement.currency, (sums.get(statement.currency) ?? new Money(0)).plus(statement.netPayable));
  return [...sums.entries()].sort(([left], [right]) => (left < right ? -1 : 1)).map(([currency, sum]) => ({ currency, netPayable: formatMoney(sum, currency) }));
}

export interface ApprovePayoutsInput extends CalendarPeriodInput {
  /** Omit to approve every payee still unapproved. */
  payeeIds?: string[];
}

export interface PayoutsOutcome extends CommandOutcome<PeriodState> {
  /** The payouts this command approved (or paid); empty when they already were. */
  payouts: { payeeId: string; payoutId: string; netPayable: string; currency: string }[];
}

/** The period decider, telling `seen` the state each decision was made on (the last one is the one appended). */
function observing(seen: (state: PeriodState) => void): Decider<PeriodCommand, PeriodEvent, PeriodState> {
  return {
    ...periodDecider,
    decide(command, state) {
      seen(state);
      return periodDecider.decide(command, state);
    },
  };
}

/** The payouts an approval (or a payment) recorded: those it changed from the state it was decided on. */
function payoutsChanged(outcome: CommandOutcome<PeriodState>, before: PeriodState | null, changed: (was: FrozenStatementRecord & { approvedBy: string | null; payrollReference: string | null }, now: typeof was) => boolean): PayoutsOutcome['payouts'] {
  if (before === null || outcome.events.length === 0) return [];
  const payouts: PayoutsOutcome['payouts'] = [];
  for (const statement of Object.values(outcome.state.statementsByPayee)) {
    const was = before.statementsByPayee[statement.payeeId];
    if (was !== undefined && changed(was, statement)) payouts.push({ payeeId: statement.payeeId, payoutId: statement.payoutId, netPayable: statement.netPayable, currency: statement.currency });
  }
  return payouts;
}

/** Finance approves payouts of a closed period; the preparer cannot (separation of duties). Approving twice records nothing. */
export async function approvePayouts(store: EventStore, input: ApprovePayoutsInput, context: CommandContext): Promise<PayoutsOutcome> {
  let before: PeriodState | null = null;
  const outcome = await handleCommand(
    store,
    periodStreamId(input.calendarId, input.periodId),
    observing((state) => (before = state)),
    { type: 'ApprovePayouts', data: { approvedBy: context.actor.id, ...(input.payeeIds !== undefined ? { payeeIds: input.payeeIds } : {}) } },
    context,
  );
  return { ...outcome, payouts: payoutsChanged(outcome, before, (was, now) => was.approvedBy === null && now.approvedBy !== null) };
}

export interface ConfirmPaidInput extends CalendarPeriodInput {
  payrollReference: string;
  /** Business date payroll paid on. */
  paidOn: string;
  payeeIds?: string[];
}

/** Payroll confirms approved payouts went out; the same reference again is a no-op. */
export async function confirmPayoutsPaid(store: EventStore, input: ConfirmPaidInput, context: CommandContext): Promise<PayoutsOutcome> {
  let before: PeriodState | null = null;
  const outcome = await handleCommand(
    store,
    periodStreamId(input.calendarId, input.periodId),
    observing((state) => (before = state)),
    {
      type: 'ConfirmPayoutsPaid',
      data: { confirmedBy: context.actor.id, payrollReference: input.payrollReference, paidOn: input.paidOn, ...(input.payeeIds !== undefined ? { payeeIds: input.payeeIds } : {}) },
    },
    context,
  );
  return { ...outcome, payouts: payoutsChanged(outcome, before, (was, now) => was.payrollReference === null && now.payrollReference !== null) };
}

export interface ReopenInput extends CalendarPeriodInput {
  reason: string;
}

/** Reopens the calendar's latest closed period, with a reason, voiding its freeze and approvals. */
export async function reopenPeriod(deps: PayoutDependencies, input: ReopenInput, context: CommandContext): Promise<CommandOutcome<PeriodState>> {
  await deps.readModelsAt(await deps.store.headPosition());
  const next = nextPeriodId(input.periodId);
  const nextPeriod: PeriodNeighbour = { periodId: next, status: (await loadPeriod(deps.store, input.calendarId, next)).status };
  const corrections = await deps.db.read((reader) =>
    reader.get<{ count: number }>('SELECT COUNT(*) AS count FROM payout_posted_lines WHERE calendar_id = ? AND source_period_id = ?', [input.calendarId, input.periodId]),
  );
  return handleCommand(
    deps.store,
    periodStreamId(input.calendarId, input.periodId),
    periodDecider,
    { type: 'ReopenPeriod', data: { reopenedBy: context.actor.id, reason: input.reason, nextPeriod, correctionsPostedForward: corrections?.count ?? 0 } },
    context,
  );
}

export interface ManualLineInput {
  lineId: string;
  amount: string;
  cause: AdjustmentCause;
  explanation: string;
  dealId?: string | null;
}

export interface PostLinesInput extends CalendarPeriodInput {
  payeeId: string;
  currency: string;
  lines: ManualLineInput[];
}

/**
 * An analyst posts adjustment lines to an open period by hand (a dispute settled outside the ledger, a correction
 * the engine cannot express), each naming its cause and explaining itself. A closed period refuses them.
 */
export async function postAdjustmentLines(deps: PayoutDependencies, input: PostLinesInput, context: CommandContext): Promise<CommandOutcome<PeriodState>> {
  const period = await deps.db.read(async (reader) => requireCalendarPeriod(await readCalendarPlans(reader, input.calendarId), input.periodId));
  const lines: PostedLine[] = input.lines.map((line, index) => {
    if (!(adjustmentCauseKinds as readonly string[]).includes(line.cause?.kind) || typeof line.cause.reference !== 'string' || line.cause.reference.trim() === '') {
      throw validationError('ADJUSTMENT.CAUSE_INVALID', `lines[${index}].cause must name a cause (${adjustmentCauseKinds.join(', ')}) and a reference`, [
        { field: `lines[${index}].cause`, message: 'must name a cause kind and a reference' },
      ]);
    }
    return {
      lineId: line.lineId,
      kind: 'adjustment',
      amount: line.amount,
      dealId: line.dealId ?? null,
      cause: { kind: line.cause.kind, reference: line.cause.reference },
      explanation: line.explanation,
    };
  });
  return handleCommand(
    deps.store,
    periodStreamId(input.calendarId, period.id),
    periodDeciderOpeningOnDemand(openingOf(period, input.calendarId, context)),
    { type: 'PostLines', data: { payeeId: input.payeeId, currency: input.currency, lines, postedBy: context.actor.id } },
    context,
  );
}
