import type { ReadModelDb, ReadModelReader } from '#lib/projections/read-model.port.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import type { AttainmentEntry, CreditInput, FxRateInput, HeldCredit, PeriodInput, Statement, StatementInput, StatementTotals } from '#lib/commissions/domain/statement.js';
import {
  assignmentInputOf,
  fxRateInputOf,
  frequencyOfPeriodId,
  isStatementPeriodOf,
  periodOfId,
  quotaInputOf,
  statementPeriodIdOf,
  versionsByPlanOf,
  type DealFacts,
} from '../domain/statement-inputs.js';
import { explainLine, type LineExplanation } from '../domain/statement-explanation.js';
import { differenceOf, hypotheticalCredits, isHypotheticalLine, versionsWithCandidate, type HypotheticalDeal, type StatementDifference } from '../domain/what-if.js';
import { Money } from '#lib/shared/domain/money.js';
import {
  CREDIT_COLUMNS,
  LINE_COLUMNS,
  STATEMENT_COLUMNS,
  creditInputOfRow,
  dealFactsOfCredit,
  lineOfRow,
  planVersionOfRow,
  readCreditsBetween,
  type AssignmentRow,
  type CreditRow,
  type FxRateRow,
  type LineRow,
  type PlanVersionRow,
  type QuotaRow,
  type StatementRow,
} from './statement-tables.js';

/**
 * Read-side answers about commission statements: a statement as the read model holds it, one line explained,
 * a what-if estimate with hypothetical deals, and a plan version modelled over everyone on the plan. Estimates and
 * models compute from the read model's inputs with the commission engine and write nothing.
 */

export interface StatementView extends Statement {
  /** 'computed'; 'empty' when the period holds no credit (computed on the fly); 'failed' when the engine refused the inputs. */
  status: 'computed' | 'empty' | 'failed';
  creditCount: number;
  /** The highest log position among the credits the statement holds (0 without credits). */
  lastPosition: number;
  error: { code: string; message: string } | null;
}

export function requireStatementPeriod(periodId: string): PeriodInput {
  const period = periodOfId(periodId);
  if (period === null) {
    throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [
      { field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
    ]);
  }
  return period;
}

const payeeNotFound = (payeeId: string) => notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);

async function requirePayee(reader: ReadModelReader, payeeId: string): Promise<void> {
  const payee = await reader.get('SELECT payee_id FROM statement_payees WHERE payee_id = ?', [payeeId]);
  if (payee === undefined) throw payeeNotFound(payeeId);
}

/**
 * A payee's stored statement for a period with its lines, in one statement: a row per line in line order (the
 * statement's columns repeated, prefixed s_), one row with null line columns for a statement without lines, one row
 * with null statement columns when nothing is stored for the period, and no row when the payee is not onboarded.
 * Parameters: period id, payee id.
 */
const STATEMENT_WITH_LINES =
  `SELECT ${STATEMENT_COLUMNS.split(', ').map((column) => `s.${column} AS s_${column}`).join(', ')}, ${LINE_COLUMNS.split(', ').map((column) => `l.${column}`).join(', ')} ` +
  'FROM statement_payees p LEFT JOIN statements s ON s.payee_id = p.payee_id AND s.period_id = ? ' +
  'LEFT JOIN statement_lines l ON l.payee_id = s.payee_id AND l.period_id = s.period_id WHERE p.payee_id = ? ORDER BY l.line_no';

type Nullable<Row> = { [Column in keyof Row]: Row[Column] | null };
type StatementWithLinesRow = Nullable<LineRow> & { [Column in keyof StatementRow as `s_${Column}`]: StatementRow[Column] | null };

function statementRowOf(row: StatementWithLinesRow): StatementRow {
  return {
    payee_id: row.s_payee_id as string,
    period_id: row.s_period_id as string,
    period_start: row.s_period_start as string,
    period_end: row.s_period_end as string,
    status: row.s_status as StatementRow['status'],
    currency: row.s_currency as string,
    payable: row.s_payable as string,
    held: row.s_held as string,
    totals: row.s_totals as string,
    attainment: row.s_attainment as string,
    held_credits: row.s_held_credits as string,
    line_count: row.s_line_count as number,
    credit_count: row.s_credit_count as number,
    last_position: row.s_last_position as number,
    error_code: row.s_error_code,
    error_message: row.s_error_message,
  };
}

