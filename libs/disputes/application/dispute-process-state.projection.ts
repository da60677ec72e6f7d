import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction } from '#lib/projections/read-model.port.js';
import { DISPUTE_STREAM_PREFIX, type DisputeEvent } from '../domain/dispute.decider.js';

/**
 * The durable state of the two dispute processes, folded from the log with its own checkpoint like any read model:
 * - `dispute_process_due`: every unresolved dispute with the due date in force and the due date it was last
 *   escalated for. The escalation timer reads the ones past due; a restart finds them here again, so no escalation
 *   is forgotten.
 * - `dispute_process_remedies`: every resolution whose remedy is still to be carried out, with the event that asked
 *   for it (its id and correlation id become the causation and correlation of the commands the process issues).
 *   A row leaves when the dispute stream records the remedy done or failed.
 *
 * Because this state is a fold of the log, rebuilding it from position 0 gives the same rows: a remedy already
 * carried out is recorded in its dispute's stream, so a replay never asks for it again.
 */

export const DISPUTE_PROCESS_TABLES = ['dispute_process_due', 'dispute_process_remedies'] as const;

const PROCESS_EVENT_TYPES: readonly DisputeEvent['type'][] = [
  'DisputeFiled',
  'DisputeInformationRequested',
  'DisputeInformationProvided',
  'DisputeResolved',
  'DisputeWithdrawn',
  'DisputeReopened',
  'DisputeEscalated',
  'DisputeAdjustmentPosted',
  'DisputeCreditsCorrected',
  'DisputeRemedyFailed',
];

async function setup(transaction: ReadModelTransaction): Promise<void> {
  await transaction.run(`CREATE TABLE IF NOT EXISTS dispute_process_due (
    dispute_id       TEXT PRIMARY KEY,
    due_on           TEXT NOT NULL,
    escalated_due_on TEXT
  ) WITHOUT ROWID`);
  await transaction.run('CREATE INDEX IF NOT EXISTS dispute_process_due_on ON dispute_process_due (due_on)');
  await transaction.run(`CREATE TABLE IF NOT EXISTS dispute_process_remedies (
    dispute_id        TEXT NOT NULL,
    resolution_number INTEGER NOT NULL,
    event_id          TEXT NOT NULL,
    correlation_id    TEXT NOT NULL,
    position          INTEGER NOT NULL,
    PRIMARY KEY (dispute_id, resolution_number)
  ) WITHOUT ROWID`);
}

async function reset(transaction: ReadModelTransaction): Promise<void> {
  for (const table of DISPUTE_PROCESS_TABLES) await transaction.run(`DROP TABLE IF EXISTS ${table}`);
}

export const disputeProcessStateProjection: Projection = {
  name: 'dispute-process-state',
  version: 1,
  filter: { streamPrefixes: [DISPUTE_STREAM_PREFIX], eventTypes: PROCESS_EVENT_TYPES },
  tables: DISPUTE_PROCESS_TABLES,
  setup,
  reset,
  apply(recorded, transaction) {
    const event = recorded as unknown as DisputeEvent;
    const upsertDue = (dueOn: string) =>
      transaction.run('INSERT INTO dispute_process_due (dispute_id, due_on, escalated_due_on) VALUES (?, ?, NULL) ON CONFLICT (dispute_id) DO UPDATE SET due_on = excluded.due_on', [
        event.data.disputeId,
        dueOn,
      ]);
    switch (event.type) {
      case 'DisputeFiled':
        return upsertDue(event.data.dueOn).then(() => undefined);
      case 'DisputeInformationRequested':
        return upsertDue(event.data.responseDueOn).then(() => undefined);
      case 'DisputeInformationProvided':
      case 'DisputeReopened':
        return upsertDue(event.data.dueOn).then(() => undefined);
      case 'DisputeEscalated':
        return transaction.run('UPDATE dispute_process_due SET escalated_due_on = ? WHERE dispute_id = ?', [event.data.dueOn, event.data.disputeId]).then(() => undefined);
      case 'DisputeWithdrawn':
        return transaction.run('DELETE FROM dispute_process_due WHERE dispute_id = ?', [event.data.disputeId]).then(() => undefined);
      case 'DisputeResolved': {
        const removed = transaction.run('DELETE FROM dispute_process_due WHERE dispute_id = ?', [event.data.disputeId]);
        if (event.data.remedy === null) return removed.then(() => undefined);
        return Promise.all([
          removed,
          transaction.run(
            'INSERT INTO dispute_process_remedies (dispute_id, resolution_number, event_id, correlation_id, position) VALUES (?, ?, ?, ?, ?)',
            [event.data.disputeId, event.data.resolutionNumber, recorded.eventId, recorded.metadata.correlationId, recorded.position],
          ),
        ]).then(() => undefined);
      }
      case 'DisputeAdjustmentPosted':
      case 'DisputeCreditsCorrected':
      case 'DisputeRemedyFailed':
        return transaction
          .run('DELETE FROM dispute_process_remedies WHERE dispute_id = ? AND resolution_number = ?', [event.data.disputeId, event.data.resolutionNumber])
          .then(() => undefined);
      default:
        throw new Error(`dispute-process-state does not fold ${event.type}`);
    }
  },
};
