import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import { auditSubjectsOf } from '../domain/audit-subjects.js';

/**
 * The audit trail: every event that touches a payee, deal, plan, period or dispute, with who did it (actor id and
 * role), the correlation and causation ids and the recorded time, indexed by each subject it touches so "who did
 * what to X" is one range read in log order. The events themselves stay in the store; this is their index.
 */
export function createAuditTrailProjection(): Projection {
  let eventRows: SqlParameter[][] = [];
  let subjectRows: SqlParameter[][] = [];

  return {
    name: 'audit-trail',
    tables: ['audit_events', 'audit_subjects'],

    async setup(transaction) {
      await transaction.run(`CREATE TABLE IF NOT EXISTS audit_events (
        position       INTEGER PRIMARY KEY,
        event_id       TEXT NOT NULL,
        stream_id      TEXT NOT NULL,
        revision       INTEGER NOT NULL,
        type           TEXT NOT NULL,
        actor_id       TEXT NOT NULL,
        actor_role     TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id   TEXT,
        command_id     TEXT,
        occurred_at    TEXT NOT NULL,
        recorded_at    TEXT NOT NULL
      )`);
      await transaction.run(`CREATE TABLE IF NOT EXISTS audit_subjects (
        kind       TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        position   INTEGER NOT NULL,
        PRIMARY KEY (kind, subject_id, position)
      )`);
    },

    async reset(transaction) {
      await transaction.run('DROP TABLE IF EXISTS audit_subjects');
      await transaction.run('DROP TABLE IF EXISTS audit_events');
    },

    apply(event: RecordedEvent) {
      const subjects = auditSubjectsOf(event);
      if (subjects.length === 0) return;
      const { actor, correlationId, causationId, commandId, occurredAt } = event.metadata;
      eventRows.push([
        event.position,
        event.eventId,
        event.streamId,
        event.revision,
        event.type,
        actor.id,
        actor.role,
        correlationId,
        causationId,
        commandId,
        occurredAt,
        event.recordedAt,
      ]);
      for (const subject of subjects) subjectRows.push([subject.kind, subject.id, event.position]);
    },

    async flush(transaction) {
      await insertRows(transaction, 'audit_events', 12, eventRows);
      await insertRows(transaction, 'audit_subjects', 3, subjectRows);
      eventRows = [];
      subjectRows = [];
    },

    discard() {
      eventRows = [];
      subjectRows = [];
    },
  };
}

/** Many rows per INSERT: a batch of a few thousand events costs a handful of statements. */
async function insertRows(transaction: ReadModelTransaction, table: string, width: number, rows: readonly SqlParameter[][]): Promise<void> {
  const rowsPerStatement = Math.floor(900 / width);
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    const placeholders = chunk.map(() => `(${new Array(width).fill('?').join(', ')})`).join(', ');
    await transaction.run(`INSERT INTO ${table} VALUES ${placeholders}`, chunk.flat());
  }
}
