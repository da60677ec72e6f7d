import type { ReadModelReader } from '#lib/projections/read-model.port.js';
import { readCheckpoints } from '#lib/projections/projection-runner.js';
import { conflictError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { ExactDecimal } from '#lib/attainment/domain/exact-decimal.js';
import type { PlanAssignmentInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { PeriodInput } from '#lib/commissions/domain/statement.js';
import { quotaInputOf } from '#lib/statements/domain/statement-inputs.js';
import { STATEMENTS_PROJECTION_NAME } from '#lib/statements/application/statements.projection.js';
import type { DrawTerms } from '../domain/draw.js';
import { computePayout, emptyCarry, figuresOf, type PayeeCarry } from '../domain/payout.js';
import type { FrozenPostedLine, FrozenStatementRecord, PeriodState } from '../domain/period.decider.js';
import type { StatementLineSummary, StatementSummary } from '../domain/statement-summary.js';
import {
  capitalizationIndex,
  decidingVersionOf,
  drawTermsOf,
  payeeBelongsTo,
  readAssignmentsOverlapping,
  readCalendarPlans,
  requireCalendarPeriod,
  type CalendarPlans,
} from './calendar-plans.js';
import { digestHeaderOf, digestLineOf, StatementDigestBuilder, type DigestHeader } from './statement-digest.js';

/**
 * What closing a calendar period reads, in one consistent snapshot of the read models: every payee the period
 * freezes, with their engine statement (digested line by line as it is read, never held whole), the part of it on
 * capitalizable components, the draw of their plan and the balances carried from their last frozen period. The
 * lines posted to the period come from the period stream when the close is decided, so a posting that lands in
 * between makes the append fail and the close is decided again.
 */
export interface PayeeToFreeze {
  payeeId: string;
  currency: string;
  digest: StatementDigestBuilder;
  /** Sum of the statement's payable lines. */
  payable: string;
  /** Payable amount on capitalizable components, by benefit months. */
  capitalized: Map<number, string>;
  draw: DrawTerms | null;
  carryOpening: PayeeCarry;
}

export interface CloseSnapshot {
  calendarId: string;
  period: PeriodInput;
  /** The statements read model's position: every statement was computed from the log up to here. */
  logPosition: number;
  payees: Map<string, PayeeToFreeze>;
}

const LINES_PER_QUERY_PAYEES = 400;

interface StatementHeaderRow {
  payee_id: string;
  status: 'computed' | 'failed';
  currency: string;
  payable: string;
  held: string;
  attainment: string;
  held_credits: string;
  error_code: string | null;
}

interface DigestLineRow {
  payee_id: string;
  line_id: string;
  kind: string;
  amount: string;
  plan_version_id: string | null;
  component_key: string | null;
  sources: string;
}

export async function readCloseSnapshot(reader: ReadModelReader, calendarId: string, periodId: string): Promise<CloseSnapshot> {
  const plans = await readCalendarPlans(reader, calendarId);
  const period = requireCalendarPeriod(plans, periodId);
  const logPosition = (await readCheckpoints(reader)).get(STATEMENTS_PROJECTION_NAME) ?? 0;
  const assignmentsByPayee = await readAssignmentsOverlapping(reader, period);
  const payeeIds = [...assignmentsByPayee.entries()].filter(([, assignments]) => payeeBelongsTo(plans, assignments, period)).map(([payeeId]) => payeeId);
  payeeIds.sort();

  const headers = new Map<string, StatementHeaderRow>();
  for (const row of await reader.all<StatementHeaderRow>(
    'SELECT payee_id, status, currency, payable, held, attainment, held_credits, error_code FROM statements WHERE period_id = ?',
    [period.id],
  )) {
    headers.set(row.payee_id, row);
  }
  const failed = payeeIds.filter((payeeId) => headers.get(payeeId)?.status === 'failed');
  if (failed.length > 0) {
    throw conflictError(
      'PERIOD.STATEMENTS_FAILED',
      `The statements of ${failed.length} payee(s) could not be computed (${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', ...' : ''}): fix their inputs before closing`,
    );
  }
  const carries = await readCarries(reader, calendarId, period);
  const capitalizable = capitalizationIndex(plans.versions);
  const quotasByPayee = await readQuotas(reader, period);

  const payees = new Map<string, PayeeToFreeze>();
  const withStatement: string[] = [];
  for (const payeeId of payeeIds) {
    const assignments = assignmentsByPayee.get(payeeId)!;
    const version = decidingVersionOf(plans, assignments, period);
    const header = headers.get(payeeId);
    const base = { payeeId, draw: drawTermsOf(version), carryOpening: carries.get(payeeId) ?? emptyCarry() };
    if (header === undefined) {
      payees.set(payeeId, { ...base, ...emptyStatementOf(plans, payeeId, period, assignments, quotasByPayee.get(payeeId) ?? []) });
      continue;
    }
    withStatement.push(payeeId);
    const digestHeader: DigestHeader = {
      payeeId,
      periodId: period.id,
      currency: header.currency,
      payable: header.payable,
      held: header.held,
      attainmentJson: header.attainment,
      heldCreditsJson: header.held_credits,
    };
    payees.set(payeeId, { ...base, currency: header.currency, digest: new StatementDigestBuilder(digestHeader), payable: header.payable, capitalized: new Map() });
  }

  // Lines a few hundred payees at a time, in statement order: each is digested and summed, then dropped.
  for (let start = 0; start < withStatement.length; start += LINES_PER_QUERY_PAYEES) {
    const chunk = withStatement.slice(start, start + LINES_PER_QUERY_PAYEES);
    const rows = await reader.all<DigestLineRow>(
      `SELECT payee_id, line_id, kind, amount, plan_version_id, component_key, sources FROM statement_lines
       WHERE period_id = ? AND payee_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY payee_id, line_no`,
      [period.id, ...chunk],
    );
    let current: PayeeToFreeze | undefined;
    let capitalized = new Map<number, ExactDecimal>();
    const flushCapitalized = () => {
      if (current === undefined) return;
      current.digest.seal();
      for (const [months, amount] of capitalized) current.capitalized.set(months, amount.toString());
      capitalized = new Map();
    };
    for (const row of rows) {
      if (current?.payeeId !== row.payee_id) {
        flushCapitalized();
        current = payees.get(row.payee_id)!;
      }
      current.digest.line({ lineId: row.line_id, kind: row.kind, amount: row.amount, planVersionId: row.plan_version_id, sourcesText: row.sources });
      if (row.kind === 'held' || row.plan_version_id === null || row.component_key === null) continue;
      const months = capitalizable.get(`${row.plan_version_id}|${row.component_key}`);
      if (months !== undefined) capitalized.set(months, (capitalized.get(months) ?? ExactDecimal.ZERO).plus(ExactDecimal.parse(row.amount)));
    }
    flushCapitalized();
  }
  return { calendarId, period, logPosition, payees };
}

/** The statement of a payee whose period holds no credit: computed as the statements query would, from quotas alone. */
function emptyStatementOf(plans: CalendarPlans, payeeId: string, period: PeriodInput, assignments: PlanAssignmentInput[], quotas: QuotaInput[]) {
  const statement = computeStatement({ payeeId, period, planVersions: plans.versions, assignments, quotas, fxRates: [], credits: [] });
  const digest = new StatementDigestBuilder(digestHeaderOf(statement));
  for (const line of statement.lines) digest.line(digestLineOf(line));
  return { currency: statement.currency, digest, payable: statement.totals.payable, capitalized: new Map<number, string>() };
}

async function readQuotas(reader: ReadModelReader, period: PeriodInput): Promise<Map<string, QuotaInput[]>> {
  const rows = await reader.all<{ payee_id: string; period_id: string; measure: string; amount: string }>(
    'SELECT payee_id, period_id, measure, amount FROM statement_quotas WHERE period_id = ? ORDER BY payee_id, measure',
    [period.id],
  );
  const byPayee = new Map<string, QuotaInput[]>();
  for (const row of rows) {
    const quota = quotaInputOf(row.period_id, row.measure, row.amount);
    if (quota === null) continue;
    const list = byPayee.get(row.payee_id);
    if (list === undefined) byPayee.set(row.payee_id, [quota]);
    else list.push(quota);
  }
  return byPayee;
}

/** Each payee's balances as their latest frozen period of the calendar before this one left them. */
async function readCarries(reader: ReadModelReader, calendarId: string, period: PeriodInput): Promise<Map<string, PayeeCarry>> {
  const rows = await reader.all<{ payee_id: string; draw_balance: string; earnings_deficit: string }>(
    `SELECT payee_id, draw_balance, earnings_deficit FROM payout_statements latest
     WHERE calendar_id = ? AND starts_on = (
       SELECT MAX(starts_on) FROM payout_statements earlier WHERE earlier.calendar_id = latest.calendar_id AND earlier.payee_id = latest.payee_id AND earlier.starts_on < ?)`,
    [calendarId, period.start],
  );
  return new Map(rows.map((row) => [row.payee_id, { drawBalance: row.draw_balance, earningsDeficit: row.earnings_deficit }]));
}

/**
 * The frozen statement of every payee: the snapshot's engine statements completed with the lines posted to the period
 * as the period stream holds them, digested, and priced into a payout (draw and carried balances applied).
 * Synchronous and pure given the snapshot, so a close retried after a concurrent posting decides again.
 */
export function frozenStatementsOf(snapshot: CloseSnapshot, state: PeriodState): FrozenStatementRecord[] {
  const postedByPayee = new Map<string, { currency: string; lines: StatementLineSummary[]; frozen: FrozenPostedLine[] }>();
  for (const posted of Object.values(state.postedLinesById)) {
    const entry = postedByPayee.get(posted.payeeId) ?? { currency: posted.currency, lines: [], frozen: [] };
    entry.lines.push({ lineId: posted.lineId, kind: posted.kind, amount: posted.amount, dealId: posted.dealId ?? null });
    entry.frozen.push({ lineId: posted.lineId, kind: posted.kind, amount: posted.amount });
    postedByPayee.set(posted.payeeId, entry);
  }
  const payees = [...snapshot.payees.values()];
  // A payee with lines posted but no statement in this calendar period still has them frozen, on an empty statement.
  for (const [payeeId, posted] of postedByPayee) {
    if (snapshot.payees.has(payeeId)) continue;
    payees.push({
      payeeId,
      currency: posted.currency,
      digest: new StatementDigestBuilder(headerWithoutStatement(payeeId, snapshot.period.id, posted.currency)),
      payable: formatMoney(new Money(0), posted.currency),
      capitalized: new Map(),
      draw: null,
      carryOpening: emptyCarry(),
    });
  }
  payees.sort((left, right) => (left.payeeId < right.payeeId ? -1 : left.payeeId > right.payeeId ? 1 : 0));
  return payees.map((payee) => {
    const posted = postedByPayee.get(payee.payeeId);
    if (posted !== undefined && posted.currency !== payee.currency) {
      throw conflictError('PERIOD.CURRENCY_MISMATCH', `Lines posted for payee ${payee.payeeId} are in ${posted.currency}, their statement in ${payee.currency}`);
    }
    const statementDigest = payee.digest.finish(posted?.frozen ?? []);
    const payout = computePayout({ statement: summaryOf(snapshot.period.id, payee, posted?.lines ?? []), statementDigest, draw: payee.draw, carryOpening: payee.carryOpening });
    return {
      payeeId: payee.payeeId,
      statementDigest,
      logPosition: snapshot.logPosition,
      currency: payee.currency,
      netPayable: payout.netPayable,
      figures: figuresOf(payout),
      postedLines: posted?.frozen ?? [],
    };
  });
}

/** The header of a payee who has posted lines in a period the calendar does not freeze their statement in. */
export const headerWithoutStatement = (payeeId: string, periodId: string, currency: string): DigestHeader => ({
  payeeId,
  periodId,
  currency,
  payable: 'none',
  held: 'none',
  attainmentJson: '[]',
  heldCreditsJson: '[]',
});

/** What the payout needs from the frozen statement: its payable total, split into expensed and capitalised parts, and the posted lines. */
function summaryOf(periodId: string, payee: PayeeToFreeze, postedLines: StatementLineSummary[]): StatementSummary {
  const payable = payee.payable === 'none' ? new Money(0) : new Money(payee.payable);
  let expensed = payable;
  const lines: StatementLineSummary[] = [];
  for (const [months, amount] of payee.capitalized) {
    expensed = expensed.minus(amount);
    lines.push({ lineId: `engine:capitalized:${months}`, kind: 'commission', amount: formatMoney(new Money(amount), payee.currency), benefitMonths: months });
  }
  lines.unshift({ lineId: 'engine:expensed', kind: 'commission', amount: formatMoney(expensed, payee.currency) });
  lines.push(...postedLines);
  const totalEarned = postedLines.reduce((sum, line) => sum.plus(line.amount), payable);
  return { payeeId: payee.payeeId, periodId, currency: payee.currency, lines, totalEarned: formatMoney(totalEarned, payee.currency) };
}
