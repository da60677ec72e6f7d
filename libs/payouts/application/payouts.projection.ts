import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import { insertRows } from '#lib/projections/sql-rows.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import { payoutIdFor } from '../domain/payout-id.js';
import { PERIOD_EVENT_TYPES, PERIOD_STREAM_PREFIX, type PeriodEvent } from '../domain/period.decider.js';
import { createPayoutTables, dropPayoutTables, PAYOUT_TABLES, type PayoutPeriodRow } from './payout-tables.js';

/**
 * The payouts read model: periods and their status, the statements frozen in each with their payout, the lines
 * posted to them and the clawbacks waived. Folded from the period streams only; every period event names its
 * calendar and period.
 */
export const PAYOUTS_PROJECTION_NAME = 'payouts';

type RecordedPeriodEvent = PeriodEvent & RecordedEvent;

/** `UPDATE ... WHERE <keys> AND payee_id IN (...)` a few hundred payees at a time. */
async function updatePayees(transaction: ReadModelTransaction, set: string, setParameters: SqlParameter[], calendarId: string, periodId: string, payeeIds: readonly string[]): Promise<void> {
  for (let start = 0; start < payeeIds.length; start += 256) {
    const chunk = payeeIds.slice(start, start + 256);
    await transaction.run(`UPDATE payout_statements SET ${set} WHERE calendar_id = ? AND period_id = ? AND payee_id IN (${chunk.map(() => '?').join(', ')})`, [
      ...setParameters,
      calendarId,
      periodId,
      ...chunk,
    ]);
  }
}

async function setPeriodStatus(transaction: ReadModelTransaction, calendarId: string, periodId: string, status: PayoutPeriodRow['status'], position: number): Promise<void> {
  await transaction.run('UPDATE payout_periods SET status = ?, position = ? WHERE calendar_id = ? AND period_id = ?', [status, position, calendarId, periodId]);
}

