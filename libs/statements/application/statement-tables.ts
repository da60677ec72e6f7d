import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import type { AttainmentEntry, CreditInput, HeldCredit, LineKind, LineSource, StatementLine, StatementTotals } from '#lib/commissions/domain/statement.js';
import type { ReadModelReader, ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import type { DealFacts } from '../domain/statement-inputs.js';

/**
 * The statements read model's tables: the inputs it keeps (credits as they stand, deal facts, plan versions,
 * assignments, quotas, FX rates, and which deals ever credited a payee) and the statements it computes (one
 * header row per payee-period and its lines). Money, rates and percentages are decimal TEXT; JSON columns hold
 * small structures (measure amounts, line sources, attainment, held credits, a plan version).
 */

export const STATEMENT_TABLES = [
  'statement_payees',
  'statement_pending_deals',
  'statement_credits',
  'statement_plan_versions',
  'statement_assignments',
  'statement_quotas',
  'statement_fx_rates',
  'statements',
  'statement_lines',
] as const;

export async function createStatementTables(transaction: ReadModelTransaction): Promise<void> {
  const ddl = [
    `CREATE TABLE IF NOT EXISTS statement_payees (
      payee_id TEXT PRIMARY KEY,
      currency TEXT NOT NULL,
      event_id TEXT NOT NULL,
      position INTEGER NOT NULL
    )`,
    // A deal closed whose credits have not been allocated yet (they always follow in the same append, but a batch
    // may end between the two): its amounts are only in the closing event. Once allocated, a deal's facts are in
    // its credits.
    `CREATE TABLE IF NOT EXISTS statement_pending_deals (
      deal_id   TEXT PRIMARY KEY,
      amount    TEXT NOT NULL,
      currency  TEXT NOT NULL,
      measures  TEXT NOT NULL,
      product   TEXT NOT NULL,
      deal_type TEXT NOT NULL
    ) WITHOUT ROWID`,
    // Every credit a payee ever held, as it last stood, with its deal's amounts, currency, product and type:
    // `current` = 0 once an amendment, a re-allocation or a cancellation took it back. So the table also says which
    // deals ever credited a payee: the deal streams an as-of reconstruction of the payee's statements has to read.
    `CREATE TABLE IF NOT EXISTS statement_credits (
      credit_id   TEXT PRIMARY KEY,
      payee_id    TEXT NOT NULL,
      deal_id     TEXT NOT NULL,
      kind        TEXT NOT NULL,
      share       TEXT NOT NULL,
      currency    TEXT NOT NULL,
      credit_date TEXT NOT NULL,
      amount      TEXT NOT NULL,
      measures    TEXT NOT NULL,
      product     TEXT,
      deal_type   TEXT,
      event_id    TEXT NOT NULL,
      position    INTEGER NOT NULL,
      current     INTEGER NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS statement_credits_payee_date ON statement_credits (payee_id, credit_date)',
    'CREATE INDEX IF NOT EXISTS statement_credits_currency_date ON statement_credits (currency, credit_date)',
    `CREATE TABLE IF NOT EXISTS statement_plan_versions (
      plan_id         TEXT NOT NULL,
      version         INTEGER NOT NULL,
      plan_version_id TEXT NOT NULL,
      status          TEXT NOT NULL,
      effective_from  TEXT NOT NULL,
      plan_version    TEXT NOT NULL,
      event_id        TEXT NOT NULL,
      position        INTEGER NOT NULL,
      PRIMARY KEY (plan_id, version)
    )`,
    `CREATE TABLE IF NOT EXISTS statement_assignments (
      payee_id        TEXT NOT NULL,
      assignment_id   TEXT NOT NULL,
      plan_id         TEXT NOT NULL,
      effective_from  TEXT NOT NULL,
      effective_until TEXT,
      event_id        TEXT NOT NULL,
      position        INTEGER NOT NULL,
      PRIMARY KEY (payee_id, assignment_id)
    )`,
    'CREATE INDEX IF NOT EXISTS statement_assignments_plan ON statement_assignments (plan_id, payee_id)',
    `CREATE TABLE IF NOT EXISTS statement_quotas (
      payee_id  TEXT NOT NULL,
      period_id TEXT NOT NULL,
      measure   TEXT NOT NULL,
      amount    TEXT NOT NULL,
      currency  TEXT NOT NULL,
      event_id  TEXT NOT NULL,
      position  INTEGER NOT NULL,
      PRIMARY KEY (payee_id, period_id, measure)
    )`,
    `CREATE TABLE IF NOT EXISTS statement_fx_rates (
      from_currency TEXT NOT NULL,
      to_currency   TEXT NOT NULL,
      rate_date     TEXT NOT NULL,
      rate          TEXT NOT NULL,
      event_id      TEXT NOT NULL,
      position      INTEGER NOT NULL,
      PRIMARY KEY (from_currency, to_currency, rate_date)
    )`,
    `CREATE TABLE IF NOT EXISTS statements (
      payee_id         TEXT NOT NULL,
      period_id        TEXT NOT NULL,
      period_start     TEXT NOT NULL,
      period_end       TEXT NOT NULL,
      status           TEXT NOT NULL,
      currency         TEXT NOT NULL,
      payable          TEXT NOT NULL,
      held             TEXT NOT NULL,
      totals           TEXT NOT NULL,
      attainment       TEXT NOT NULL,
      held_credits     TEXT NOT NULL,
      line_count       INTEGER NOT NULL,
      credit_count     INTEGER NOT NULL,
      last_position    INTEGER NOT NULL,
      error_code       TEXT,
      error_message    TEXT,
      PRIMARY KEY (payee_id, period_id)
    )`,
    `CREATE TABLE IF NOT EXISTS statement_lines (
      payee_id         TEXT NOT NULL,
      period_id        TEXT NOT NULL,
      line_no          INTEGER NOT NULL,
      line_id          TEXT NOT NULL,
      kind             TEXT NOT NULL,
      amount           TEXT NOT NULL,
      amount_unrounded TEXT NOT NULL,
      currency         TEXT NOT NULL,
      credit_id        TEXT,
      deal_id          TEXT,
      plan_version_id  TEXT,
      component_key    TEXT,
      tier             INTEGER,
      rate             TEXT,
      base_amount      TEXT,
      formula          TEXT NOT NULL,
      sources          TEXT NOT NULL,
      held_reason      TEXT,
      earned_as        TEXT,
      PRIMARY KEY (payee_id, period_id, line_no)
    )`,
  ];
  for (const statement of ddl) await transaction.run(statement);
}

export async function dropStatementTables(transaction: ReadModelTransaction): Promise<void> {
  for (const table of STATEMENT_TABLES) await transaction.run(`DROP TABLE IF EXISTS ${table}`);
}

export const CREDIT_COLUMNS = 'credit_id, payee_id, deal_id, kind, share, currency, credit_date, amount, measures, product, deal_type, event_id, position, current';

export interface CreditRow {
  credit_id: string;
  payee_id: string;
  deal_id: string;
  kind: 'primary' | 'overlay';
  share: string;
  currency: string;
  credit_date: string;
  amount: string;
  measures: string;
  product: string | null;
  deal_type: string | null;
  event_id: string;
  position: number;
  current: 0 | 1;
}

/** The credits of one deal share its measure amounts object: write its JSON once. */
const measuresJsonByObject = new WeakMap<object, string>();
function measuresJson(measures: Readonly<Record<string, string>> | undefined): string {
  if (measures === undefined) return '{}';
  let json = measuresJsonByObject.get(measures);
  if (json === undefined) {
    json = JSON.stringify(measures);
    measuresJsonByObject.set(measures, json);
  }
  return json;
}

export const creditRowValues = (payeeId: string, credit: CreditInput, current: boolean): SqlParameter[] => [
  credit.creditId,
  payeeId,
  credit.dealId,
  credit.kind,
  credit.share,
  credit.currency,
  credit.creditDate,
  credit.amount,
  measuresJson(credit.measureAmounts),
  credit.product ?? null,
  credit.dealType ?? null,
  credit.eventId,
  credit.position,
  current ? 1 : 0,
];

/** What a credit row says about its deal. */
export const dealFactsOfCredit = (credit: CreditInput): DealFacts => ({
  dealId: credit.dealId,
  amount: credit.amount,
  currency: credit.currency,
  measures: { ...(credit.measureAmounts ?? {}) },
  product: credit.product ?? '',
  dealType: credit.dealType ?? '',
});

export const creditInputOfRow = (row: CreditRow): CreditInput => ({
  creditId: row.credit_id,
  dealId: row.deal_id,
  eventId: row.event_id,
  position: row.position,
  amount: row.amount,
  currency: row.currency,
  creditDate: row.credit_date,
  measureAmounts: JSON.parse(row.measures) as Record<string, string>,
  product: row.product,
  dealType: row.deal_type,
  kind: row.kind,
  share: row.share,
});

/** A payee's current credits dated in [from, to], in the engine's input shape. */
export async function readCreditsBetween(reader: ReadModelReader, payeeId: string, from: string, to: string): Promise<CreditInput[]> {
  const rows = await reader.all<CreditRow>(
    `SELECT ${CREDIT_COLUMNS} FROM statement_credits WHERE payee_id = ? AND credit_date >= ? AND credit_date <= ? AND current = 1`,
    [payeeId, from, to],
  );
  return rows.map(creditInputOfRow);
}

export const LINE_COLUMNS =
  'payee_id, period_id, line_no, line_id, kind, amount, amount_unrounded, currency, credit_id, deal_id, plan_version_id, component_key, tier, rate, base_amount, formula, sources, held_reason, earned_as';

export interface LineRow {
  payee_id: string;
  period_id: string;
  line_no: number;
  line_id: string;
  kind: LineKind;
  amount: string;
  amount_unrounded: string;
  currency: string;
  credit_id: string | null;
  deal_id: string | null;
  plan_version_id: string | null;
  component_key: string | null;
  tier: number | null;
  rate: string | null;
  base_amount: string | null;
  formula: string;
  sources: string;
  held_reason: string | null;
  earned_as: string | null;
}

/** Lines of one statement to insert, numbered from `firstLineNumber`. */
export interface LinesToWrite {
  payeeId: string;
  periodId: string;
  firstLineNumber: number;
  lines: readonly StatementLine[];
}

const INSERT_LINE = `INSERT INTO statement_lines (${LINE_COLUMNS}) VALUES (${new Array(19).fill('?').join(', ')})`;

/**
 * Inserts lines, one prepared single-row statement run per line (`runMany`): a rebuild writes a row per line. Each
 * row's parameters are built just before it is written, so they die young.
 */
export async function insertLines(transaction: ReadModelTransaction, groups: readonly LinesToWrite[]): Promise<void> {
  if (groups.length > 0) await transaction.runMany(INSERT_LINE, lineRows(groups));
}

function* lineRows(groups: readonly LinesToWrite[]): Generator<SqlParameter[]> {
  for (const group of groups) {
    const { payeeId, periodId, firstLineNumber, lines } = group;
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!;
      yield [
        payeeId,
        periodId,
        firstLineNumber + index,
        line.lineId,
        line.kind,
        line.amount,
        line.amountUnrounded,
        line.currency,
        line.creditId,
        line.dealId,
        line.planVersionId,
        line.componentKey,
        line.tier,
        line.rate,
        line.baseAmount,
        line.formula,
        sourcesText(line.sources),
        line.heldReason ?? null,
        line.earnedAs ?? null,
      ];
    }
  }
}

/** Sources as JSON; most lines have the one source of their credit, written without JSON.stringify's overhead. */
export function sourcesText(sources: readonly LineSource[]): string {
  if (sources.length === 1) return `[{"eventId":${JSON.stringify(sources[0]!.eventId)},"position":${sources[0]!.position}}]`;
  return JSON.stringify(sources);
}

export function lineOfRow(row: LineRow): StatementLine {
  const line: StatementLine = {
    lineId: row.line_id,
    kind: row.kind,
    creditId: row.credit_id,
    dealId: row.deal_id,
    planVersionId: row.plan_version_id,
    componentKey: row.component_key,
    tier: row.tier,
    rate: row.rate,
    baseAmount: row.base_amount,
    formula: row.formula,
    amountUnrounded: row.amount_unrounded,
    amount: row.amount,
    currency: row.currency,
    sources: JSON.parse(row.sources) as LineSource[],
  };
  if (row.held_reason !== null) line.heldReason = row.held_reason as StatementLine['heldReason'];
  if (row.earned_as !== null) line.earnedAs = row.earned_as as StatementLine['earnedAs'];
  return line;
}

export const STATEMENT_COLUMNS =
  'payee_id, period_id, period_start, period_end, status, currency, payable, held, totals, attainment, held_credits, line_count, credit_count, last_position, error_code, error_message';

export type StatementStatus = 'computed' | 'failed';

export interface StatementRow {
  payee_id: string;
  period_id: string;
  period_start: string;
  period_end: string;
  status: StatementStatus;
  currency: string;
  payable: string;
  held: string;
  totals: string;
  attainment: string;
  held_credits: string;
  line_count: number;
  credit_count: number;
  last_position: number;
  error_code: string | null;
  error_message: string | null;
}

export interface StoredStatementHeader {
  totals: StatementTotals;
  attainment: AttainmentEntry[];
  heldCredits: HeldCredit[];
}

export interface PlanVersionRow {
  plan_id: string;
  version: number;
  plan_version_id: string;
  status: 'draft' | 'published';
  effective_from: string;
  plan_version: string;
  event_id: string;
  position: number;
}

export const planVersionOfRow = (row: Pick<PlanVersionRow, 'plan_version'>): PlanVersionInput => JSON.parse(row.plan_version) as PlanVersionInput;

export interface AssignmentRow {
  assignment_id: string;
  payee_id: string;
  plan_id: string;
  effective_from: string;
  effective_until: string | null;
  event_id: string;
  position: number;
}

export interface FxRateRow {
  from_currency: string;
  to_currency: string;
  rate_date: string;
  rate: string;
  event_id: string;
  position: number;
}

export interface QuotaRow {
  payee_id: string;
  period_id: string;
  measure: string;
  amount: string;
  currency: string;
  event_id: string;
  position: number;
}
