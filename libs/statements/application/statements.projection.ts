import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import { insertRows } from '#lib/projections/sql-rows.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import type { PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import type { CreditInput, FxRateInput, PeriodInput, StatementLine } from '#lib/commissions/domain/statement.js';
import {
  applyCredit,
  compareCredits,
  lineCountOf,
  sortsAfterLastApplied,
  startPeriod,
  statementSummaryOf,
  type CommissionPeriodState,
  type PeriodOptions,
  type StatementSummary,
} from '#lib/commissions/domain/commission-engine.js';
import type { Credit } from '#lib/crediting/domain/deal.decider.js';
import {
  assignmentInputOf,
  creditInputOf,
  fxRateInputOf,
  periodOfId,
  quotaInputOf,
  statementPeriodIdOf,
  versionsByPlanOf,
  type AssignmentRecord,
  type DealFacts,
} from '../domain/statement-inputs.js';
import { STATEMENT_SOURCE_EVENT_TYPES, type SourceRef, type StatementSourceEvent } from '../domain/statement-sources.js';
import {
  CREDIT_COLUMNS,
  STATEMENT_TABLES,
  createStatementTables,
  creditInputOfRow,
  creditRowValues,
  dealFactsOfCredit,
  dropStatementTables,
  insertLines,
  planVersionOfRow,
  type AssignmentRow,
  type CreditRow,
  type FxRateRow,
  type PlanVersionRow,
  type QuotaRow,
} from './statement-tables.js';

/**
 * The commission statements read model: every payee-period's statement (lines, totals, attainment, held credits),
 * kept current from the log by the commission engine, with the inputs it was computed from.
 *
 * How it stays fast:
 * - `apply` only records what changed: credit rows to write, and which payee-periods are dirty, either with the
 *   credits a deal has just added (pure additions) or as needing a full recompute (a credit taken back or moved,
 *   a quota, plan, assignment or FX change).
 * - `flush` (once per batch) writes the inputs, then recomputes each dirty payee-period once. A period whose engine
 *   state is in memory and whose new credits all sort after the last one applied is advanced with `applyCredit`,
 *   and only its new lines are inserted (the engine only ever appends lines). Otherwise the period is recomputed
 *   from its stored credits and its lines rewritten. Engine states are kept for the most recently used periods
 *   and rebuilt from the stored credits when needed again (after a restart, an eviction, a rolled-back batch).
 * - Plan versions, assignments and FX rates are few: they are held in memory in full, and shared by every
 *   statement as the same arrays (the engine indexes them once per array).
 *
 * What dirties what: a published plan version, every payee assigned to the plan, from the start of the year of
 * its effective date (a new period frequency can regroup credits); an assignment or its end, that payee likewise;
 * a quota, the statement of the same period id; an FX rate, the statements holding a credit in that currency on
 * that date. A statement exists while its period holds at least one credit.
 *
 * A statement the engine refuses to compute (a plan that does not validate, a duplicate credit id) is stored with
 * status 'failed' and the error's code rather than stopping every read model.
 *
 * Use one instance per read-model database: it caches that database's rows.
 */

export const STATEMENTS_PROJECTION_NAME = 'statements';

export interface StatementsProjectionOptions {
  /** Most payee-period engine states kept in memory. Default 20,000. */
  engineStatesCached?: number;
  /** Most deals whose facts are kept in memory between batches. Default 100,000. */
  dealsCached?: number;
}

type SourcedEvent = StatementSourceEvent & RecordedEvent;

interface EngineEntry {
  payeeId: string;
  periodId: string;
  state: CommissionPeriodState;
  /** The period's current credits by credit id. */
  credits: Map<string, CreditInput>;
  /** The FX table the state was started with: a foreign-currency credit needs the current one. */
  fxRates: readonly FxRateInput[];
  /** Lines stored for the period (= lines in the state). */
  lineCount: number;
}

interface DirtyStatement {
  payeeId: string;
  periodId: string;
  period: PeriodInput;
  /** Credits added since the last flush; meaningful only when not `full`. */
  added: CreditInput[];
  full: boolean;
  /**
   * Its credits may be stored under another period (the payee's periods were regrouped): read them from the table
   * even when the period has no stored statement.
   */
  regrouped: boolean;
}

/** What one batch changed; written at flush, forgotten at discard. */
class Batch {
  readonly payees = new Map<string, SqlParameter[]>();
  /** Deals allocated in this batch that were stored as pending. */
  readonly pendingDealsAllocated = new Set<string>();
  /** Credit rows by credit id, current or taken back; null: taken back, and not otherwise changed in this batch. */
  readonly credits = new Map<string, { payeeId: string; credit: CreditInput; current: boolean } | null>();
  readonly planVersions = new Map<string, SqlParameter[]>();
  readonly assignments = new Map<string, SqlParameter[]>();
  readonly quotas = new Map<string, SqlParameter[]>();
  readonly fxRates = new Map<string, SqlParameter[]>();
  /** Payees whose statements are regrouped and recomputed from a date on. */
  readonly restructure = new Map<string, string>();
  readonly fxChanges: { fromCurrency: string; date: string }[] = [];
  /** Dirty statements by payee, then period id. */
  readonly dirty = new Map<string, Map<string, DirtyStatement>>();
  assignmentsChanged = false;
  fxChanged = false;
}

