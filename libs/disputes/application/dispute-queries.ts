import type { ReadModelDb, ReadModelReader, SqlParameter } from '#lib/projections/read-model.port.js';
import { WhereClause, clampLimit, toPage, type Page } from '#lib/projections/query-helpers.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { Money, formatMoney } from '#lib/shared/domain/money.js';
import { periodOfId } from '#lib/statements/domain/statement-inputs.js';
import { addCalendarDays, businessDaysBetween, dayNumberOf } from '../domain/business-days.js';
import {
  disputeCategories,
  disputeOutcomes,
  disputeStatuses,
  openDisputeStatuses,
  type ActorRecord,
  type DisputeCategory,
  type DisputeOutcome,
  type DisputeRemedy,
  type DisputeStatus,
  type DisputeSubject,
} from '../domain/dispute.decider.js';

/**
 * Read-side answers about disputes, from the disputes read model: one dispute with its timeline, a rep's own
 * disputes, the analyst queue, and aging and resolution-time statistics per period. "Today" comes from the caller
 * (the service clock): whether a dispute is overdue, and how old it is, depends on it.
 */

export interface DisputeSummary {
  disputeId: string;
  payeeId: string;
  filedBy: ActorRecord;
  category: DisputeCategory;
  subject: DisputeSubject;
  amountClaimed: string;
  currency: string;
  status: DisputeStatus;
  assigneeId: string | null;
  filedOn: string;
  filedAt: string;
  /** The due date in force: the analyst's, or the rep's while information is requested. */
  dueOn: string;
  /** Unresolved and past its due date today. */
  overdue: boolean;
  /** Calendar days since filing, as of today (until it closed). */
  ageDays: number;
  escalationLevel: number;
  outcome: DisputeOutcome | null;
  amountApproved: string | null;
  resolvedOn: string | null;
  reopenableUntil: string | null;
  remedy: DisputeRemedy | null;
  /** none: nothing to carry out; pending: the process has yet to; done; failed (see the timeline). */
  remedyStatus: 'none' | 'pending' | 'done' | 'failed';
  /** The dispute stream's revision: the ETag for If-Match on dispute commands. */
  revision: number;
}

export interface DisputeTimelineEntry {
  revision: number;
  type: string;
  actor: ActorRecord;
  occurredAt: string;
  recordedAt: string;
  eventId: string;
  position: number;
  /** The event's data (money as decimal strings). */
  details: Record<string, unknown>;
}

export interface DisputeView extends DisputeSummary {
  description: string;
  evidenceReferences: string[];
  timeline: DisputeTimelineEntry[];
}

interface DisputeRow {
  dispute_id: string;
  payee_id: string;
  filed_by_id: string;
  filed_by_role: string;
  category: DisputeCategory;
  subject: string;
  amount_claimed: string;
  currency: string;
  description: string;
  evidence: string;
  status: DisputeStatus;
  assignee_id: string | null;
  filed_on: string;
  filed_at: string;
  due_on: string;
  escalation_level: number;
  outcome: DisputeOutcome | null;
  amount_approved: string | null;
  resolved_on: string | null;
  reopenable_until: string | null;
  remedy: string | null;
  remedy_status: DisputeSummary['remedyStatus'];
  closed_on: string | null;
  revision: number;
}

const SUMMARY_COLUMNS =
  'dispute_id, payee_id, filed_by_id, filed_by_role, category, subject, amount_claimed, currency, status, assignee_id, filed_on, filed_at, due_on, ' +
  'escalation_level, outcome, amount_approved, resolved_on, reopenable_until, remedy, remedy_status, closed_on, revision';

const isOpen = (status: DisputeStatus): boolean => openDisputeStatuses.has(status);

