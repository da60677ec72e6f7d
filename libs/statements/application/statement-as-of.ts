import type { EventStore, RecordedEvent } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { PeriodInput, Statement } from '#lib/commissions/domain/statement.js';
import { payeeStreamId } from '#lib/organization/domain/payee.decider.js';
import { dealStreamId } from '#lib/crediting/domain/deal.decider.js';
import { PayeeStatementHistory, type SourcedEvent } from '../domain/statement-history.js';
import { isStatementPeriodOf, versionsByPlanOf } from '../domain/statement-inputs.js';
import { fxStreamId, planAssignmentsStreamId, planStreamId, STATEMENT_SOURCE_EVENT_TYPES } from '../domain/statement-sources.js';
import { requireStatementPeriod } from './statement-queries.js';

/**
 * A statement as it stood at a past recorded time, reproduced from the log itself, not from a stored copy: the
 * payee's stream (quotas), assignment stream, the streams of the plans they were assigned to, of every deal that
 * ever credited them, and of the FX rates their credits need, keeping only events recorded at or before `asOf`,
 * folded and priced by the commission engine exactly as the read model prices the present.
 *
 * The read model is consulted for one thing: which deals ever credited the payee (its credits table keeps credits
 * that were taken back), so that the deal streams to read are known without scanning the log.
 */
export interface StatementAsOf {
  asOf: string;
  /** The last log position among the events used (0 when none was). */
  position: number;
  /** How many events of how many streams were folded. */
  eventsRead: number;
  streamsRead: number;
  statement: Statement;
}

const sourceTypes = new Set<string>(STATEMENT_SOURCE_EVENT_TYPES);

export function parseAsOf(asOf: string): number {
  // An ISO 8601 time with a date, a time and a zone, e.g. 2026-03-15T09:00:00Z: a bare date would be read as UTC midnight, silently.
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(asOf) ? Date.parse(asOf) : Number.NaN;
  if (Number.isNaN(time)) {
    throw validationError('REQUEST.AS_OF_INVALID', 'asOf must be an ISO 8601 time with a zone, e.g. 2026-03-15T09:00:00Z', [
      { field: 'asOf', message: 'must be an ISO 8601 time with a zone, e.g. 2026-03-15T09:00:00Z' },
    ]);
  }
  return time;
}

export async function statementAsOf(store: EventStore, db: ReadModelDb, query: { payeeId: string; periodId: string; asOf: string }): Promise<StatementAsOf> {
  const period = requireStatementPeriod(query.periodId);
  const asOfTime = parseAsOf(query.asOf);
  const reproduced = await reproduceStatement(store, db, query.payeeId, period, (event) => Date.parse(event.recordedAt) <= asOfTime, `at ${query.asOf}`);
  return { asOf: query.asOf, ...reproduced };
}

export interface StatementAtPosition {
  /** The last log position among the events used (0 when none was); at most the position asked for. */
  position: number;
  eventsRead: number;
  streamsRead: number;
  statement: Statement;
}

export interface StatementAtPositionQuery {
  payeeId: string;
  periodId: string;
  /** Only events at or before this global log position count. */
  position: number;
  /**
   * Deals whose cancellation is left out: they keep counting as if never cancelled. A closed period recomputed after a
   * cancellation whose plan says attainment is not reduced keeps the deal (its clawback settles the money).
   */
  ignoreCancellationOf?: ReadonlySet<string>;
}

/**
 * A statement as the log stood at a global position: what a frozen statement records (the position it was computed
 * at), so anyone can reproduce it and compare its digest, however much is appended later. The read model must
 * have reached `position` (it names the deals that ever credited the payee).
 */
export async function statementAtPosition(store: EventStore, db: ReadModelDb, query: StatementAtPositionQuery): Promise<StatementAtPosition> {
  const period = requireStatementPeriod(query.periodId);
  const ignored = query.ignoreCancellationOf;
  const keep = (event: RecordedEvent): boolean =>
    event.position <= query.position && !(ignored !== undefined && event.type === 'DealCancelled' && ignored.has((event.data as { dealId: string }).dealId));
  return reproduceStatement(store, db, query.payeeId, period, keep, `at log position ${query.position}`);
}

async function reproduceStatement(
  store: EventStore,
  db: ReadModelDb,
  payeeId: string,
  period: PeriodInput,
  keep: (event: RecordedEvent) => boolean,
  when: string,
): Promise<StatementAtPosition> {
  const dealIds = await db.read((reader) => reader.all<{ deal_id: string }>('SELECT DISTINCT deal_id FROM statement_credits WHERE payee_id = ? ORDER BY deal_id', [payeeId]));

  let streamsRead = 0;
  const kept = (event: RecordedEvent): boolean => sourceTypes.has(event.type) && keep(event);
  const readStreams = async (streamIds: readonly string[]): Promise<RecordedEvent[]> => {
    const events: RecordedEvent[] = [];
    for (const streamId of streamIds) {
      streamsRead++;
      for (const event of await store.readStream(streamId)) if (kept(event)) events.push(event);
    }
    return events;
  };

  // In three rounds, each naming the streams of the next: the payee's own and their deals; then their plans; then FX.
  const events = await readStreams([payeeStreamId(payeeId), planAssignmentsStreamId(payeeId), ...dealIds.map((row) => dealStreamId(row.deal_id))]);
  const probe = fold(payeeId, events);
  events.push(...(await readStreams(probe.assignedPlanIds().map(planStreamId))));
  const withPlans = fold(payeeId, events);
  const planCurrencies = [...new Set(withPlans.planVersions().map((version) => version.currency))].sort();
  const pairs: string[] = [];
  for (const from of withPlans.creditCurrencies()) for (const to of planCurrencies) if (from !== to) pairs.push(fxStreamId(from, to));
  events.push(...(await readStreams(pairs)));

  const history = fold(payeeId, events);
  if (!history.payeeOnboarded) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} was not onboarded ${when}`);
  const input = history.statementInput(period.id)!;
  if (input.credits.length === 0 && !isStatementPeriodOf(input.assignments, versionsByPlanOf(input.planVersions), period)) {
    throw validationError('STATEMENT.PERIOD_NOT_OF_PLAN', `Payee ${payeeId} had no statement for ${period.id} ${when}: their plan paid by another period`, [
      { field: 'periodId', message: "must be a period of the payee's plan frequency" },
    ]);
  }
  return {
    position: events.reduce((last, event) => Math.max(last, event.position), 0),
    eventsRead: events.length,
    streamsRead,
    statement: computeStatement(input),
  };
}

function fold(payeeId: string, events: RecordedEvent[]): PayeeStatementHistory {
  events.sort((left, right) => left.position - right.position);
  const history = new PayeeStatementHistory(payeeId);
  for (const event of events) history.apply(event as unknown as SourcedEvent);
  return history;
}
