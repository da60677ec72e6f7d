import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb, ReadModelReader } from '#lib/projections/read-model.port.js';
import { clampLimit, toPage, WhereClause, type Page } from '#lib/projections/query-helpers.js';
import { DomainError, notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import type { Statement } from '#lib/commissions/domain/statement.js';
import { statementAtPosition } from '#lib/statements/application/statement-as-of.js';
import type { PayeeCarry, PayoutFigures } from '../domain/payout.js';
import type { FrozenPostedLine, PeriodStatus, PostedLine } from '../domain/period.decider.js';
import { calendarIdOf } from '#lib/commissions/domain/commission-plan.js';
import { periodIdOfDate, versionsByPlanOf } from '#lib/statements/domain/statement-inputs.js';
import { nextPeriodId } from '../domain/calendar-periods.js';
import { decidingPlanOf, readAssignmentsOverlapping, readCalendarPlans, readPublishedVersions, requireCalendarPeriod } from './calendar-plans.js';
import { headerWithoutStatement } from './period-close.js';
import { StatementDigestBuilder, statementDigestOf } from './statement-digest.js';
import type { ClawbackWaiverRow, PayoutPeriodRow, PayoutStatementRow, PostedLineRow } from './payout-tables.js';

/**
 * Read-side answers about periods and payouts: a period's status and totals, its payouts a page at a time, one
 * payout, what a payee's period holds (posted lines with their explanations, clawbacks waived, the payout), and a
 * frozen statement reproduced from the log and checked against its digest.
 */

export type PayoutStatus = 'pending_approval' | 'approved' | 'paid';

export interface PayoutView extends PayoutFigures {
  payoutId: string;
  payeeId: string;
  calendarId: string;
  periodId: string;
  status: PayoutStatus;
  currency: string;
  netPayable: string;
  statementDigest: string;
  /** The statement was computed from the log up to this position. */
  logPosition: number;
  preparedBy: string;
  approvedBy: string | null;
  payrollReference: string | null;
  paidOn: string | null;
  postedLines: FrozenPostedLine[];
}

const payoutStatusOf = (status: PayoutStatementRow['status']): PayoutStatus => (status === 'frozen' ? 'pending_approval' : status);

function payoutOfRow(row: PayoutStatementRow): PayoutView {
  return {
    payoutId: row.payout_id,
    payeeId: row.payee_id,
    calendarId: row.calendar_id,
    periodId: row.period_id,
    status: payoutStatusOf(row.status),
    currency: row.currency,
    netPayable: row.net_payable,
    ...(JSON.parse(row.figures) as PayoutFigures),
    statementDigest: row.statement_digest,
    logPosition: row.log_position,
    preparedBy: row.prepared_by,
    approvedBy: row.approved_by,
    payrollReference: row.payroll_reference,
    paidOn: row.paid_on,
    postedLines: JSON.parse(row.posted_lines) as FrozenPostedLine[],
  };
}

async function requirePeriodOfCalendar(reader: ReadModelReader, calendarId: string, periodId: string): Promise<void> {
  requireCalendarPeriod(await readCalendarPlans(reader, calendarId), periodId);
}

export interface PeriodView {
  calendarId: string;
  periodId: string;
  /** 'not_opened' for a period nothing has been posted to or closed yet: it is open for postings. */
  status: PeriodStatus;
  startsOn: string | null;
  endsOn: string | null;
  preparedBy: string | null;
  /** The statements read model's position the frozen statements were computed at. */
  logPosition: number | null;
  payees: { frozen: number; pendingApproval: number; approved: number; paid: number };
  totals: { currency: string; netPayable: string; approved: string; paid: string }[];
  postedLines: number;
  reopens: { reopenedBy: string; reason: string; statusBefore: string; eventId: string; position: number; recordedAt: string }[];
}

export async function getPeriod(db: ReadModelDb, query: { calendarId: string; periodId: string }): Promise<PeriodView> {
  return db.read(async (reader) => {
    await requirePeriodOfCalendar(reader, query.calendarId, query.periodId);
    const row = await reader.get<PayoutPeriodRow>('SELECT * FROM payout_periods WHERE calendar_id = ? AND period_id = ?', [query.calendarId, query.periodId]);
    const statements = await reader.all<Pick<PayoutStatementRow, 'status' | 'currency' | 'net_payable'>>(
      'SELECT status, currency, net_payable FROM payout_statements WHERE calendar_id = ? AND period_id = ?',
      [query.calendarId, query.periodId],
    );
    const sums = new Map<string, { net: Money; approved: Money; paid: Money }>();
    const payees = { frozen: statements.length, pendingApproval: 0, approved: 0, paid: 0 };
    for (const statement of statements) {
      const sum = sums.get(statement.currency) ?? { net: new Money(0), approved: new Money(0), paid: new Money(0) };
      sum.net = sum.net.plus(statement.net_payable);
      if (statement.status === 'frozen') payees.pendingApproval++;
      else payees.approved++;
      if (statement.status !== 'frozen') sum.approved = sum.approved.plus(statement.net_payable);
      if (statement.status === 'paid') {
        payees.paid++;
        sum.paid = sum.paid.plus(statement.net_payable);
      }
      sums.set(statement.currency, sum);
    }
    const posted = await reader.get<{ count: number }>('SELECT COUNT(*) AS count FROM payout_posted_lines WHERE calendar_id = ? AND period_id = ?', [query.calendarId, query.periodId]);
    const reopens = await reader.all<{ reopened_by: string; reason: string; status_before: string; event_id: string; position: number; recorded_at: string }>(
      'SELECT reopened_by, reason, status_before, event_id, position, recorded_at FROM payout_period_reopens WHERE calendar_id = ? AND period_id = ? ORDER BY reopen_number',
      [query.calendarId, query.periodId],
    );
    return {
      calendarId: query.calendarId,
      periodId: query.periodId,
      status: row?.status ?? 'not_opened',
      startsOn: row?.starts_on ?? null,
      endsOn: row?.ends_on ?? null,
      preparedBy: row?.prepared_by ?? null,
      logPosition: row?.log_position ?? null,
      payees,
      totals: [...sums.entries()]
        .sort(([left], [right]) => (left < right ? -1 : 1))
        .map(([currency, sum]) => ({ currency, netPayable: formatMoney(sum.net, currency), approved: formatMoney(sum.approved, currency), paid: formatMoney(sum.paid, currency) })),
      postedLines: posted?.count ?? 0,
      reopens: reopens.map((reopen) => ({
        reopenedBy: reopen.reopened_by,
        reason: reopen.reason,
        statusBefore: reopen.status_before,
        eventId: reopen.event_id,
        position: reopen.position,
        recordedAt: reopen.recorded_at,
      })),
    };
  });
}

export interface ListPayoutsQuery {
  calendarId: string;
  periodId: string;
  status?: PayoutStatus;
  limit?: number;
  /** Payee id to continue after. */
  after?: string;
}

export async function listPayouts(db: ReadModelDb, query: ListPayoutsQuery): Promise<Page<PayoutView>> {
  const limit = clampLimit(query.limit);
  return db.read(async (reader) => {
    await requirePeriodOfCalendar(reader, query.calendarId, query.periodId);
    const where = new WhereClause().add('calendar_id = ?', query.calendarId).add('period_id = ?', query.periodId);
    if (query.status !== undefined) where.add('status = ?', query.status === 'pending_approval' ? 'frozen' : query.status);
    if (query.after !== undefined) where.add('payee_id > ?', query.after);
    const rows = await reader.all<PayoutStatementRow>(`SELECT * FROM payout_statements ${where.sql()} ORDER BY payee_id LIMIT ?`, [...where.parameters, limit + 1]);
    return toPage(rows, limit, payoutOfRow, (payout) => payout.payeeId);
  });
}

export async function getPayout(db: ReadModelDb, payoutId: string): Promise<PayoutView> {
  const row = await db.read((reader) => reader.get<PayoutStatementRow>('SELECT * FROM payout_statements WHERE payout_id = ?', [payoutId]));
  if (row === undefined) throw notFoundError('PAYOUT.NOT_FOUND', `No frozen statement has payout ${payoutId}`);
  return payoutOfRow(row);
}

export interface PayeePeriodView {
  calendarId: string;
  periodId: string;
  payeeId: string;
  periodStatus: PeriodStatus;
  /** Lines posted to the period for the payee (adjustments, clawbacks), each with its cause and explanation. */
  lines: (PostedLine & { currency: string; postedBy: string; eventId: string; position: number })[];
  clawbacksWaived: { assessmentId: string; dealId: string; sourcePeriodId: string; outcome: string; explanation: string; evidence: unknown; eventId: string; position: number }[];
  /** The payout of the frozen statement; null while the period is open. */
  payout: PayoutView | null;
  /** Balances carried into the period: a draw balance still to recover, clawbacks not yet netted. */
  carryOpening: PayeeCarry | null;
  /** Balances the period leaves, once frozen. */
  carryClosing: PayeeCarry | null;
}

export async function getPayeePeriod(db: ReadModelDb, query: { calendarId: string; periodId: string; payeeId: string }): Promise<PayeePeriodView> {
  return db.read(async (reader) => {
    await requirePeriodOfCalendar(reader, query.calendarId, query.periodId);
    const period = await reader.get<Pick<PayoutPeriodRow, 'status' | 'starts_on'>>('SELECT status, starts_on FROM payout_periods WHERE calendar_id = ? AND period_id = ?', [
      query.calendarId,
      query.periodId,
    ]);
    const lines = await reader.all<PostedLineRow>('SELECT * FROM payout_posted_lines WHERE payee_id = ? AND calendar_id = ? AND period_id = ? ORDER BY position, line_id', [
      query.payeeId,
      query.calendarId,
      query.periodId,
    ]);
    const waivers = await reader.all<ClawbackWaiverRow>('SELECT * FROM payout_clawback_waivers WHERE payee_id = ? AND calendar_id = ? AND period_id = ? ORDER BY position', [
      query.payeeId,
      query.calendarId,
      query.periodId,
    ]);
    const row = await reader.get<PayoutStatementRow>('SELECT * FROM payout_statements WHERE calendar_id = ? AND period_id = ? AND payee_id = ?', [
      query.calendarId,
      query.periodId,
      query.payeeId,
    ]);
    const payout = row === undefined ? null : payoutOfRow(row);
    let carryOpening = payout?.carryOpening ?? null;
    if (payout === null && period?.starts_on !== undefined) {
      const latest = await reader.get<Pick<PayoutStatementRow, 'draw_balance' | 'earnings_deficit'>>(
        'SELECT draw_balance, earnings_deficit FROM payout_statements WHERE calendar_id = ? AND payee_id = ? AND starts_on < ? ORDER BY starts_on DESC LIMIT 1',
        [query.calendarId, query.payeeId, period.starts_on],
      );
      if (latest !== undefined) carryOpening = { drawBalance: latest.draw_balance, earningsDeficit: latest.earnings_deficit };
    }
    return {
      calendarId: query.calendarId,
      periodId: query.periodId,
      payeeId: query.payeeId,
      periodStatus: period?.status ?? 'not_opened',
      lines: lines.map((line) => ({ ...(JSON.parse(line.line) as PostedLine), currency: line.currency, postedBy: line.posted_by, eventId: line.event_id, position: line.position })),
      clawbacksWaived: waivers.map((waiver) => ({
        assessmentId: waiver.assessment_id,
        dealId: waiver.deal_id,
        sourcePeriodId: waiver.source_period_id,
        outcome: waiver.outcome,
        explanation: waiver.explanation,
        evidence: JSON.parse(waiver.evidence) as unknown,
        eventId: waiver.event_id,
        position: waiver.position,
      })),
      payout,
      carryOpening,
      carryClosing: payout?.carryClosing ?? null,
    };
  });
}

export interface FrozenStatementView {
  calendarId: string;
  periodId: string;
  payeeId: string;
  statementDigest: string;
  logPosition: number;
  /** The digest of the statement recomputed now from the log at logPosition, with the frozen posted lines. */
  recomputedDigest: string;
  digestMatches: boolean;
  /** The engine statement as it stood at logPosition; null when the payee had only posted lines in the period. */
  statement: Statement | null;
  postedLines: FrozenPostedLine[];
}

/**
 * A frozen statement reproduced from the log at the position it was computed at, with its digest recomputed: it
 * matches whatever has been appended since. The read model must hold the log up to that position.
 */
export async function getFrozenStatement(store: EventStore, db: ReadModelDb, query: { calendarId: string; periodId: string; payeeId: string }): Promise<FrozenStatementView> {
  const row = await db.read((reader) =>
    reader.get<PayoutStatementRow>('SELECT * FROM payout_statements WHERE calendar_id = ? AND period_id = ? AND payee_id = ?', [query.calendarId, query.periodId, query.payeeId]),
  );
  if (row === undefined) throw notFoundError('STATEMENT.NOT_FROZEN', `Payee ${query.payeeId} has no frozen statement in ${query.calendarId} ${query.periodId}`);
  const postedLines = JSON.parse(row.posted_lines) as FrozenPostedLine[];
  let statement: Statement | null = null;
  let recomputedDigest: string;
  try {
    statement = (await statementAtPosition(store, db, { payeeId: query.payeeId, periodId: query.periodId, position: row.log_position })).statement;
    recomputedDigest = statementDigestOf(statement, postedLines);
  } catch (error) {
    // Lines posted for a payee the calendar did not freeze a statement for: the frozen statement is those lines alone.
    if (!(error instanceof DomainError) || error.code !== 'STATEMENT.PERIOD_NOT_OF_PLAN') throw error;
    recomputedDigest = new StatementDigestBuilder(headerWithoutStatement(query.payeeId, query.periodId, row.currency)).finish(postedLines);
  }
  return {
    calendarId: query.calendarId,
    periodId: query.periodId,
    payeeId: query.payeeId,
    statementDigest: row.statement_digest,
    logPosition: row.log_position,
    recomputedDigest,
    digestMatches: recomputedDigest === row.statement_digest,
    statement,
    postedLines,
  };
}

export const requirePayoutStatus = (status: string | undefined): PayoutStatus | undefined => {
  if (status === undefined) return undefined;
  if (status === 'pending_approval' || status === 'approved' || status === 'paid') return status;
  throw validationError('REQUEST.STATUS_INVALID', 'status must be pending_approval, approved or paid', [{ field: 'status', message: 'must be pending_approval, approved or paid' }]);
};

/**
 * The payee's earliest open period, where a correction for them goes (a dispute's approved amount, say): in the
 * calendar of their plan on `today`, the period after the calendar's latest closed one; when the calendar has never
 * closed a period, the period containing `today`. Null for a payee on no plan that day.
 */
export async function earliestOpenPeriodOf(db: ReadModelDb, query: { payeeId: string; today: string }): Promise<{ calendarId: string; periodId: string } | null> {
  return db.read(async (reader) => {
    const versions = await readPublishedVersions(reader);
    const versionsByPlan = versionsByPlanOf(versions);
    const day = { id: query.today, start: query.today, end: query.today };
    const assignments = (await readAssignmentsOverlapping(reader, day, [query.payeeId])).get(query.payeeId) ?? [];
    const planId = decidingPlanOf(assignments, versionsByPlan, day);
    const version = planId === null ? undefined : versionsByPlan.get(planId)?.at(-1);
    if (version === undefined) return null;
    const calendarId = calendarIdOf(version);
    const latest = await reader.get<{ period_id: string }>(
      "SELECT period_id FROM payout_periods WHERE calendar_id = ? AND status IN ('closed', 'approved', 'paid') ORDER BY starts_on DESC LIMIT 1",
      [calendarId],
    );
    return { calendarId, periodId: latest === undefined ? periodIdOfDate(query.today, version.periodFrequency) : nextPeriodId(latest.period_id) };
  });
}
