import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ExactDecimal } from '#lib/attainment/domain/exact-decimal.js';
import type { AttainmentRow } from '../domain/attainment-feed.js';
import type { RelayState, RelayStateStore } from '../application/outbound-relay.js';

/**
 * The relay's checkpoint and the attainment rows it has published, in a file of its own (`relay.sqlite` beside the
 * store): not the read-model file, so dropping and rebuilding read models (`cli rebuild`) never moves it and never
 * makes the relay publish again. Written only after the broker acknowledged the batch, in one transaction.
 */
export class SqliteRelayStateStore implements RelayStateStore {
  private readonly database: Database.Database;
  private readonly saveCheckpoint: Database.Statement<[string, number]>;
  private readonly saveRow: Database.Statement<[string, string, string, string, string, string | null, number]>;
  private readonly savePayee: Database.Statement<[string, string]>;

  constructor(path: string, private readonly relayName = 'outbound') {
    mkdirSync(dirname(path), { recursive: true });
    this.database = new Database(path);
    this.database.pragma('journal_mode = WAL');
    // FULL: a checkpoint acknowledged by the broker survives a power cut; losing one would only republish.
    this.database.pragma('synchronous = FULL');
    this.database.pragma('busy_timeout = 5000');
    this.database.exec(`
      CREATE TABLE IF NOT EXISTS relay_checkpoints (relay_name TEXT PRIMARY KEY, position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS relay_attainment (
        payee_id TEXT NOT NULL, period_id TEXT NOT NULL, measure TEXT NOT NULL, currency TEXT NOT NULL,
        credited_amount TEXT NOT NULL, quota_amount TEXT, deals_counted INTEGER NOT NULL,
        PRIMARY KEY (payee_id, period_id, measure)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS relay_attainment_payees (payee_id TEXT PRIMARY KEY, currency TEXT NOT NULL) WITHOUT ROWID;
    `);
    this.saveCheckpoint = this.database.prepare(
      'INSERT INTO relay_checkpoints (relay_name, position) VALUES (?, ?) ON CONFLICT (relay_name) DO UPDATE SET position = excluded.position',
    );
    this.saveRow = this.database.prepare(
      `INSERT INTO relay_attainment (payee_id, period_id, measure, currency, credited_amount, quota_amount, deals_counted)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (payee_id, period_id, measure) DO UPDATE SET currency = excluded.currency,
         credited_amount = excluded.credited_amount, quota_amount = excluded.quota_amount, deals_counted = excluded.deals_counted`,
    );
    this.savePayee = this.database.prepare('INSERT OR REPLACE INTO relay_attainment_payees (payee_id, currency) VALUES (?, ?)');
  }

  load(): RelayState {
    const checkpoint = this.database.prepare('SELECT position FROM relay_checkpoints WHERE relay_name = ?').get(this.relayName) as { position: number } | undefined;
    const rows = this.database
      .prepare('SELECT payee_id, period_id, measure, currency, credited_amount, quota_amount, deals_counted FROM relay_attainment')
      .all() as { payee_id: string; period_id: string; measure: string; currency: string; credited_amount: string; quota_amount: string | null; deals_counted: number }[];
    const payees = this.database.prepare('SELECT payee_id, currency FROM relay_attainment_payees').all() as { payee_id: string; currency: string }[];
    return {
      position: checkpoint?.position ?? 0,
      attainmentRows: rows.map(
        (row): AttainmentRow => ({
          payeeId: row.payee_id,
          periodId: row.period_id,
          measure: row.measure,
          currency: row.currency,
          credited: ExactDecimal.parse(row.credited_amount),
          quota: row.quota_amount,
          dealsCounted: row.deals_counted,
        }),
      ),
      attainmentPayees: payees.map((payee) => [payee.payee_id, payee.currency]),
    };
  }

  commit(position: number, changed: { rows: readonly AttainmentRow[]; payees: readonly [string, string][] }): void {
    this.database.transaction(() => {
      for (const [payeeId, currency] of changed.payees) this.savePayee.run(payeeId, currency);
      for (const row of changed.rows) {
        this.saveRow.run(row.payeeId, row.periodId, row.measure, row.currency, row.credited.toString(), row.quota, row.dealsCounted);
      }
      this.saveCheckpoint.run(this.relayName, position);
    })();
  }

  close(): void {
    this.database.close();
  }
}