async function publishedVersions(reader: ReadModelReader): Promise<PlanVersionInput[]> {
  const rows = await reader.all<PlanVersionRow>("SELECT plan_version FROM statement_plan_versions WHERE status = 'published' ORDER BY plan_id, version");
  return rows.map(planVersionOfRow);
}

async function payeeAssignments(reader: ReadModelReader, payeeId: string): Promise<PlanAssignmentInput[]> {
  const rows = await reader.all<AssignmentRow>('SELECT * FROM statement_assignments WHERE payee_id = ? ORDER BY assignment_id', [payeeId]);
  const inputs: PlanAssignmentInput[] = [];
  for (const row of rows) {
    const input = assignmentInputOf({ assignmentId: row.assignment_id, payeeId: row.payee_id, planId: row.plan_id, effectiveFrom: row.effective_from, effectiveUntil: row.effective_until });
    if (input !== null) inputs.push(input);
  }
  return inputs;
}

async function fxRatesBetween(reader: ReadModelReader, period: PeriodInput): Promise<FxRateInput[]> {
  const rows = await reader.all<FxRateRow>('SELECT * FROM statement_fx_rates WHERE rate_date >= ? AND rate_date <= ?', [period.start, period.end]);
  return rows.map((row) => fxRateInputOf({ fromCurrency: row.from_currency, toCurrency: row.to_currency, date: row.rate_date, rate: row.rate }));
}

const quotasOf = (rows: readonly Pick<QuotaRow, 'period_id' | 'measure' | 'amount'>[]): QuotaInput[] =>
  rows.flatMap((row) => quotaInputOf(row.period_id, row.measure, row.amount) ?? []);

/** Everything the engine needs for one payee-period, from the read model, and whether the period is one of the payee's. */
async function readStatementInput(reader: ReadModelReader, payeeId: string, period: PeriodInput): Promise<{ input: StatementInput; isPayeePeriod: boolean }> {
  const planVersions = await publishedVersions(reader);
  const assignments = await payeeAssignments(reader, payeeId);
  const versionsByPlan = versionsByPlanOf(planVersions);
  const credits = (await readCreditsBetween(reader, payeeId, period.start, period.end)).filter(
    (credit) => statementPeriodIdOf(assignments, versionsByPlan, credit.creditDate) === period.id,
  );
  const quotas = quotasOf(await reader.all<QuotaRow>('SELECT period_id, measure, amount FROM statement_quotas WHERE payee_id = ? AND period_id = ? ORDER BY measure', [payeeId, period.id]));
  return {
    input: { payeeId, period, planVersions, assignments, quotas, fxRates: await fxRatesBetween(reader, period), credits },
    isPayeePeriod: isStatementPeriodOf(assignments, versionsByPlan, period),
  };
}

function statementOfRow(row: StatementRow, lines: readonly LineRow[]): StatementView {
  const totals = JSON.parse(row.totals) as StatementTotals;
  return {
    payeeId: row.payee_id,
    periodId: row.period_id,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    currency: row.currency,
    lines: lines.map(lineOfRow),
    totals: row.status === 'failed' ? emptyTotals(row.currency) : totals,
    attainment: JSON.parse(row.attainment) as AttainmentEntry[],
    heldCredits: JSON.parse(row.held_credits) as HeldCredit[],
    status: row.status,
    creditCount: row.credit_count,
    lastPosition: row.last_position,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
  };
}

function emptyTotals(currency: string): StatementTotals {
  return {
    currency,
    payable: '0',
    held: '0',
    byKind: { commission: '0', true_up: '0', spif: '0', bonus: '0', held: '0', release: '0', cap_adjustment: '0' },
  };
}

/**
 * A payee's statement for one period, as the read model holds it. A period of the payee's plan frequency without
 * any credit gets its (empty) statement computed on the fly, with the quota's attainment.
 */
