import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction } from '#lib/projections/read-model.port.js';
import { PAYEE_EVENT_TYPES, PAYEE_STREAM_PREFIX, type PayeeEvent } from '../domain/payee.decider.js';

/**
 * The payee directory: one row per payee in `payees`, with the manager and territory of the latest
 * effective-dated change, and every dated change in `payee_assignments` so a query can answer "as of" a date.
 * Quotas are read from the attainment read model, which holds them beside the credited amounts.
 */
export const payeeDirectoryProjection: Projection = {
  name: 'payee-directory',
  filter: { streamPrefixes: [PAYEE_STREAM_PREFIX], eventTypes: PAYEE_EVENT_TYPES },
  tables: ['payees', 'payee_assignments'],

  async setup(transaction) {
    await transaction.run(`CREATE TABLE IF NOT EXISTS payees (
      payee_id   TEXT PRIMARY KEY,
      name       TEXT NOT NULL,
      email      TEXT,
      manager_id TEXT,
      territory  TEXT NOT NULL,
      currency   TEXT NOT NULL,
      start_date TEXT NOT NULL,
      revision   INTEGER NOT NULL,
      position   INTEGER NOT NULL
    )`);
    await transaction.run('CREATE INDEX IF NOT EXISTS payees_manager ON payees (manager_id, payee_id)');
    await transaction.run(`CREATE TABLE IF NOT EXISTS payee_assignments (
      payee_id       TEXT NOT NULL,
      kind           TEXT NOT NULL,
      value          TEXT,
      effective_date TEXT NOT NULL,
      position       INTEGER NOT NULL,
      PRIMARY KEY (payee_id, kind, position)
    )`);
  },

  async reset(transaction) {
    await transaction.run('DROP TABLE IF EXISTS payee_assignments');
    await transaction.run('DROP TABLE IF EXISTS payees');
  },

  async apply(recorded: RecordedEvent, transaction: ReadModelTransaction) {
    const event = recorded as unknown as PayeeEvent & RecordedEvent;
    switch (event.type) {
      case 'PayeeOnboarded': {
        const { payeeId, name, email, managerId, territory, currency, startDate } = event.data;
        await transaction.run(
          `INSERT INTO payees (payee_id, name, email, manager_id, territory, currency, start_date, revision, position)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [payeeId, name, email, managerId, territory, currency, startDate, recorded.revision, recorded.position],
        );
        await addAssignment(transaction, payeeId, 'manager', managerId, startDate, recorded.position);
        await addAssignment(transaction, payeeId, 'territory', territory, startDate, recorded.position);
        return;
      }
      case 'PayeeManagerChanged': {
        const { payeeId, managerId, effectiveDate } = event.data;
        await addAssignment(transaction, payeeId, 'manager', managerId, effectiveDate, recorded.position);
        const latest = await latestAssignment(transaction, payeeId, 'manager');
        await transaction.run('UPDATE payees SET manager_id = ?, revision = ?, position = ? WHERE payee_id = ?', [latest, recorded.revision, recorded.position, payeeId]);
        return;
      }
      case 'PayeeTerritoryChanged': {
        const { payeeId, territory, effectiveDate } = event.data;
        await addAssignment(transaction, payeeId, 'territory', territory, effectiveDate, recorded.position);
        const latest = await latestAssignment(transaction, payeeId, 'territory');
        await transaction.run('UPDATE payees SET territory = ?, revision = ?, position = ? WHERE payee_id = ?', [latest, recorded.revision, recorded.position, payeeId]);
        return;
      }
      case 'QuotaSet':
        // The revision still moves: it is the payee's ETag.
        await transaction.run('UPDATE payees SET revision = ?, position = ? WHERE payee_id = ?', [recorded.revision, recorded.position, event.data.payeeId]);
        return;
      default:
        return assertNever(event);
    }
  },
};

async function addAssignment(
  transaction: ReadModelTransaction,
  payeeId: string,
  kind: 'manager' | 'territory',
  value: string | null,
  effectiveDate: string,
  position: number,
): Promise<void> {
  await transaction.run('INSERT INTO payee_assignments (payee_id, kind, value, effective_date, position) VALUES (?, ?, ?, ?, ?)', [
    payeeId,
    kind,
    value,
    effectiveDate,
    position,
  ]);
}

/** The value of the change with the latest effective date; of two on one date, the one recorded later. */
async function latestAssignment(transaction: ReadModelTransaction, payeeId: string, kind: 'manager' | 'territory'): Promise<string | null> {
  const row = await transaction.get<{ value: string | null }>(
    'SELECT value FROM payee_assignments WHERE payee_id = ? AND kind = ? ORDER BY effective_date DESC, position DESC LIMIT 1',
    [payeeId, kind],
  );
  return row?.value ?? null;
}
