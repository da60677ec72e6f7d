import type { ReadModelTransaction } from '#lib/projections/read-model.port.js';

/**
 * The payouts read model's tables: each calendar period's status, the statements frozen in it with their payout
 * (figures, approval, payment), the lines posted to it (adjustments, clawbacks, manual lines, each with its
 * explanation) and the clawbacks noted as waived. Money is decimal TEXT, structures JSON.
 */
export const PAYOUT_TABLES = ['payout_periods', 'payout_period_reopens', 'payout_statements', 'payout_posted_lines', 'payout_clawback_waivers'] as const;

export async function createPayoutTables(transaction: ReadModelTransaction): Promise<void> {
  const ddl = [
    `CREATE TABLE IF NOT EXISTS payout_periods (
      calendar_id   TEXT NOT NULL,
      period_id     TEXT NOT NULL,
      stream_id     TEXT NOT NULL,
      status        TEXT NOT NULL,
      starts_on     TEXT NOT NULL,
      ends_on       TEXT NOT NULL,
      opened_by     TEXT NOT NULL,
      prepared_by   TEXT,
      closed_position INTEGER,
      log_position  INTEGER,
      reopen_count  INTEGER NOT NULL,
      position      INTEGER NOT NULL,
      PRIMARY KEY (calendar_id, period_id)
    )`,
    `CREATE TABLE IF NOT EXISTS payout_period_reopens (
      calendar_id   TEXT NOT NULL,
      period_id     TEXT NOT NULL,
      reopen_number INTEGER NOT NULL,
      reopened_by   TEXT NOT NULL,
      reason        TEXT NOT NULL,
      status_before TEXT NOT NULL,
      event_id      TEXT NOT NULL,
      position      INTEGER NOT NULL,
      recorded_at   TEXT NOT NULL,
      PRIMARY KEY (calendar_id, period_id, reopen_number)
    )`,
    // One row per payee frozen in a period: the frozen statement's digest and log position, and its payout.
    `CREATE TABLE IF NOT EXISTS payout_statements (
      calendar_id       TEXT NOT NULL,
      period_id         TEXT NOT NULL,
      payee_id          TEXT NOT NULL,
      starts_on         TEXT NOT NULL,
      status            TEXT NOT NULL,
      statement_digest  TEXT NOT NULL,
      log_position      INTEGER NOT NULL,
      currency          TEXT NOT NULL,
      net_payable       TEXT NOT NULL,
      draw_balance      TEXT NOT NULL,
      earnings_deficit  TEXT NOT NULL,
      figures           TEXT NOT NULL,
      posted_lines      TEXT NOT NULL,
      payout_id         TEXT NOT NULL,
      prepared_by       TEXT NOT NULL,
      closed_position   INTEGER NOT NULL,
      approved_by       TEXT,
      approved_position INTEGER,
      payroll_reference TEXT,
      paid_on           TEXT,
      paid_position     INTEGER,
      PRIMARY KEY (calendar_id, period_id, payee_id)
    )`,
    'CREATE INDEX IF NOT EXISTS payout_statements_payee ON payout_statements (calendar_id, payee_id, starts_on)',
    'CREATE INDEX IF NOT EXISTS payout_statements_payout ON payout_statements (payout_id)',
    `CREATE TABLE IF NOT EXISTS payout_posted_lines (
      calendar_id      TEXT NOT NULL,
      period_id        TEXT NOT NULL,
      line_id          TEXT NOT NULL,
      payee_id         TEXT NOT NULL,
      kind             TEXT NOT NULL,
      amount           TEXT NOT NULL,
      currency         TEXT NOT NULL,
      deal_id          TEXT,
      cause_kind       TEXT,
      cause_reference  TEXT,
      source_period_id TEXT,
      explanation      TEXT,
      line             TEXT NOT NULL,
      posted_by        TEXT NOT NULL,
      event_id         TEXT NOT NULL,
      position         INTEGER NOT NULL,
      PRIMARY KEY (calendar_id, period_id, line_id)
    )`,
    'CREATE INDEX IF NOT EXISTS payout_posted_lines_payee ON payout_posted_lines (payee_id, calendar_id, period_id)',
    'CREATE INDEX IF NOT EXISTS payout_posted_lines_source ON payout_posted_lines (calendar_id, source_period_id)',
    'CREATE INDEX IF NOT EXISTS payout_posted_lines_id ON payout_posted_lines (line_id)',
    `CREATE TABLE IF NOT EXISTS payout_clawback_waivers (
      assessment_id    TEXT PRIMARY KEY,
      calendar_id      TEXT NOT NULL,
      period_id        TEXT NOT NULL,
      payee_id         TEXT NOT NULL,
      deal_id          TEXT NOT NULL,
      source_period_id TEXT NOT NULL,
      outcome          TEXT NOT NULL,
      explanation      TEXT NOT NULL,
      evidence         TEXT NOT NULL,
      event_id         TEXT NOT NULL,
      position         INTEGER NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS payout_clawback_waivers_payee ON payout_clawback_waivers (payee_id, calendar_id, period_id)',
  ];
  for (const statement of ddl) await transaction.run(statement);
}

export async function dropPayoutTables(transaction: ReadModelTransaction): Promise<void> {
  for (const table of PAYOUT_TABLES) await transaction.run(`DROP TABLE IF EXISTS ${table}`);
}

export interface PayoutPeriodRow {
  calendar_id: string;
  period_id: string;
  stream_id: string;
  status: 'open' | 'closed' | 'approved' | 'paid';
  starts_on: string;
  ends_on: string;
  opened_by: string;
  prepared_by: string | null;
  closed_position: number | null;
  log_position: number | null;
  reopen_count: number;
  position: number;
}

export interface PayoutStatementRow {
  calendar_id: string;
  period_id: string;
  payee_id: string;
  starts_on: string;
  status: 'frozen' | 'approved' | 'paid';
  statement_digest: string;
  log_position: number;
  currency: string;
  net_payable: string;
  draw_balance: string;
  earnings_deficit: string;
  figures: string;
  posted_lines: string;
  payout_id: string;
  prepared_by: string;
  closed_position: number;
  approved_by: string | null;
  approved_position: number | null;
  payroll_reference: string | null;
  paid_on: string | null;
  paid_position: number | null;
}

export interface PostedLineRow {
  calendar_id: string;
  period_id: string;
  line_id: string;
  payee_id: string;
  kind: string;
  amount: string;
  currency: string;
  deal_id: string | null;
  cause_kind: string | null;
  cause_reference: string | null;
  source_period_id: string | null;
  explanation: string | null;
  /** The whole posted line as recorded (JSON), evidence included. */
  line: string;
  posted_by: string;
  event_id: string;
  position: number;
}

export interface ClawbackWaiverRow {
  assessment_id: string;
  calendar_id: string;
  period_id: string;
  payee_id: string;
  deal_id: string;
  source_period_id: string;
  outcome: string;
  explanation: string;
  evidence: string;
  event_id: string;
  position: number;
}