export async function getStatement(db: ReadModelDb, query: { payeeId: string; periodId: string }): Promise<StatementView> {
  const period = requireStatementPeriod(query.periodId);
  // The hot path, a stored statement: one statement, one snapshot, one round trip.
  const rows = await db.query<StatementWithLinesRow>(STATEMENT_WITH_LINES, [query.periodId, query.payeeId]);
  const first = rows[0];
  if (first === undefined) throw payeeNotFound(query.payeeId);
  if (first.s_payee_id !== null) {
    // Rows that joined a line carry its columns, as statement_lines holds them (non-null where LineRow says so).
    return statementOfRow(statementRowOf(first), first.line_no === null ? [] : (rows as readonly LineRow[]));
  }
  return db.read(async (reader) => {
    await requirePayee(reader, query.payeeId);
    const { input, isPayeePeriod } = await readStatementInput(reader, query.payeeId, period);
    if (!isPayeePeriod) throw periodNotOfPlan(query.payeeId, period);
    const statement = computeStatement(input);
    return { ...statement, status: input.credits.length === 0 ? 'empty' : 'computed', creditCount: input.credits.length, lastPosition: 0, error: null };
  });
}

const periodNotOfPlan = (payeeId: string, period: PeriodInput) =>
  validationError('STATEMENT.PERIOD_NOT_OF_PLAN', `Payee ${payeeId} has no ${frequencyOfPeriodId(period.id)}ly statements around ${period.id}: their plan pays by another period`, [
    { field: 'periodId', message: "must be a period of the payee's plan frequency" },
  ]);

/** One line of a stored statement, explained down to the events it came from. */
export async function explainStatementLine(db: ReadModelDb, query: { payeeId: string; periodId: string; lineId: string }): Promise<LineExplanation> {
  requireStatementPeriod(query.periodId);
  return db.read(async (reader) => {
    await requirePayee(reader, query.payeeId);
    const statement = await reader.get<StatementRow>(`SELECT ${STATEMENT_COLUMNS} FROM statements WHERE payee_id = ? AND period_id = ?`, [query.payeeId, query.periodId]);
    const line = await reader.get<LineRow>(`SELECT ${LINE_COLUMNS} FROM statement_lines WHERE payee_id = ? AND period_id = ? AND line_id = ?`, [
      query.payeeId,
      query.periodId,
      query.lineId,
    ]);
    if (statement === undefined || line === undefined) {
      throw notFoundError('STATEMENT_LINE.NOT_FOUND', `Statement ${query.periodId} of ${query.payeeId} has no line ${query.lineId}`);
    }
    const statementLine = lineOfRow(line);
    const planVersionRow =
      line.plan_version_id === null
        ? undefined
        : await reader.get<PlanVersionRow>("SELECT plan_version, event_id, position FROM statement_plan_versions WHERE plan_version_id = ? AND status = 'published'", [line.plan_version_id]);
    const creditRow = line.credit_id === null ? undefined : await reader.get<CreditRow>(`SELECT ${CREDIT_COLUMNS} FROM statement_credits WHERE credit_id = ?`, [line.credit_id]);
    const credit = creditRow === undefined ? null : creditInputOfRow(creditRow);
    const deal: DealFacts | null = credit === null ? null : dealFactsOfCredit(credit);
    const fxRow =
      credit === null || credit.currency === statement.currency
        ? undefined
        : await reader.get<FxRateRow>('SELECT * FROM statement_fx_rates WHERE from_currency = ? AND to_currency = ? AND rate_date = ?', [credit.currency, statement.currency, credit.creditDate]);
    return explainLine({
      payeeId: query.payeeId,
      periodId: query.periodId,
      lineNumber: line.line_no + 1,
      line: statementLine,
      planVersion: planVersionRow === undefined ? null : planVersionOfRow(planVersionRow),
      planVersionSource: planVersionRow === undefined ? null : { eventId: planVersionRow.event_id, position: planVersionRow.position },
      credit,
      deal,
      attainment: JSON.parse(statement.attainment) as AttainmentEntry[],
      fxRate:
        fxRow === undefined
          ? null
          : { fromCurrency: fxRow.from_currency, toCurrency: fxRow.to_currency, date: fxRow.rate_date, rate: fxRow.rate, source: { eventId: fxRow.event_id, position: fxRow.position } },
    });
  });
}