const UPSERT_CREDIT = `INSERT INTO statement_credits (${CREDIT_COLUMNS}) VALUES (${CREDIT_COLUMNS.split(',').map(() => '?').join(', ')})
  ON CONFLICT (credit_id) DO UPDATE SET payee_id = excluded.payee_id, deal_id = excluded.deal_id, kind = excluded.kind, share = excluded.share,
    currency = excluded.currency, credit_date = excluded.credit_date, amount = excluded.amount, measures = excluded.measures,
    product = excluded.product, deal_type = excluded.deal_type, event_id = excluded.event_id, position = excluded.position,
    current = excluded.current`;

/** A batch's credit rows to write, each built just before it is written (so its parameters die young). */
function* creditRowsOf(credits: Iterable<{ payeeId: string; credit: CreditInput; current: boolean } | null>): Generator<SqlParameter[]> {
  for (const row of credits) if (row !== null) yield creditRowValues(row.payeeId, row.credit, row.current);
}

/** `<update or delete> WHERE column IN (...)` for many keys, a few hundred at a time. */
async function updateWhereIn(transaction: ReadModelTransaction, update: string, column: string, keys: readonly SqlParameter[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 256) {
    const chunk = keys.slice(start, start + 256);
    await transaction.run(`${update} WHERE ${column} IN (${chunk.map(() => '?').join(', ')})`, chunk);
  }
}

const earlierDate = (left: string, right: string): string => (left < right ? left : right);

/** Engine states are kept for thousands of periods; each line is stored when it is made, so they keep none. */
const KEEP_NO_LINES: PeriodOptions = { keepLines: false };

/** How statements were brought up to date since the projection was created: for tests and benchmarks. */
export interface StatementRecomputeCounts {
  /** Advanced in memory with the new credits; only new lines written. */
  advanced: number;
  /** Engine state rebuilt from stored credits, then advanced; only new lines written. */
  resumed: number;
  /** Recomputed from all credits; lines rewritten. */
  recomputed: number;
  /** Left without credits: deleted. */
  deleted: number;
}

export interface StatementsProjection extends Projection {
  readonly counts: StatementRecomputeCounts;
}

