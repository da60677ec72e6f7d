import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction } from '#lib/projections/read-model.port.js';
import { DISPUTE_EVENT_TYPES, DISPUTE_STREAM_PREFIX, type DisputeEvent, type DisputeSubject } from '../domain/dispute.decider.js';

/**
 * The dispute read models:
 * - `disputes`: one row per dispute as it stands (the rep's list and the analyst queue), with the due date in force,
 *   the last resolution and the state of its remedy;
 * - `dispute_timeline`: every event of every dispute with its actor, in stream order (the rep's timeline, the
 *   dispute's audit trail);
 * - `dispute_resolutions`: one row per resolution, with the date the dispute was opened for it (filed or reopened),
 *   for the resolution-time statistics.
 *
 * Every write is a plain upsert or update keyed by the dispute, so `apply` never reads.
 */

export const DISPUTE_TABLES = ['disputes', 'dispute_timeline', 'dispute_resolutions'] as const;

/** What a subject is called in one column, for search and display: the deal, the credit, "period/line", the period. */
export function subjectKeyOf(subject: DisputeSubject): string {
  switch (subject.kind) {
    case 'deal':
      return subject.dealId;
    case 'credit':
      return subject.creditId;
    case 'statement_line':
      return `${subject.periodId}/${subject.lineId}`;
    case 'period':
      return subject.periodId;
    default:
      return assertNever(subject);
  }
}

async function setup(transaction: ReadModelTransaction): Promise<void> {
  const ddl = [
    `CREATE TABLE IF NOT EXISTS disputes (
      dispute_id        TEXT PRIMARY KEY,
      payee_id          TEXT NOT NULL,
      filed_by_id       TEXT NOT NULL,
      filed_by_role     TEXT NOT NULL,
      category          TEXT NOT NULL,
      subject_kind      TEXT NOT NULL,
      subject_key       TEXT NOT NULL,
      subject           TEXT NOT NULL,
      amount_claimed    TEXT NOT NULL,
      currency          TEXT NOT NULL,
      description       TEXT NOT NULL,
      evidence          TEXT NOT NULL,
      status            TEXT NOT NULL,
      assignee_id       TEXT,
      filed_on          TEXT NOT NULL,
      filed_at          TEXT NOT NULL,
      opened_on         TEXT NOT NULL,
      due_on            TEXT NOT NULL,
      escalation_level  INTEGER NOT NULL,
      escalated_due_on  TEXT,
      resolution_count  INTEGER NOT NULL,
      outcome           TEXT,
      amount_approved   TEXT,
      resolved_on       TEXT,
      reopenable_until  TEXT,
      remedy            TEXT,
      remedy_status     TEXT NOT NULL,
      closed_on         TEXT,
      revision          INTEGER NOT NULL,
      last_position     INTEGER NOT NULL
    )`,
    // The queue is read most urgent first within a status; the other filters narrow it.
    'CREATE INDEX IF NOT EXISTS disputes_status_due ON disputes (status, due_on, dispute_id)',
    'CREATE INDEX IF NOT EXISTS disputes_assignee_due ON disputes (assignee_id, due_on, dispute_id)',
    'CREATE INDEX IF NOT EXISTS disputes_category_due ON disputes (category, due_on, dispute_id)',
    'CREATE INDEX IF NOT EXISTS disputes_payee_filed ON disputes (payee_id, filed_at, dispute_id)',
    'CREATE INDEX IF NOT EXISTS disputes_filed_on ON disputes (filed_on)',
    `CREATE TABLE IF NOT EXISTS dispute_timeline (
      dispute_id  TEXT NOT NULL,
      revision    INTEGER NOT NULL,
      event_type  TEXT NOT NULL,
      event_id    TEXT NOT NULL,
      position    INTEGER NOT NULL,
      actor_id    TEXT NOT NULL,
      actor_role  TEXT NOT NULL,
      occurred_at TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      details     TEXT NOT NULL,
      PRIMARY KEY (dispute_id, revision)
    ) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS dispute_resolutions (
      dispute_id        TEXT NOT NULL,
      resolution_number INTEGER NOT NULL,
      payee_id          TEXT NOT NULL,
      category          TEXT NOT NULL,
      outcome           TEXT NOT NULL,
      opened_on         TEXT NOT NULL,
      resolved_on       TEXT NOT NULL,
      amount_claimed    TEXT NOT NULL,
      amount_approved   TEXT NOT NULL,
      currency          TEXT NOT NULL,
      resolved_by_id    TEXT NOT NULL,
      PRIMARY KEY (dispute_id, resolution_number)
    ) WITHOUT ROWID`,
    'CREATE INDEX IF NOT EXISTS dispute_resolutions_resolved_on ON dispute_resolutions (resolved_on)',
  ];
  for (const statement of ddl) await transaction.run(statement);
}