export interface StatementEstimate {
  payeeId: string;
  periodId: string;
  /** The statement with the hypothetical deals added. */
  statement: Statement;
  /** The lines the hypothetical deals made (including true-ups, cap adjustments and releases they caused). */
  addedLines: Statement['lines'];
  difference: StatementDifference;
}

/** The payee's statement for a period as it would be with the hypothetical deals closed. Writes nothing. */
export async function estimateStatement(db: ReadModelDb, query: { payeeId: string; periodId: string; deals: readonly HypotheticalDeal[] }): Promise<StatementEstimate> {
  const period = requireStatementPeriod(query.periodId);
  return db.read(async (reader) => {
    await requirePayee(reader, query.payeeId);
    const { input, isPayeePeriod } = await readStatementInput(reader, query.payeeId, period);
    if (!isPayeePeriod) throw periodNotOfPlan(query.payeeId, period);
    const hypothetical = hypotheticalCredits(query.payeeId, period, query.deals);
    const before = computeStatement(input);
    const after = computeStatement({ ...input, credits: [...input.credits, ...hypothetical] });
    return {
      payeeId: query.payeeId,
      periodId: query.periodId,
      statement: after,
      addedLines: after.lines.filter(isHypotheticalLine),
      difference: differenceOf(before, after),
    };
  });
}

export interface PayeeModel {
  payeeId: string;
  currency: string;
  currentPayable: string;
  modeledPayable: string;
  difference: string;
}

export interface PlanModel {
  planId: string;
  version: number;
  planVersionId: string;
  status: 'draft' | 'published';
  periodId: string;
  /** One row per payee assigned to the plan during the period, in payee order. */
  payees: PayeeModel[];
  /** Sums over the payees, per currency. */
  totals: { currency: string; currentPayable: string; modeledPayable: string; difference: string }[];
}

/**
 * What a plan version (a draft, or a published one) would pay every payee assigned to its plan in a period,
 * against what the published versions pay now. Both sides are computed from the same inputs. Writes nothing.
 */