export function createStatementsProjection(options: StatementsProjectionOptions = {}): StatementsProjection {
  const engineStatesCached = options.engineStatesCached ?? 20_000;
  const dealsCached = options.dealsCached ?? 100_000;

  // Inputs held in full, as committed plus this batch. Rebuilt from the tables after a rolled-back batch.
  let loaded = false;
  const publishedVersions = new Map<string, PlanVersionInput>();
  const assignmentRecords = new Map<string, AssignmentRecord>();
  const assignmentRecordsByPayee = new Map<string, Map<string, AssignmentRecord>>();
  const fxRateInputs = new Map<string, FxRateInput>();
  /** Periods with a stored statement, by payee. */
  const statementPeriods = new Map<string, Set<string>>();
  // Derived views, shared by every statement until the next change.
  let planVersions: PlanVersionInput[] = [];
  let versionsByPlan = new Map<string, PlanVersionInput[]>();
  let assignments: PlanAssignmentInput[] = [];
  let assignmentsByPayee = new Map<string, PlanAssignmentInput[]>();
  let fxRates: FxRateInput[] = [];

  const counts: StatementRecomputeCounts = { advanced: 0, resumed: 0, recomputed: 0, deleted: 0 };
  const dealFacts = new Map<string, DealFacts>();
  /** Deals closed and not yet allocated; those stored as such by an earlier batch are in `pendingDealsStored`. */
  const pendingDeals = new Map<string, DealFacts>();
  const pendingDealsStored = new Set<string>();
  /** Engine states, least recently used first. */
  const engines = new Map<string, EngineEntry>();
  let batch = new Batch();

  const statementKey = (payeeId: string, periodId: string): string => `${payeeId}|${periodId}`;

  function rebuildPlanViews(): void {
    planVersions = [...publishedVersions.values()];
    versionsByPlan = versionsByPlanOf(planVersions);
  }

  function rebuildAssignmentViews(): void {
    assignments = [];
    assignmentsByPayee = new Map();
    for (const record of assignmentRecords.values()) {
      const input = assignmentInputOf(record);
      if (input === null) continue;
      assignments.push(input);
      const list = assignmentsByPayee.get(input.payeeId);
      if (list === undefined) assignmentsByPayee.set(input.payeeId, [input]);
      else list.push(input);
    }
  }

  // Assignment ids are unique per payee (the plans context derives them from plan and start date).
  const assignmentKey = (payeeId: string, assignmentId: string): string => `${payeeId}|${assignmentId}`;

  function setAssignment(record: AssignmentRecord): void {
    assignmentRecords.set(assignmentKey(record.payeeId, record.assignmentId), record);
    let ofPayee = assignmentRecordsByPayee.get(record.payeeId);
    if (ofPayee === undefined) {
      ofPayee = new Map();
      assignmentRecordsByPayee.set(record.payeeId, ofPayee);
    }
    ofPayee.set(record.assignmentId, record);
    const list: PlanAssignmentInput[] = [];
    for (const each of ofPayee.values()) {
      const input = assignmentInputOf(each);
      if (input !== null) list.push(input);
    }
    assignmentsByPayee.set(record.payeeId, list);
  }

  const periodIdOf = (payeeId: string, date: string): string => statementPeriodIdOf(assignmentsByPayee.get(payeeId) ?? [], versionsByPlan, date);

  function forgetInputs(): void {
    loaded = false;
    publishedVersions.clear();
    assignmentRecords.clear();
    assignmentRecordsByPayee.clear();
    fxRateInputs.clear();
    statementPeriods.clear();
    dealFacts.clear();
    pendingDeals.clear();
    pendingDealsStored.clear();
    engines.clear();
  }

  function forgetAll(): void {
    forgetInputs();
    batch = new Batch();
    batchCreditsByStatement = null;
  }

  async function load(transaction: ReadModelTransaction): Promise<void> {
    forgetInputs();
    for (const row of await transaction.all<PlanVersionRow>("SELECT plan_id, version, plan_version FROM statement_plan_versions WHERE status = 'published'")) {
      publishedVersions.set(`${row.plan_id}#${row.version}`, planVersionOfRow(row));
    }
    for (const row of await transaction.all<AssignmentRow>('SELECT assignment_id, payee_id, plan_id, effective_from, effective_until FROM statement_assignments')) {
      setAssignment({
        assignmentId: row.assignment_id,
        payeeId: row.payee_id,
        planId: row.plan_id,
        effectiveFrom: row.effective_from,
        effectiveUntil: row.effective_until,
      });
    }
    for (const row of await transaction.all<FxRateRow>('SELECT from_currency, to_currency, rate_date, rate FROM statement_fx_rates')) {
      fxRateInputs.set(`${row.from_currency}|${row.to_currency}|${row.rate_date}`, fxRateInputOf({ fromCurrency: row.from_currency, toCurrency: row.to_currency, date: row.rate_date, rate: row.rate }));
    }
    for (const row of await transaction.all<{ deal_id: string; amount: string; currency: string; measures: string; product: string; deal_type: string }>(
      'SELECT deal_id, amount, currency, measures, product, deal_type FROM statement_pending_deals',
    )) {
      const deal = { dealId: row.deal_id, amount: row.amount, currency: row.currency, measures: JSON.parse(row.measures) as Record<string, string>, product: row.product, dealType: row.deal_type };
      pendingDeals.set(deal.dealId, deal);
      pendingDealsStored.add(deal.dealId);
    }
    for (const row of await transaction.all<{ payee_id: string; period_id: string }>('SELECT payee_id, period_id FROM statements')) {
      addStatementPeriod(row.payee_id, row.period_id);
    }
    rebuildPlanViews();
    rebuildAssignmentViews();
    fxRates = [...fxRateInputs.values()];
    loaded = true;
  }

  function addStatementPeriod(payeeId: string, periodId: string): void {
    let periods = statementPeriods.get(payeeId);
    if (periods === undefined) {
      periods = new Set();
      statementPeriods.set(payeeId, periods);
    }
    periods.add(periodId);
  }

  // ---- apply: record what changed ----

  function dirtyOf(payeeId: string, periodId: string): DirtyStatement {
    let byPeriod = batch.dirty.get(payeeId);
    if (byPeriod === undefined) {
      byPeriod = new Map();
      batch.dirty.set(payeeId, byPeriod);
    }
    let dirty = byPeriod.get(periodId);
    if (dirty === undefined) {
      const period = periodOfId(periodId);
      if (period === null) throw new Error(`Not a statement period id: ${periodId}`);
      dirty = { payeeId, periodId, period, added: [], full: false, regrouped: false };
      byPeriod.set(periodId, dirty);
    }
    return dirty;
  }

  function markFull(payeeId: string, periodId: string): void {
    const dirty = dirtyOf(payeeId, periodId);
    dirty.full = true;
    dirty.added = [];
  }

  function restructure(payeeId: string, fromDate: string): void {
    const earlier = batch.restructure.get(payeeId);
    batch.restructure.set(payeeId, earlier === undefined ? fromDate : earlierDate(earlier, fromDate));
  }

  function removeCredit(credit: Credit): void {
    const written = batch.credits.get(credit.creditId);
    batch.credits.set(credit.creditId, written ? { ...written, current: false } : null);
    const periodId = periodIdOf(credit.payeeId, credit.creditDate);
    markFull(credit.payeeId, periodId);
    engines.get(statementKey(credit.payeeId, periodId))?.credits.delete(credit.creditId);
  }

  function addCredit(credit: Credit, deal: DealFacts, source: SourceRef): void {
    const input = creditInputOf(credit, deal, source);
    batch.credits.set(credit.creditId, { payeeId: credit.payeeId, credit: input, current: true });
    const periodId = periodIdOf(credit.payeeId, credit.creditDate);
    const dirty = dirtyOf(credit.payeeId, periodId);
    if (!dirty.full) dirty.added.push(input);
    engines.get(statementKey(credit.payeeId, periodId))?.credits.set(credit.creditId, input);
  }

  function replaceCredits(previous: readonly Credit[], next: readonly Credit[], deal: DealFacts | null, source: SourceRef): void {
    for (const credit of previous) removeCredit(credit);
    if (next.length === 0) return;
    if (deal === null) throw new Error(`Credits of deal ${next[0]!.dealId} arrived before the deal closed`);
    for (const credit of next) addCredit(credit, deal, source);
  }

  /** A deal's facts from one of its credits (in this batch, or stored), when they are not in memory. */
  async function loadDeal(transaction: ReadModelTransaction, dealId: string, credits: readonly Credit[]): Promise<void> {
    const creditId = credits[0]?.creditId;
    const inBatch = creditId === undefined ? undefined : batch.credits.get(creditId);
    if (inBatch) {
      dealFacts.set(dealId, dealFactsOfCredit(inBatch.credit));
      return;
    }
    const row = creditId === undefined ? undefined : await transaction.get<CreditRow>(`SELECT ${CREDIT_COLUMNS} FROM statement_credits WHERE credit_id = ?`, [creditId]);
    if (row === undefined) throw new Error(`Deal ${dealId} changed before it was closed won`);
    dealFacts.set(dealId, dealFactsOfCredit(creditInputOfRow(row)));
  }

  function applyEvent(event: SourcedEvent, transaction: ReadModelTransaction): void | Promise<void> {
    const source: SourceRef = { eventId: event.eventId, position: event.position };
    switch (event.type) {
      case 'PayeeOnboarded':
        batch.payees.set(event.data.payeeId, [event.data.payeeId, event.data.currency, event.eventId, event.position]);
        return;
      case 'QuotaSet': {
        const { payeeId, periodId, measure, amount, currency } = event.data;
        batch.quotas.set(`${payeeId}|${periodId}|${measure}`, [payeeId, periodId, measure, amount, currency, event.eventId, event.position]);
        if (statementPeriods.get(payeeId)?.has(periodId) || batch.dirty.get(payeeId)?.has(periodId)) markFull(payeeId, periodId);
        return;
      }
      case 'DealClosedWon': {
        const { dealId, amount, currency, measures, product, dealType } = event.data;
        const deal: DealFacts = { dealId, amount, currency, measures, product, dealType };
        dealFacts.set(dealId, deal);
        pendingDeals.set(dealId, deal);
        return;
      }
      case 'CreditsAllocated': {
        const { dealId } = event.data;
        const deal = dealFacts.get(dealId) ?? pendingDeals.get(dealId);
        if (deal === undefined && event.data.credits.length > 0) return loadDeal(transaction, dealId, event.data.previousCredits).then(() => applyEvent(event, transaction));
        if (pendingDeals.delete(dealId) && pendingDealsStored.delete(dealId)) batch.pendingDealsAllocated.add(dealId);
        replaceCredits(event.data.previousCredits, event.data.credits, deal ?? null, source);
        return;
      }
      case 'DealAmended': {
        const previous = dealFacts.get(event.data.dealId);
        if (previous === undefined) return loadDeal(transaction, event.data.dealId, event.data.previousCredits).then(() => applyEvent(event, transaction));
        const deal = { ...previous, amount: event.data.amount, measures: event.data.measures, product: event.data.product };
        dealFacts.set(deal.dealId, deal);
        replaceCredits(event.data.previousCredits, event.data.credits, deal, source);
        return;
      }
      case 'DealCancelled':
        replaceCredits(event.data.reversedCredits, [], null, source);
        return;
      case 'PlanVersionDrafted':
      case 'PlanDraftRevised':
      case 'PlanVersionPublished': {
        const { planId, version, planVersion } = event.data;
        const key = `${planId}#${version}`;
        const published = event.type === 'PlanVersionPublished';
        // A draft never replaces the version it became once published.
        if (!published && publishedVersions.has(key)) return;
        batch.planVersions.set(key, [
          planId,
          version,
          planVersion.id,
          published ? 'published' : 'draft',
          planVersion.effectiveFrom,
          JSON.stringify(planVersion),
          event.eventId,
          event.position,
        ]);
        if (!published) return;
        publishedVersions.set(key, planVersion);
        // The views must be current for the periods of credits that follow in this batch.
        rebuildPlanViews();
        for (const record of assignmentRecords.values()) if (record.planId === planId) restructure(record.payeeId, planVersion.effectiveFrom);
        return;
      }
      case 'PlanAssigned': {
        const { assignmentId, payeeId, planId, effectiveFrom, effectiveUntil } = event.data;
        const record: AssignmentRecord = { assignmentId, payeeId, planId, effectiveFrom, effectiveUntil };
        setAssignment(record);
        batch.assignments.set(assignmentKey(payeeId, assignmentId), [record.assignmentId, record.payeeId, record.planId, record.effectiveFrom, record.effectiveUntil, event.eventId, event.position]);
        batch.assignmentsChanged = true;
        restructure(record.payeeId, record.effectiveFrom);
        return;
      }
      case 'PlanAssignmentEnded': {
        const existing = assignmentRecords.get(assignmentKey(event.data.payeeId, event.data.assignmentId));
        if (existing === undefined) return;
        const record: AssignmentRecord = { ...existing, effectiveUntil: event.data.effectiveUntil };
        setAssignment(record);
        batch.assignments.set(assignmentKey(record.payeeId, record.assignmentId), [record.assignmentId, record.payeeId, record.planId, record.effectiveFrom, record.effectiveUntil, event.eventId, event.position]);
        batch.assignmentsChanged = true;
        // Shortened or extended, the assignment changed from the earlier of its old and new end.
        restructure(record.payeeId, existing.effectiveUntil === null ? record.effectiveUntil! : earlierDate(existing.effectiveUntil, event.data.effectiveUntil));
        return;
      }
      case 'FxRateRecorded': {
        const { fromCurrency, toCurrency, date, rate } = event.data;
        const key = `${fromCurrency}|${toCurrency}|${date}`;
        fxRateInputs.set(key, fxRateInputOf(event.data));
        batch.fxRates.set(key, [fromCurrency, toCurrency, date, rate, event.eventId, event.position]);
        batch.fxChanged = true;
        batch.fxChanges.push({ fromCurrency, date });
        return;
      }
      default:
        assertNever(event);
    }
  }

  // ---- flush: write inputs, recompute dirty statements once ----

  async function writeInputs(transaction: ReadModelTransaction): Promise<void> {
    await insertRows(transaction, 'INSERT INTO statement_payees (payee_id, currency, event_id, position)', [...batch.payees.values()], 'ON CONFLICT (payee_id) DO NOTHING');
    const pendingToStore: SqlParameter[][] = [];
    for (const deal of pendingDeals.values()) {
      if (pendingDealsStored.has(deal.dealId)) continue;
      pendingDealsStored.add(deal.dealId);
      pendingToStore.push([deal.dealId, deal.amount, deal.currency, JSON.stringify(deal.measures), deal.product, deal.dealType]);
    }
    await insertRows(transaction, 'INSERT INTO statement_pending_deals (deal_id, amount, currency, measures, product, deal_type)', pendingToStore, 'ON CONFLICT (deal_id) DO NOTHING');
    await updateWhereIn(transaction, 'DELETE FROM statement_pending_deals', 'deal_id', [...batch.pendingDealsAllocated]);
    const takenBack: string[] = [];
    for (const [creditId, row] of batch.credits) if (row === null) takenBack.push(creditId);
    await transaction.runMany(UPSERT_CREDIT, creditRowsOf(batch.credits.values()));
    await updateWhereIn(transaction, 'UPDATE statement_credits SET current = 0', 'credit_id', takenBack);
    await insertRows(
      transaction,
      'INSERT INTO statement_plan_versions (plan_id, version, plan_version_id, status, effective_from, plan_version, event_id, position)',
      [...batch.planVersions.values()],
      `ON CONFLICT (plan_id, version) DO UPDATE SET plan_version_id = excluded.plan_version_id, status = excluded.status,
         effective_from = excluded.effective_from, plan_version = excluded.plan_version, event_id = excluded.event_id, position = excluded.position`,
    );
    await insertRows(
      transaction,
      'INSERT INTO statement_assignments (assignment_id, payee_id, plan_id, effective_from, effective_until, event_id, position)',
      [...batch.assignments.values()],
      `ON CONFLICT (payee_id, assignment_id) DO UPDATE SET effective_until = excluded.effective_until, event_id = excluded.event_id, position = excluded.position`,
    );
    await insertRows(
      transaction,
      'INSERT INTO statement_quotas (payee_id, period_id, measure, amount, currency, event_id, position)',
      [...batch.quotas.values()],
      `ON CONFLICT (payee_id, period_id, measure) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
         event_id = excluded.event_id, position = excluded.position`,
    );
    await insertRows(
      transaction,
      'INSERT INTO statement_fx_rates (from_currency, to_currency, rate_date, rate, event_id, position)',
      [...batch.fxRates.values()],
      `ON CONFLICT (from_currency, to_currency, rate_date) DO UPDATE SET rate = excluded.rate, event_id = excluded.event_id, position = excluded.position`,
    );
  }

  /** Every statement of a restructured payee from the start of the year of the change is regrouped and recomputed. */
  async function expandRestructure(transaction: ReadModelTransaction, payeeId: string, fromDate: string): Promise<void> {
    const periods = statementPeriods.get(payeeId);
    if (periods === undefined || periods.size === 0) {
      // No stored statement, so no stored credit: only this batch's credits are regrouped, in memory.
      regroupAdded(payeeId);
      return;
    }
    const from = `${fromDate.slice(0, 4)}-01-01`;
    for (const periodId of periods) {
      if (periodOfId(periodId)!.end >= from) markFull(payeeId, periodId);
    }
    for (const dirty of batch.dirty.get(payeeId)?.values() ?? []) markFull(payeeId, dirty.periodId);
    const rows = await transaction.all<{ credit_date: string }>('SELECT DISTINCT credit_date FROM statement_credits WHERE payee_id = ? AND credit_date >= ? AND current = 1', [payeeId, from]);
    for (const row of rows) markFull(payeeId, periodIdOf(payeeId, row.credit_date));
    for (const dirty of batch.dirty.get(payeeId)?.values() ?? []) dirty.regrouped = true;
  }

  /** Moves the credits this batch added for a payee without stored statements to the periods they now fall in. */
  function regroupAdded(payeeId: string): void {
    const byPeriod = batch.dirty.get(payeeId);
    if (byPeriod === undefined) return;
    const added: CreditInput[] = [];
    for (const [periodId, dirty] of [...byPeriod]) {
      if (dirty.full) continue;
      added.push(...dirty.added);
      byPeriod.delete(periodId);
    }
    for (const credit of added) {
      const dirty = dirtyOf(payeeId, periodIdOf(payeeId, credit.creditDate));
      if (!dirty.full) dirty.added.push(credit);
    }
  }

  async function expandFxChanges(transaction: ReadModelTransaction): Promise<void> {
    const seen = new Set<string>();
    for (const { fromCurrency, date } of batch.fxChanges) {
      const key = `${fromCurrency}|${date}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const rows = await transaction.all<{ payee_id: string }>('SELECT DISTINCT payee_id FROM statement_credits WHERE currency = ? AND credit_date = ? AND current = 1', [fromCurrency, date]);
      for (const row of rows) markFull(row.payee_id, periodIdOf(row.payee_id, date));
    }
  }

  /** Quotas of every payee with a dirty statement, by payee and period id: read a few hundred payees per query. */
  async function readQuotasOfDirtyPayees(transaction: ReadModelTransaction): Promise<Map<string, QuotaInput[]>> {
    const quotas = new Map<string, QuotaInput[]>();
    const payeeIds = [...batch.dirty.keys()];
    for (let start = 0; start < payeeIds.length; start += 256) {
      const chunk = payeeIds.slice(start, start + 256);
      const rows = await transaction.all<QuotaRow>(
        `SELECT payee_id, period_id, measure, amount FROM statement_quotas WHERE payee_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY payee_id, period_id, measure`,
        chunk,
      );
      for (const row of rows) {
        const quota = quotaInputOf(row.period_id, row.measure, row.amount);
        if (quota === null) continue;
        const key = statementKey(row.payee_id, row.period_id);
        const list = quotas.get(key);
        if (list === undefined) quotas.set(key, [quota]);
        else list.push(quota);
      }
    }
    return quotas;
  }

  /** This batch's current credits by statement, built on first use: all the credits of a period without a stored statement. */
  let batchCreditsByStatement: Map<string, CreditInput[]> | null = null;
  function batchCreditsOf(key: string): CreditInput[] {
    if (batchCreditsByStatement === null) {
      batchCreditsByStatement = new Map();
      for (const row of batch.credits.values()) {
        if (row === null || !row.current) continue;
        const statement = statementKey(row.payeeId, periodIdOf(row.payeeId, row.credit.creditDate));
        const list = batchCreditsByStatement.get(statement);
        if (list === undefined) batchCreditsByStatement.set(statement, [row.credit]);
        else list.push(row.credit);
      }
    }
    return batchCreditsByStatement.get(key) ?? [];
  }

  async function readPeriodCredits(transaction: ReadModelTransaction, dirty: DirtyStatement): Promise<CreditInput[]> {
    const rows = await transaction.all<CreditRow>(
      `SELECT ${CREDIT_COLUMNS} FROM statement_credits WHERE payee_id = ? AND credit_date >= ? AND credit_date <= ? AND current = 1`,
      [dirty.payeeId, dirty.period.start, dirty.period.end],
    );
    const credits: CreditInput[] = [];
    for (const row of rows) if (periodIdOf(dirty.payeeId, row.credit_date) === dirty.periodId) credits.push(creditInputOfRow(row));
    return credits;
  }

  interface FlushOutput {
    statements: SqlParameter[][];
    deletedStatements: DirtyStatement[];
  }

  function writeStatement(out: FlushOutput, dirty: DirtyStatement, statement: StatementSummary, creditCount: number, lastPosition: number): void {
    out.statements.push([
      dirty.payeeId,
      dirty.periodId,
      dirty.period.start,
      dirty.period.end,
      'computed',
      statement.currency,
      statement.totals.payable,
      statement.totals.held,
      JSON.stringify(statement.totals),
      JSON.stringify(statement.attainment),
      JSON.stringify(statement.heldCredits),
      statement.lineCount,
      creditCount,
      lastPosition,
      null,
      null,
    ]);
    addStatementPeriod(dirty.payeeId, dirty.periodId);
  }

  function writeFailed(out: FlushOutput, dirty: DirtyStatement, error: DomainError, creditCount: number, lastPosition: number): void {
    out.statements.push([
      dirty.payeeId,
      dirty.periodId,
      dirty.period.start,
      dirty.period.end,
      'failed',
      'XXX',
      '0',
      '0',
      '{}',
      '[]',
      '[]',
      0,
      creditCount,
      lastPosition,
      error.code,
      error.message,
    ]);
    addStatementPeriod(dirty.payeeId, dirty.periodId);
  }

  /**
   * A statement's new lines are written as soon as it is computed, not with the batch's other rows at the end: they
   * then die young in V8's heap instead of being copied by its collector, since engine states keep no lines.
   */
  const writeLines = async (transaction: ReadModelTransaction, dirty: DirtyStatement, lines: readonly StatementLine[], firstLineNumber: number): Promise<void> => {
    if (lines.length > 0) await insertLines(transaction, [{ payeeId: dirty.payeeId, periodId: dirty.periodId, firstLineNumber, lines }]);
  };

  const lastPositionOf = (credits: Iterable<CreditInput>): number => {
    let last = 0;
    for (const credit of credits) if (credit.position > last) last = credit.position;
    return last;
  };

  function touch(key: string, entry: EngineEntry): void {
    engines.delete(key);
    engines.set(key, entry);
  }

  /** Advances a state by credits that all sort after its last one; the new lines, or null when one does not. */
  function advance(state: CommissionPeriodState, added: CreditInput[]): StatementLine[] | null {
    added.sort(compareCredits);
    if (!sortsAfterLastApplied(state, added[0]!)) return null;
    const newLines: StatementLine[] = [];
    for (const credit of added) {
      const applied = applyCredit(state, credit);
      for (const line of applied.newLines) newLines.push(line);
    }
    return newLines;
  }

  const canAdvance = (entry: EngineEntry, dirty: DirtyStatement): boolean =>
    !dirty.full && dirty.added.length > 0 && (entry.fxRates === fxRates || dirty.added.every((credit) => credit.currency === entry.state.currency));

  async function recompute(transaction: ReadModelTransaction, dirty: DirtyStatement, quotasByStatement: Map<string, QuotaInput[]>, out: FlushOutput): Promise<void> {
    const key = statementKey(dirty.payeeId, dirty.periodId);
    const cached = engines.get(key);
    if (cached !== undefined && canAdvance(cached, dirty)) {
      try {
        const newLines = advance(cached.state, dirty.added);
        if (newLines !== null) {
          await writeLines(transaction, dirty, newLines, cached.lineCount);
          cached.lineCount += newLines.length;
          writeStatement(out, dirty, statementSummaryOf(cached.state), cached.credits.size, lastPositionOf(cached.credits.values()));
          touch(key, cached);
          counts.advanced++;
          return;
        }
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
    }
    engines.delete(key);
    const known = statementPeriods.get(dirty.payeeId)?.has(dirty.periodId) ?? false;
    // A period without a stored statement holds no stored credit: a new period's credits are the ones just added.
    const credits =
      cached !== undefined
        ? [...cached.credits.values()]
        : !known && !dirty.regrouped
          ? dirty.full
            ? batchCreditsOf(key)
            : dirty.added
          : await readPeriodCredits(transaction, dirty);
    if (credits.length === 0) {
      if (known) {
        out.deletedStatements.push(dirty);
        statementPeriods.get(dirty.payeeId)!.delete(dirty.periodId);
        counts.deleted++;
      }
      return;
    }
    const setup = { payeeId: dirty.payeeId, period: dirty.period, planVersions, assignments, quotas: quotasByStatement.get(key) ?? [], fxRates };
    const creditsById = new Map(credits.map((credit) => [credit.creditId, credit]));
    const lastPosition = lastPositionOf(credits);
    let state: CommissionPeriodState;
    const lines: StatementLine[] = [];
    try {
      state = startPeriod(setup, KEEP_NO_LINES);
      // After a restart or an eviction: rebuild the state from the credits stored before this batch, and add this
      // batch's credits incrementally when they sort after them, so that only the new lines are written.
      if (cached === undefined && known && !dirty.full && dirty.added.length > 0) {
        const addedIds = new Set(dirty.added.map((credit) => credit.creditId));
        const earlier = credits.filter((credit) => !addedIds.has(credit.creditId)).sort(compareCredits);
        for (const credit of earlier) applyCredit(state, credit);
        const stored = await transaction.get<{ line_count: number; status: string }>('SELECT line_count, status FROM statements WHERE payee_id = ? AND period_id = ?', [
          dirty.payeeId,
          dirty.periodId,
        ]);
        const linesBefore = lineCountOf(state);
        if (stored !== undefined && stored.status === 'computed' && stored.line_count === linesBefore) {
          const newLines = advance(state, dirty.added);
          if (newLines !== null) {
            await writeLines(transaction, dirty, newLines, linesBefore);
            writeStatement(out, dirty, statementSummaryOf(state), credits.length, lastPosition);
            remember(key, { payeeId: dirty.payeeId, periodId: dirty.periodId, state, credits: creditsById, fxRates, lineCount: linesBefore + newLines.length });
            counts.resumed++;
            return;
          }
        }
        state = startPeriod(setup, KEEP_NO_LINES);
      }
      for (const credit of [...credits].sort(compareCredits)) for (const line of applyCredit(state, credit).newLines) lines.push(line);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (known) await transaction.run('DELETE FROM statement_lines WHERE payee_id = ? AND period_id = ?', [dirty.payeeId, dirty.periodId]);
      writeFailed(out, dirty, error, credits.length, lastPosition);
      return;
    }
    if (known) await transaction.run('DELETE FROM statement_lines WHERE payee_id = ? AND period_id = ?', [dirty.payeeId, dirty.periodId]);
    await writeLines(transaction, dirty, lines, 0);
    writeStatement(out, dirty, statementSummaryOf(state), credits.length, lastPosition);
    remember(key, { payeeId: dirty.payeeId, periodId: dirty.periodId, state, credits: creditsById, fxRates, lineCount: lines.length });
    counts.recomputed++;
  }

  function remember(key: string, entry: EngineEntry): void {
    engines.delete(key);
    engines.set(key, entry);
  }

  async function flush(transaction: ReadModelTransaction): Promise<void> {
    // Read before writing when nothing read depends on this batch's rows (no quota set, no regrouping, no FX change):
    // a transaction that writes behind then need not wait for its rows to be written before the read.
    const readsFirst = batch.quotas.size === 0 && batch.restructure.size === 0 && batch.fxChanges.length === 0;
    const quotasRead = readsFirst ? await readQuotasOfDirtyPayees(transaction) : null;
    await writeInputs(transaction);
    if (batch.assignmentsChanged) rebuildAssignmentViews();
    if (batch.fxChanged) fxRates = [...fxRateInputs.values()];
    if (batch.restructure.size > 0) {
      for (const [key, entry] of engines) if (batch.restructure.has(entry.payeeId)) engines.delete(key);
      for (const [payeeId, fromDate] of batch.restructure) await expandRestructure(transaction, payeeId, fromDate);
    }
    if (batch.fxChanges.length > 0) await expandFxChanges(transaction);

    const out: FlushOutput = { statements: [], deletedStatements: [] };
    const quotasByStatement = quotasRead ?? (await readQuotasOfDirtyPayees(transaction));
    for (const byPeriod of batch.dirty.values()) {
      for (const dirty of byPeriod.values()) await recompute(transaction, dirty, quotasByStatement, out);
    }
    for (const dirty of out.deletedStatements) {
      await transaction.run('DELETE FROM statement_lines WHERE payee_id = ? AND period_id = ?', [dirty.payeeId, dirty.periodId]);
      await transaction.run('DELETE FROM statements WHERE payee_id = ? AND period_id = ?', [dirty.payeeId, dirty.periodId]);
    }
    await insertRows(
      transaction,
      `INSERT INTO statements (payee_id, period_id, period_start, period_end, status, currency, payable, held, totals, attainment, held_credits,
                               line_count, credit_count, last_position, error_code, error_message)`,
      out.statements,
      `ON CONFLICT (payee_id, period_id) DO UPDATE SET period_start = excluded.period_start, period_end = excluded.period_end,
         status = excluded.status, currency = excluded.currency, payable = excluded.payable, held = excluded.held, totals = excluded.totals,
         attainment = excluded.attainment, held_credits = excluded.held_credits, line_count = excluded.line_count,
         credit_count = excluded.credit_count, last_position = excluded.last_position, error_code = excluded.error_code,
         error_message = excluded.error_message`,
    );
    batch = new Batch();
    batchCreditsByStatement = null;
    // Least recently used first: evict from the front.
    if (engines.size > engineStatesCached) {
      let excess = engines.size - engineStatesCached;
      for (const key of engines.keys()) {
        if (excess-- <= 0) break;
        engines.delete(key);
      }
    }
    if (dealFacts.size > dealsCached) dealFacts.clear();
  }

  return {
    name: STATEMENTS_PROJECTION_NAME,
    version: 5,
    counts,
    filter: { eventTypes: STATEMENT_SOURCE_EVENT_TYPES },
    tables: STATEMENT_TABLES,

    async setup(transaction) {
      await createStatementTables(transaction);
      await load(transaction);
    },

    async reset(transaction) {
      forgetAll();
      await dropStatementTables(transaction);
    },

    apply(recorded: RecordedEvent, transaction: ReadModelTransaction) {
      if (!loaded) return load(transaction).then(() => applyEvent(recorded as SourcedEvent, transaction));
      return applyEvent(recorded as SourcedEvent, transaction);
    },

    async flush(transaction) {
      // Not loaded: nothing was applied since the last rolled-back batch.
      if (loaded) await flush(transaction);
    },

    discard() {
      forgetAll();
    },
  };
}