export function createPayoutsProjection(): Projection {
  return {
    name: PAYOUTS_PROJECTION_NAME,
    version: 1,
    filter: { streamPrefixes: [PERIOD_STREAM_PREFIX], eventTypes: PERIOD_EVENT_TYPES },
    tables: PAYOUT_TABLES,
    setup: createPayoutTables,
    reset: dropPayoutTables,
    async apply(recorded, transaction) {
      const event = recorded as RecordedPeriodEvent;
      const { position } = recorded;
      switch (event.type) {
        case 'PeriodOpened': {
          const { calendarId, periodId, startsOn, endsOn, openedBy } = event.data;
          await transaction.run(
            `INSERT INTO payout_periods (calendar_id, period_id, stream_id, status, starts_on, ends_on, opened_by, prepared_by, closed_position, log_position, reopen_count, position)
             VALUES (?, ?, ?, 'open', ?, ?, ?, NULL, NULL, NULL, 0, ?)`,
            [calendarId, periodId, recorded.streamId, startsOn, endsOn, openedBy, position],
          );
          return;
        }
        case 'LinesPosted': {
          const { calendarId, periodId, payeeId, currency, lines, postedBy } = event.data;
          await insertRows(
            transaction,
            'INSERT INTO payout_posted_lines (calendar_id, period_id, line_id, payee_id, kind, amount, currency, deal_id, cause_kind, cause_reference, source_period_id, explanation, line, posted_by, event_id, position)',
            lines.map((line) => [
              calendarId,
              periodId,
              line.lineId,
              payeeId,
              line.kind,
              line.amount,
              currency,
              line.dealId ?? null,
              line.cause?.kind ?? null,
              line.cause?.reference ?? null,
              line.sourcePeriodId ?? null,
              line.explanation ?? null,
              JSON.stringify(line),
              postedBy,
              recorded.eventId,
              position,
            ]),
          );
          return;
        }
        case 'PeriodClosed': {
          const { calendarId, periodId, preparedBy, statements } = event.data;
          const period = await transaction.get<{ starts_on: string }>('SELECT starts_on FROM payout_periods WHERE calendar_id = ? AND period_id = ?', [calendarId, periodId]);
          if (period === undefined) throw new Error(`Period ${calendarId}/${periodId} closed before it opened`);
          const logPosition = statements.reduce((highest, statement) => Math.max(highest, statement.logPosition), 0);
          await transaction.run(
            "UPDATE payout_periods SET status = 'closed', prepared_by = ?, closed_position = ?, log_position = ?, position = ? WHERE calendar_id = ? AND period_id = ?",
            [preparedBy, position, logPosition, position, calendarId, periodId],
          );
          await insertRows(
            transaction,
            `INSERT INTO payout_statements (calendar_id, period_id, payee_id, starts_on, status, statement_digest, log_position, currency, net_payable, draw_balance,
               earnings_deficit, figures, posted_lines, payout_id, prepared_by, closed_position, approved_by, approved_position, payroll_reference, paid_on, paid_position)`,
            statements.map((statement) => [
              calendarId,
              periodId,
              statement.payeeId,
              period.starts_on,
              'frozen',
              statement.statementDigest,
              statement.logPosition,
              statement.currency,
              statement.netPayable,
              statement.figures.carryClosing.drawBalance,
              statement.figures.carryClosing.earningsDeficit,
              JSON.stringify(statement.figures),
              JSON.stringify(statement.postedLines),
              payoutIdFor({ payeeId: statement.payeeId, periodId, statementDigest: statement.statementDigest }),
              preparedBy,
              position,
              null,
              null,
              null,
              null,
              null,
            ]),
          );
          return;
        }
        case 'PayoutsApproved': {
          const { calendarId, periodId, approvedBy, payouts } = event.data;
          await updatePayees(transaction, "status = 'approved', approved_by = ?, approved_position = ?", [approvedBy, position], calendarId, periodId, payouts.map((payout) => payout.payeeId));
          return;
        }
        case 'PeriodApproved':
          await setPeriodStatus(transaction, event.data.calendarId, event.data.periodId, 'approved', position);
          return;
        case 'PayoutsPaid': {
          const { calendarId, periodId, payrollReference, paidOn, payouts } = event.data;
          await updatePayees(
            transaction,
            "status = 'paid', payroll_reference = ?, paid_on = ?, paid_position = ?",
            [payrollReference, paidOn, position],
            calendarId,
            periodId,
            payouts.map((payout) => payout.payeeId),
          );
          return;
        }
        case 'PeriodPaid':
          await setPeriodStatus(transaction, event.data.calendarId, event.data.periodId, 'paid', position);
          return;
        case 'PeriodReopened': {
          const { calendarId, periodId, reopenedBy, reason, statusBefore } = event.data;
          await transaction.run(
            "UPDATE payout_periods SET status = 'open', prepared_by = NULL, closed_position = NULL, log_position = NULL, reopen_count = reopen_count + 1, position = ? WHERE calendar_id = ? AND period_id = ?",
            [position, calendarId, periodId],
          );
          const period = await transaction.get<{ reopen_count: number }>('SELECT reopen_count FROM payout_periods WHERE calendar_id = ? AND period_id = ?', [calendarId, periodId]);
          await transaction.run(
            `INSERT INTO payout_period_reopens (calendar_id, period_id, reopen_number, reopened_by, reason, status_before, event_id, position, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [calendarId, periodId, period?.reopen_count ?? 1, reopenedBy, reason, statusBefore, recorded.eventId, position, recorded.recordedAt],
          );
          await transaction.run('DELETE FROM payout_statements WHERE calendar_id = ? AND period_id = ?', [calendarId, periodId]);
          return;
        }
        case 'ClawbackWaived': {
          const { calendarId, periodId, assessmentId, payeeId, dealId, sourcePeriodId, outcome, explanation, evidence } = event.data;
          await transaction.run(
            `INSERT INTO payout_clawback_waivers (assessment_id, calendar_id, period_id, payee_id, deal_id, source_period_id, outcome, explanation, evidence, event_id, position)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [assessmentId, calendarId, periodId, payeeId, dealId, sourcePeriodId, outcome, explanation, JSON.stringify(evidence ?? {}), recorded.eventId, position],
          );
          return;
        }
        default:
          assertNever(event);
      }
    },
  };
}