async function reset(transaction: ReadModelTransaction): Promise<void> {
  for (const table of DISPUTE_TABLES) await transaction.run(`DROP TABLE IF EXISTS ${table}`);
}

/** The event's data without the dispute id, which the timeline row already holds. */
function detailsOf(event: DisputeEvent): string {
  const { disputeId: _disputeId, ...details } = event.data as { disputeId: string } & Record<string, unknown>;
  return JSON.stringify(details);
}

/** Moves the row's revision and position along with every event. */
const touch = 'revision = ?, last_position = ?';

function applyToRow(event: DisputeEvent, recorded: RecordedEvent, transaction: ReadModelTransaction): Promise<unknown> {
  const { revision, position } = recorded;
  switch (event.type) {
    case 'DisputeFiled': {
      const data = event.data;
      return transaction.run(
        `INSERT INTO disputes (dispute_id, payee_id, filed_by_id, filed_by_role, category, subject_kind, subject_key, subject, amount_claimed, currency,
           description, evidence, status, assignee_id, filed_on, filed_at, opened_on, due_on, escalation_level, escalated_due_on, resolution_count,
           outcome, amount_approved, resolved_on, reopenable_until, remedy, remedy_status, closed_on, revision, last_position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'filed', NULL, ?, ?, ?, ?, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, 'none', NULL, ?, ?)`,
        [
          data.disputeId,
          data.payeeId,
          data.filedBy.id,
          data.filedBy.role,
          data.category,
          data.subject.kind,
          subjectKeyOf(data.subject),
          JSON.stringify(data.subject),
          data.amountClaimed,
          data.currency,
          data.description,
          JSON.stringify(data.evidenceReferences),
          data.filedOn,
          recorded.recordedAt,
          data.filedOn,
          data.dueOn,
          revision,
          position,
        ],
      );
    }
    case 'DisputeAssigned':
      return transaction.run(
        `UPDATE disputes SET assignee_id = ?, status = CASE status WHEN 'filed' THEN 'under_review' ELSE status END, ${touch} WHERE dispute_id = ?`,
        [event.data.assigneeId, revision, position, event.data.disputeId],
      );
    case 'DisputeCommented':
      return transaction.run(`UPDATE disputes SET ${touch} WHERE dispute_id = ?`, [revision, position, event.data.disputeId]);
    case 'DisputeInformationRequested':
      return transaction.run(`UPDATE disputes SET status = 'info_requested', due_on = ?, ${touch} WHERE dispute_id = ?`, [
        event.data.responseDueOn,
        revision,
        position,
        event.data.disputeId,
      ]);
    case 'DisputeInformationProvided':
      return transaction.run(`UPDATE disputes SET status = 'under_review', due_on = ?, ${touch} WHERE dispute_id = ?`, [
        event.data.dueOn,
        revision,
        position,
        event.data.disputeId,
      ]);
    case 'DisputeResolved': {
      const data = event.data;
      return Promise.all([
        transaction.run(
          `UPDATE disputes SET status = 'resolved', outcome = ?, amount_approved = ?, resolved_on = ?, reopenable_until = ?, remedy = ?, remedy_status = ?,
             resolution_count = ?, closed_on = ?, ${touch} WHERE dispute_id = ?`,
          [
            data.outcome,
            data.amountApproved,
            data.resolvedOn,
            data.reopenableUntil,
            data.remedy === null ? null : JSON.stringify(data.remedy),
            data.remedy === null ? 'none' : 'pending',
            data.resolutionNumber,
            data.resolvedOn,
            revision,
            position,
            data.disputeId,
          ],
        ),
        transaction.run(
          `INSERT INTO dispute_resolutions (dispute_id, resolution_number, payee_id, category, outcome, opened_on, resolved_on, amount_claimed, amount_approved,
             currency, resolved_by_id)
           SELECT dispute_id, ?, payee_id, category, ?, opened_on, ?, amount_claimed, ?, currency, ? FROM disputes WHERE dispute_id = ?`,
          [data.resolutionNumber, data.outcome, data.resolvedOn, data.amountApproved, data.resolvedBy.id, data.disputeId],
        ),
      ]);
    }
    case 'DisputeWithdrawn':
      return transaction.run(`UPDATE disputes SET status = 'withdrawn', closed_on = ?, ${touch} WHERE dispute_id = ?`, [
        event.data.withdrawnOn,
        revision,
        position,
        event.data.disputeId,
      ]);
    case 'DisputeReopened':
      return transaction.run(
        `UPDATE disputes SET status = CASE WHEN assignee_id IS NULL THEN 'filed' ELSE 'under_review' END, opened_on = ?, due_on = ?, outcome = NULL,
           amount_approved = NULL, resolved_on = NULL, reopenable_until = NULL, remedy = NULL, remedy_status = 'none', closed_on = NULL, ${touch}
         WHERE dispute_id = ?`,
        [event.data.reopenedOn, event.data.dueOn, revision, position, event.data.disputeId],
      );
    case 'DisputeEscalated':
      return transaction.run(`UPDATE disputes SET escalation_level = ?, escalated_due_on = ?, ${touch} WHERE dispute_id = ?`, [
        event.data.level,
        event.data.dueOn,
        revision,
        position,
        event.data.disputeId,
      ]);
    case 'DisputeAdjustmentTargeted':
      return transaction.run(`UPDATE disputes SET ${touch} WHERE dispute_id = ?`, [revision, position, event.data.disputeId]);
    case 'DisputeAdjustmentPosted':
    case 'DisputeCreditsCorrected':
    case 'DisputeRemedyFailed':
      // A remedy of an earlier resolution may land after a reopen; the row shows the last resolution's only.
      return transaction.run(`UPDATE disputes SET remedy_status = CASE WHEN resolution_count = ? AND status = 'resolved' THEN ? ELSE remedy_status END, ${touch} WHERE dispute_id = ?`, [
        event.data.resolutionNumber,
        event.type === 'DisputeRemedyFailed' ? 'failed' : 'done',
        revision,
        position,
        event.data.disputeId,
      ]);
    default:
      return assertNever(event);
  }
}

export const disputesProjection: Projection = {
  name: 'disputes',
  version: 1,
  filter: { streamPrefixes: [DISPUTE_STREAM_PREFIX], eventTypes: DISPUTE_EVENT_TYPES },
  tables: DISPUTE_TABLES,
  setup,
  reset,
  async apply(recorded, transaction) {
    const event = recorded as unknown as DisputeEvent;
    await Promise.all([
      applyToRow(event, recorded, transaction),
      transaction.run(
        `INSERT INTO dispute_timeline (dispute_id, revision, event_type, event_id, position, actor_id, actor_role, occurred_at, recorded_at, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          event.data.disputeId,
          recorded.revision,
          recorded.type,
          recorded.eventId,
          recorded.position,
          recorded.metadata.actor.id,
          recorded.metadata.actor.role,
          recorded.metadata.occurredAt,
          recorded.recordedAt,
          detailsOf(event),
        ],
      ),
    ]);
  },
};