function summaryOf(row: DisputeRow, today: string): DisputeSummary {
  return {
    disputeId: row.dispute_id,
    payeeId: row.payee_id,
    filedBy: { id: row.filed_by_id, role: row.filed_by_role },
    category: row.category,
    subject: JSON.parse(row.subject) as DisputeSubject,
    amountClaimed: row.amount_claimed,
    currency: row.currency,
    status: row.status,
    assigneeId: row.assignee_id,
    filedOn: row.filed_on,
    filedAt: row.filed_at,
    dueOn: row.due_on,
    overdue: isOpen(row.status) && row.due_on < today,
    ageDays: Math.max(0, dayNumberOf(row.closed_on ?? today) - dayNumberOf(row.filed_on)),
    escalationLevel: row.escalation_level,
    outcome: row.outcome,
    amountApproved: row.amount_approved,
    resolvedOn: row.resolved_on,
    reopenableUntil: row.reopenable_until,
    remedy: row.remedy === null ? null : (JSON.parse(row.remedy) as DisputeRemedy),
    remedyStatus: row.remedy_status,
    revision: row.revision,
  };
}

export async function getDispute(db: ReadModelDb, disputeId: string, today: string): Promise<DisputeView | null> {
  return db.read(async (reader) => {
    const row = await reader.get<DisputeRow>(`SELECT ${SUMMARY_COLUMNS}, description, evidence FROM disputes WHERE dispute_id = ?`, [disputeId]);
    if (row === undefined) return null;
    const timeline = await reader.all<{
      revision: number;
      event_type: string;
      event_id: string;
      position: number;
      actor_id: string;
      actor_role: string;
      occurred_at: string;
      recorded_at: string;
      details: string;
    }>('SELECT revision, event_type, event_id, position, actor_id, actor_role, occurred_at, recorded_at, details FROM dispute_timeline WHERE dispute_id = ? ORDER BY revision', [
      disputeId,
    ]);
    return {
      ...summaryOf(row, today),
      description: row.description,
      evidenceReferences: JSON.parse(row.evidence) as string[],
      timeline: timeline.map((entry) => ({
        revision: entry.revision,
        type: entry.event_type,
        actor: { id: entry.actor_id, role: entry.actor_role },
        occurredAt: entry.occurred_at,
        recordedAt: entry.recorded_at,
        eventId: entry.event_id,
        position: entry.position,
        details: JSON.parse(entry.details) as Record<string, unknown>,
      })),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Lists

function parseList<Value extends string>(values: readonly string[] | undefined, allowed: readonly Value[], field: string): Value[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw validationError('REQUEST.FILTER_INVALID', `${field} must be among ${allowed.join(', ')}`, [{ field, message: `must be among ${allowed.join(', ')}` }]);
    }
  }
  return values as Value[];
}

const inList = (column: string, values: readonly string[]): string => `${column} IN (${values.map(() => '?').join(', ')})`;

/** `after` keys are "<sort value>|<dispute id>"; the dispute id breaks ties. */
function splitAfter(after: string | undefined): [string, string] | null {
  if (after === undefined || after === '') return null;
  const bar = after.lastIndexOf('|');
  if (bar <= 0) throw validationError('REQUEST.AFTER_INVALID', 'after must be the nextAfter of the previous page', [{ field: 'after', message: 'must be the nextAfter of the previous page' }]);
  return [after.slice(0, bar), after.slice(bar + 1)];
}

export interface PayeeDisputesQuery {
  payeeId: string;
  statuses?: string[];
  limit?: number;
  after?: string;
}

/** A payee's disputes, newest first. */
export async function listPayeeDisputes(db: ReadModelDb, query: PayeeDisputesQuery, today: string): Promise<Page<DisputeSummary>> {
  const limit = clampLimit(query.limit);
  const where = new WhereClause().add('payee_id = ?', query.payeeId);
  const statuses = parseList(query.statuses, disputeStatuses, 'status');
  if (statuses) where.add(inList('status', statuses), ...statuses);
  const after = splitAfter(query.after);
  if (after) where.add('(filed_at < ? OR (filed_at = ? AND dispute_id < ?))', after[0], after[0], after[1]);
  const rows = await db.read((reader) =>
    reader.all<DisputeRow>(`SELECT ${SUMMARY_COLUMNS} FROM disputes ${where.sql()} ORDER BY filed_at DESC, dispute_id DESC LIMIT ?`, [...where.parameters, limit + 1]),
  );
  return toPage(rows, limit, (row) => summaryOf(row, today), (item) => `${item.filedAt}|${item.disputeId}`);
}

export interface DisputeQueueQuery {
  /** Default: every unresolved status (filed, under_review, info_requested). */
  statuses?: string[];
  categories?: string[];
  assigneeId?: string;
  /** Only disputes nobody is assigned to. */
  unassigned?: boolean;
  /** true: only unresolved disputes past their due date; false: only those not past it. */
  overdue?: boolean;
  /** Only disputes escalated at least once (true) or never (false). */
  escalated?: boolean;
  /** Age in calendar days since filing, inclusive bounds. */
  minAgeDays?: number;
  maxAgeDays?: number;
  payeeId?: string;
  limit?: number;
  after?: string;
}

/** The analyst queue: most urgent (earliest due) first. */
export async function disputeQueue(db: ReadModelDb, query: DisputeQueueQuery, today: string): Promise<Page<DisputeSummary>> {
  const limit = clampLimit(query.limit);
  const where = new WhereClause();
  const statuses = parseList(query.statuses, disputeStatuses, 'status') ?? [...openDisputeStatuses];
  where.add(inList('status', statuses), ...statuses);
  const categories = parseList(query.categories, disputeCategories, 'category');
  if (categories) where.add(inList('category', categories), ...categories);
  if (query.assigneeId !== undefined) where.add('assignee_id = ?', query.assigneeId);
  if (query.unassigned === true) where.add('assignee_id IS NULL');
  if (query.payeeId !== undefined) where.add('payee_id = ?', query.payeeId);
  const openStatuses = [...openDisputeStatuses];
  if (query.overdue === true) where.add(`due_on < ? AND ${inList('status', openStatuses)}`, today, ...openStatuses);
  if (query.overdue === false) where.add(`NOT (due_on < ? AND ${inList('status', openStatuses)})`, today, ...openStatuses);
  if (query.escalated === true) where.add('escalation_level > 0');
  if (query.escalated === false) where.add('escalation_level = 0');
  if (query.minAgeDays !== undefined) where.add('filed_on <= ?', addCalendarDays(today, -query.minAgeDays));
  if (query.maxAgeDays !== undefined) where.add('filed_on >= ?', addCalendarDays(today, -query.maxAgeDays));
  const after = splitAfter(query.after);
  if (after) where.add('(due_on > ? OR (due_on = ? AND dispute_id > ?))', after[0], after[0], after[1]);
  const parameters: SqlParameter[] = [...where.parameters, limit + 1];
  const rows = await db.read((reader) => reader.all<DisputeRow>(`SELECT ${SUMMARY_COLUMNS} FROM disputes ${where.sql()} ORDER BY due_on, dispute_id LIMIT ?`, parameters));
  return toPage(rows, limit, (row) => summaryOf(row, today), (item) => `${item.dueOn}|${item.disputeId}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics

export interface BusinessDayFigures {
  count: number;
  mean: number;
  median: number;
  p90: number;
  max: number;
}

export interface DisputeStatistics {
  periodId: string;
  from: string;
  to: string;
  /** The date ages are measured to. */
  asOf: string;
  filed: { count: number; byCategory: Record<string, number>; byStatus: Record<string, number> };
  resolved: {
    count: number;
    byOutcome: Record<string, number>;
    /** Business days from filing (or reopening) to resolution. */
    businessDaysToResolve: BusinessDayFigures | null;
    byCategory: Record<string, BusinessDayFigures>;
    /** Claimed and approved totals per currency (decimal strings). */
    amounts: { currency: string; claimed: string; approved: string }[];
  };
  /** The disputes filed in the period that are still unresolved, by business days open. */
  aging: { open: number; overdue: number; buckets: { businessDays: string; count: number }[] };
}

const AGING_BUCKETS: { label: string; from: number; to: number }[] = [
  { label: '0-5', from: 0, to: 5 },
  { label: '6-10', from: 6, to: 10 },
  { label: '11-20', from: 11, to: 20 },
  { label: '21+', from: 21, to: Number.POSITIVE_INFINITY },
];

/** Nearest-rank percentile of sorted values. */
const rank = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

function figuresOf(values: number[]): BusinessDayFigures {
  const sorted = [...values].sort((left, right) => left - right);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { count: sorted.length, mean: Math.round(mean * 100) / 100, median: rank(sorted, 50), p90: rank(sorted, 90), max: sorted[sorted.length - 1] };
}

export async function disputeStatistics(db: ReadModelDb, periodId: string, today: string): Promise<DisputeStatistics> {
  const period = periodOfId(periodId);
  if (period === null) {
    throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [{ field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' }]);
  }
  const { start: from, end: to } = period;
  return db.read(async (reader: ReadModelReader) => {
    const filedRows = await reader.all<{ category: string; status: DisputeStatus; filed_on: string; due_on: string }>(
      'SELECT category, status, filed_on, due_on FROM disputes WHERE filed_on BETWEEN ? AND ?',
      [from, to],
    );
    const resolutionRows = await reader.all<{ category: string; outcome: string; opened_on: string; resolved_on: string; amount_claimed: string; amount_approved: string; currency: string }>(
      'SELECT category, outcome, opened_on, resolved_on, amount_claimed, amount_approved, currency FROM dispute_resolutions WHERE resolved_on BETWEEN ? AND ?',
      [from, to],
    );

    const count = <Key extends string>(keys: readonly Key[], values: readonly string[]): Record<string, number> => {
      const counts: Record<string, number> = Object.fromEntries(keys.map((key) => [key, 0]));
      for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
      return counts;
    };

    const open = filedRows.filter((row) => isOpen(row.status));
    const buckets = AGING_BUCKETS.map((bucket) => ({ businessDays: bucket.label, count: 0 }));
    for (const row of open) {
      const days = Math.max(0, businessDaysBetween(row.filed_on, today));
      buckets[AGING_BUCKETS.findIndex((bucket) => days >= bucket.from && days <= bucket.to)].count++;
    }

    const daysToResolve = resolutionRows.map((row) => Math.max(0, businessDaysBetween(row.opened_on, row.resolved_on)));
    const byCategory: Record<string, BusinessDayFigures> = {};
    for (const category of disputeCategories) {
      const values = resolutionRows.flatMap((row, index) => (row.category === category ? [daysToResolve[index]] : []));
      if (values.length > 0) byCategory[category] = figuresOf(values);
    }
    const amountsByCurrency = new Map<string, { claimed: Money; approved: Money }>();
    for (const row of resolutionRows) {
      const totals = amountsByCurrency.get(row.currency) ?? { claimed: new Money(0), approved: new Money(0) };
      amountsByCurrency.set(row.currency, { claimed: totals.claimed.plus(row.amount_claimed), approved: totals.approved.plus(row.amount_approved) });
    }

    return {
      periodId,
      from,
      to,
      asOf: today,
      filed: { count: filedRows.length, byCategory: count(disputeCategories, filedRows.map((row) => row.category)), byStatus: count(disputeStatuses, filedRows.map((row) => row.status)) },
      resolved: {
        count: resolutionRows.length,
        byOutcome: count(disputeOutcomes, resolutionRows.map((row) => row.outcome)),
        businessDaysToResolve: daysToResolve.length === 0 ? null : figuresOf(daysToResolve),
        byCategory,
        amounts: [...amountsByCurrency.entries()]
          .sort(([left], [right]) => left.localeCompare(right))
          .map(([currency, totals]) => ({ currency, claimed: formatMoney(totals.claimed, currency), approved: formatMoney(totals.approved, currency) })),
      },
      aging: { open: open.length, overdue: open.filter((row) => row.due_on < today).length, buckets },
    };
  });
}