export async function modelPlanVersion(db: ReadModelDb, query: { planId: string; version: number; periodId: string }): Promise<PlanModel> {
  const period = requireStatementPeriod(query.periodId);
  return db.read(async (reader) => {
    const row = await reader.get<PlanVersionRow>('SELECT * FROM statement_plan_versions WHERE plan_id = ? AND version = ?', [query.planId, query.version]);
    if (row === undefined) throw notFoundError('PLAN_VERSION.NOT_FOUND', `Plan ${query.planId} has no version ${query.version}`);
    const candidate = planVersionOfRow(row);
    if (frequencyOfPeriodId(period.id) !== candidate.periodFrequency) {
      throw validationError('MODEL.PERIOD_NOT_OF_PLAN', `Plan ${query.planId} version ${query.version} pays by ${candidate.periodFrequency}; ${period.id} is not such a period`, [
        { field: 'periodId', message: `must be a ${candidate.periodFrequency} period such as ${candidate.periodFrequency === 'month' ? '2026-03' : candidate.periodFrequency === 'quarter' ? '2026-Q1' : '2026'}` },
      ]);
    }
    const published = await publishedVersions(reader);
    const modeled = versionsWithCandidate(published, candidate);
    const assignmentRows = await reader.all<AssignmentRow>(
      `SELECT * FROM statement_assignments WHERE payee_id IN (
         SELECT payee_id FROM statement_assignments WHERE plan_id = ? AND effective_from <= ? AND (effective_until IS NULL OR effective_until > ?))
       ORDER BY payee_id, assignment_id`,
      [query.planId, period.end, period.start],
    );
    const assignments: PlanAssignmentInput[] = [];
    const payeeIds = new Set<string>();
    for (const assignment of assignmentRows) {
      const input = assignmentInputOf({
        assignmentId: assignment.assignment_id,
        payeeId: assignment.payee_id,
        planId: assignment.plan_id,
        effectiveFrom: assignment.effective_from,
        effectiveUntil: assignment.effective_until,
      });
      if (input === null) continue;
      assignments.push(input);
      if (input.planId === query.planId && input.effectiveFrom <= period.end && (input.effectiveUntil === null || input.effectiveUntil > period.start)) payeeIds.add(input.payeeId);
    }
    const creditRows = await reader.all<CreditRow>(
      `SELECT ${CREDIT_COLUMNS} FROM statement_credits WHERE credit_date >= ? AND credit_date <= ? AND current = 1 AND payee_id IN (
         SELECT payee_id FROM statement_assignments WHERE plan_id = ? AND effective_from <= ? AND (effective_until IS NULL OR effective_until > ?))`,
      [period.start, period.end, query.planId, period.end, period.start],
    );
    const creditsByPayee = groupBy(creditRows, (credit) => credit.payee_id);
    const quotaRows = await reader.all<QuotaRow>(
      `SELECT payee_id, period_id, measure, amount FROM statement_quotas WHERE period_id = ? AND payee_id IN (
         SELECT payee_id FROM statement_assignments WHERE plan_id = ?) ORDER BY payee_id, measure`,
      [period.id, query.planId],
    );
    const quotasByPayee = groupBy(quotaRows, (quota) => quota.payee_id);
    const fxRates = await fxRatesBetween(reader, period);
    const assignmentsByPayee = groupBy(assignments, (assignment) => assignment.payeeId);
    const currentByPlan = versionsByPlanOf(published);
    const modeledByPlan = versionsByPlanOf(modeled);

    const payees: PayeeModel[] = [];
    for (const payeeId of [...payeeIds].sort()) {
      const ofPayee = assignmentsByPayee.get(payeeId) ?? [];
      const credits = (creditsByPayee.get(payeeId) ?? []).map(creditInputOfRow);
      const quotas = quotasOf(quotasByPayee.get(payeeId) ?? []);
      const inPeriod = (byPlan: Map<string, PlanVersionInput[]>): CreditInput[] =>
        credits.filter((credit) => statementPeriodIdOf(ofPayee, byPlan, credit.creditDate) === period.id);
      const base = { payeeId, period, assignments, quotas, fxRates };
      const current = computeStatement({ ...base, planVersions: published, credits: inPeriod(currentByPlan) });
      const model = computeStatement({ ...base, planVersions: modeled, credits: inPeriod(modeledByPlan) });
      const difference = differenceOf(current, model);
      payees.push({ payeeId, currency: model.currency, currentPayable: difference.payableBefore, modeledPayable: difference.payableAfter, difference: difference.payableDifference });
    }
    return { planId: query.planId, version: query.version, planVersionId: candidate.id, status: row.status, periodId: period.id, payees, totals: totalsByCurrency(payees) };
  });
}

function groupBy<Item>(items: readonly Item[], keyOf: (item: Item) => string): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

function totalsByCurrency(payees: readonly PayeeModel[]): PlanModel['totals'] {
  const sums = new Map<string, { current: InstanceType<typeof Money>; modeled: InstanceType<typeof Money>; digits: number }>();
  for (const payee of payees) {
    const digits = payee.modeledPayable.includes('.') ? payee.modeledPayable.length - payee.modeledPayable.indexOf('.') - 1 : 0;
    const sum = sums.get(payee.currency) ?? { current: new Money(0), modeled: new Money(0), digits };
    sum.current = sum.current.plus(payee.currentPayable);
    sum.modeled = sum.modeled.plus(payee.modeledPayable);
    sums.set(payee.currency, sum);
  }
  return [...sums.entries()]
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([currency, sum]) => ({
      currency,
      currentPayable: sum.current.toFixed(sum.digits),
      modeledPayable: sum.modeled.toFixed(sum.digits),
      difference: sum.modeled.minus(sum.current).toFixed(sum.digits),
    }));
}
