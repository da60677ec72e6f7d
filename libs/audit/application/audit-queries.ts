import { clampLimit, type Page } from '#lib/projections/query-helpers.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { AuditSubject } from '../domain/audit-subjects.js';

/** One line of the audit trail: what happened (event type, where in the log), who did it, in which request, when. */
export interface AuditEntry {
  position: number;
  eventId: string;
  streamId: string;
  revision: number;
  type: string;
  actor: { id: string; role: string };
  correlationId: string;
  causationId: string | null;
  /** The caller's idempotency key, when they gave one. */
  commandId: string | null;
  /** Business time the event states. */
  occurredAt: string;
  /** When the store committed it. */
  recordedAt: string;
}

export interface AuditTrailQuery {
  subject: AuditSubject;
  /** The position of the last entry of the previous page. */
  afterPosition?: number;
  limit?: number;
}

interface AuditRow {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  actor_id: string;
  actor_role: string;
  correlation_id: string;
  causation_id: string | null;
  command_id: string | null;
  occurred_at: string;
  recorded_at: string;
}

/** Every event that touched the subject, in log order, a page at a time. */
export async function listAuditTrail(db: ReadModelDb, query: AuditTrailQuery): Promise<Page<AuditEntry>> {
  const limit = clampLimit(query.limit);
  const rows = await db.read((reader) =>
    reader.all<AuditRow>(
      `SELECT audit_events.* FROM audit_subjects JOIN audit_events ON audit_events.position = audit_subjects.position
       WHERE audit_subjects.kind = ? AND audit_subjects.subject_id = ? AND audit_subjects.position > ?
       ORDER BY audit_subjects.position LIMIT ?`,
      [query.subject.kind, query.subject.id, query.afterPosition ?? 0, limit + 1],
    ),
  );
  const items = rows.slice(0, limit).map(
    (row): AuditEntry => ({
      position: row.position,
      eventId: row.event_id,
      streamId: row.stream_id,
      revision: row.revision,
      type: row.type,
      actor: { id: row.actor_id, role: row.actor_role },
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      commandId: row.command_id,
      occurredAt: row.occurred_at,
      recordedAt: row.recorded_at,
    }),
  );
  return { items, nextAfter: rows.length > limit ? String(items[items.length - 1].position) : null };
}
